// Swap and page reclaim: what vm.c, proc.c and the system calls see.
//
//   swap.c     swap slots on the swap disk (per-slot reference counts),
//              swap entries in PTEs, the major fault that reads one back
//   reclaim*.c the list of anonymous pages, the reclaim thread, waiting
//              for memory, and taking pages out of every address space
//              (reclaim_int.h says which file does what)
//   policy.c   which page goes next (sysctl vm.policy)
//
// A private anonymous page (heap, stack, private mmap, a copy-on-write
// copy) that reclaim takes away leaves a swap entry in each PTE that
// mapped it: not present, SWP_MARK set, the slot number in the address
// bits. Every swap entry holds one reference to its slot, so a page shared
// copy-on-write by several processes is written once and read back by
// each of them on its next touch.
//
// A page read back from swap keeps its slot (swap = slot + 1, the only
// reference left to that slot) and is mapped read-only. Taken away again
// before anyone stores to it, it needs no write: the copy on disk is
// still right. The first store faults; the page then forgets its slot
// (swap_page_written) and becomes writable. Invariant: a page that has a
// slot is read-only in every page table.
//
// Lock order (with mobj.h's): rmap lock -> reclaim lock (reclaim.c) ->
// object lock (mobj.c) -> swap lock (swap.c) -> buddy lock; the
// object-swap sleeplock (swap.c) and the round sleeplock (reclaim.c) come
// before every spinlock. The address-space holds (proc_vm_*,
// proc.c) come before all of them: reclaim only rewrites the PTEs of a
// space it holds, under the rmap lock.
#ifndef KSWAP_H
#define KSWAP_H
#include "types.h"

#define SWP_MARK     0x2              // a not-present PTE holding a swap entry
#define SWP_ENTRY(slot)  (((slot) << 12) | SWP_MARK)
#define SWP_IS_ENTRY(pte) (((pte) & (PTE_P | SWP_MARK)) == SWP_MARK)
#define SWP_SLOT(pte)    ((uint)(pte) >> 12)

// struct page.pflags of anonymous pages (mobj.h's PG_DIRTY is 1)
#define PG_LISTED  2    // (unused: a page is on the reclaim list while its next is set)
#define PG_REFD    4    // accessed since the policy last looked (clock)
#define PG_VICTIM  8    // being taken away by reclaim right now

// Policies (sysctl vm.policy)
#define POLICY_FIFO   0
#define POLICY_CLOCK  1
#define POLICY_RANDOM 2
#define POLICY_LRU    3   // aging: an 8-bit history of accessed bits per page

struct vma;
struct proc;
struct page;
struct mobj;

// swap.c
void swap_init(void);
int  swap_slot_alloc(void);           // a free slot with one reference, or -1
void swap_slot_dup(uint slot);        // one more reference
void swap_slot_put(uint slot);        // one fewer; the last frees the slot
uint swap_slot_refs(uint slot);
void swap_stat(uint *total, uint *used);
int  swap_pte_dup(pde_t *dst, uint va, pte_t e);    // fork: 0 or -ENOMEM
void swap_pte_free(pte_t e);          // a swap entry is going away
int  swap_fault(pde_t *pgdir, struct vma *v, uint va, pte_t *pte, uint err, int *how);
void swap_page_written(void *kva);    // the page is about to be writable: forget its slot
int  swap_page_copy_get(struct page *pg);  // reclaim: its slot + 1, referenced, or 0
int  swap_write(void *kva, uint slot); // 0, or -1 (the slot is marked bad)
int  swap_check_refs(const ushort *cnt);
int  swap_obj_in(struct mobj *o, uint pgno, void **kvap);   // shared anon page back: 0 or -errno
int  swap_obj_out(struct mobj *o, uint pgno, void *kva, uint slot);  // 1 if it left the object
void swap_obj_free(struct mobj *o);  // audit: slots whose count is wrong
extern int swap_dirtybit;             // sysctl vm.swap_dirtybit: 0 = write every page taken

// reclaim.c
void reclaim_start(void);
void reclaim_track(void *kva);        // a new anonymous user page is mapped
void reclaim_forget(void *kva);       // a user page is being freed
int  reclaim_wait(void);              // out of memory in a fault: 0 retry, -ENOMEM, -EINTR
int  reclaim_inflight_copy(uint slot, void *kva);  // slot being written: copied from memory
extern int reclaim_policy;            // sysctl vm.policy (POLICY_*)
extern int reclaim_file_errors;       // sysctl vm.reclaim_errors: failed write-backs (reclaim_file.c)
int  reclaim_audit(void);             // slots whose count is wrong, or -EBUSY / -ENOMEM

// reclaim_local.c: a process held to a fixed number of frames (setframes)
#define FRAMES_MAX 256
void reclaim_local_admit(struct proc *p, uint va);   // its fault brought page va in
void reclaim_local_forget(struct proc *p);           // exec, the end of the process

// policy.c: choose up to n victims from the list (reclaim lock held)
int  policy_pick(struct page *head, struct page **out, int n, uint *scanned, int swapfull);
void policy_aging_tick(struct page *pg, int accessed);
uint policy_rand(void);
#endif
