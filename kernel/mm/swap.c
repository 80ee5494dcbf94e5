// Swap slots and swap entries (swap.h): the slot allocator with a
// reference count per slot, what fork and unmapping do with a swap entry,
// and the major fault that reads a page back.
//
// The swap lock guards the reference counts and the allocator's hand; it
// is taken inside the rmap and reclaim locks (swap.h) and never held while
// sleeping. The disk itself is scratch (dev/swapdisk.c): a slot is always
// written before it is read.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "errno.h"
#include "memstat.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "mm/buddy.h"
#include "mm/vm.h"
#include "mm/vma.h"
#include "mm/mobj.h"
#include "mm/swap.h"
#include "trace/trace.h"

#define SWAP_BAD 0x8000          // the slot's write failed: reading it back kills

static struct {
  struct spinlock lock;
  ushort *ref;                   // references per slot (swap entries, a page's copy)
  uint nslots;
  uint used;                     // slots with a reference
  uint hand;                     // next slot to look at (next fit)
} sw;

int swap_dirtybit = 1;

// Serializes reading a shared anonymous page back with taking one to swap
// (swap_obj_in, swap_obj_out): an object's swapslots change under it.
static struct sleeplock objswap;

// Size the slot table from the swap disk. Call once, after swapdisk_init,
// before any process runs. Without a disk there are no slots.
void
swap_init(void)
{
  uint n = swapdisk_pages(), bytes;
  int order = 0;

  initlock(&sw.lock, "swap");
  initsleeplock(&objswap, "objswap");
  if(n > 65536 * 8)
    n = 65536 * 8;               // 2 GiB of swap is plenty for a 32-bit guest
  bytes = n * sizeof(ushort);
  while(order < BUDDY_MAXORDER && (PGSIZE << order) < bytes)
    order++;
  if(n == 0 || (sw.ref = page_alloc(order)) == 0)
    return;
  if((PGSIZE << order) < bytes)
    n = (PGSIZE << order) / sizeof(ushort);
  memset(sw.ref, 0, n * sizeof(ushort));
  sw.nslots = n;
}

// A free slot with one reference, or -1 when swap is full (or absent).
int
swap_slot_alloc(void)
{
  uint i, s;

  acquire(&sw.lock);
  for(i = 0; i < sw.nslots; i++){
    s = (sw.hand + i) % sw.nslots;
    if(sw.ref[s] == 0){
      sw.ref[s] = 1;
      sw.used++;
      sw.hand = s + 1;
      release(&sw.lock);
      return s;
    }
  }
  release(&sw.lock);
  return -1;
}

void
swap_slot_dup(uint slot)
{
  acquire(&sw.lock);
  if(slot >= sw.nslots || (sw.ref[slot] & ~SWAP_BAD) == 0 ||
     (sw.ref[slot] & ~SWAP_BAD) == (ushort)~SWAP_BAD)
    panic("swap_slot_dup: bad slot");
  sw.ref[slot]++;
  release(&sw.lock);
}

void
swap_slot_put(uint slot)
{
  acquire(&sw.lock);
  if(slot >= sw.nslots || (sw.ref[slot] & ~SWAP_BAD) == 0)
    panic("swap_slot_put: slot not in use");
  if(--sw.ref[slot] == SWAP_BAD)
    sw.ref[slot] = 0;
  if(sw.ref[slot] == 0)
    sw.used--;
  release(&sw.lock);
}

uint
swap_slot_refs(uint slot)
{
  uint n;

  acquire(&sw.lock);
  n = slot < sw.nslots ? sw.ref[slot] & ~SWAP_BAD : 0;
  release(&sw.lock);
  return n;
}

// The slot's write failed: whoever reads it back is killed, not fed junk.
static void
slot_mark_bad(uint slot)
{
  acquire(&sw.lock);
  sw.ref[slot] |= SWAP_BAD;
  release(&sw.lock);
}

static int
slot_is_bad(uint slot)
{
  int bad;

  acquire(&sw.lock);
  bad = (sw.ref[slot] & SWAP_BAD) != 0;
  release(&sw.lock);
  return bad;
}

// Slots in all and in use (the memstat numbers for free and vmstat).
void
swap_stat(uint *total, uint *used)
{
  acquire(&sw.lock);
  *total = sw.nslots;
  *used = sw.used;
  release(&sw.lock);
}

void
swap_memstat(struct memstat *ms)
{
  swap_stat(&ms->swap_pages, &ms->swap_used);
}

// Write page kva to slot (reclaim). 0 or -1 (the slot is marked bad).
int
swap_write(void *kva, uint slot)
{
  if(swapdisk_rw(kva, slot, 1) < 0){
    slot_mark_bad(slot);
    return -1;
  }
  return 0;
}

// fork: dst gets the swap entry e at va too (one more reference to its
// slot). 0, or -ENOMEM if a page table cannot be had.
int
swap_pte_dup(pde_t *dst, uint va, pte_t e)
{
  pte_t *pte = vm_walk(dst, va, 1);

  if(pte == 0)
    return -ENOMEM;
  swap_slot_dup(SWP_SLOT(e));
  *pte = e;
  return 0;
}

// A swap entry is being removed from a page table (munmap, exit).
void
swap_pte_free(pte_t e)
{
  swap_slot_put(SWP_SLOT(e));
}

// The page kva is about to become writable (a store fault, mprotect): its
// copy on disk will be stale, so it lets go of its slot.
void
swap_page_written(void *kva)
{
  struct page *pg = page_of(kva);
  uint s;

  if(pg == 0 || pg->obj || pg->swap == 0)
    return;
  if((s = __sync_lock_test_and_set(&pg->swap, 0)) != 0)   // once, if two race
    swap_slot_put(s - 1);
}

// Reclaim: a reference to page pg's own swap copy, if it has one, taken
// in one step with reading pg->swap (swap_page_written, in a store fault
// of the owner, may drop the page's reference to it any time). Returns
// the slot + 1 (referenced), or 0 if the page has no copy.
int
swap_page_copy_get(struct page *pg)
{
  uint s;

  acquire(&sw.lock);
  s = pg->swap;
  if(s && (s - 1 >= sw.nslots || (sw.ref[s - 1] & ~SWAP_BAD) == 0))
    panic("swap_page_copy_get: a page's slot not in use");
  if(s)
    sw.ref[s - 1]++;
  release(&sw.lock);
  return s;
}

// Read slot into kva: from the page itself if a reclaim round is still
// writing it, else from the disk. While the disk reads, the faulting
// process leaves its VM critical section, so reclaim may take its other
// pages meanwhile (this PTE is not present: reclaim leaves it alone, and
// only the sleeping owner could change it). 0 or -1.
static int
read_slot(pde_t *pgdir, pte_t *pte, uint slot, void *kva)
{
  struct proc *p = myproc();
  int own = p && p->pgdir == pgdir && p->vmhold == 1, r;

  if(reclaim_inflight_copy(slot, kva))
    return 0;
  if(own)
    proc_vm_leave(p);
  r = swapdisk_rw(kva, slot, 0);
  if(own)
    proc_vm_enter(p);
  return r;
}

// Read the page of the swap entry *pte back (a major fault at va of
// mapping v) and map it in its place. 0, or -ENOMEM / -EIO with *how set.
static int
swap_in(pde_t *pgdir, struct vma *v, uint va, pte_t *pte, int write, int *how)
{
  uint slot = SWP_SLOT(*pte), shared;
  void *kva;
  struct page *pg;
  int bits = vm_pte_bits(v->prot);

  if(slot_is_bad(slot)){
    printf("swap: slot %d was never written (disk error): page at 0x%x lost\n", slot, va);
    *how = TF_BAD_ADDR;
    return -EIO;
  }
  if((kva = page_alloc(0)) == 0){
    *how = TF_OOM;
    return -ENOMEM;
  }
  if(read_slot(pgdir, pte, slot, kva) < 0){
    page_free(kva, 0);
    *how = TF_BAD_ADDR;
    return -EIO;
  }
  if(SWP_SLOT(*pte) != slot || !SWP_IS_ENTRY(*pte)){
    page_free(kva, 0);                 // (cannot happen: only the owner changes it)
    *how = TF_SPURIOUS;
    return 0;
  }
  pg = page_of(kva);
  shared = swap_slot_refs(slot) > 1;
  if(write || shared || !swap_dirtybit){
    swap_slot_put(slot);               // this copy goes its own way
  } else {
    pg->swap = slot + 1;               // the entry's reference becomes the page's
    bits &= ~PTE_W;                    // the first store must tell us (swap.h)
  }
  *pte = V2P(kva) | bits;
  reclaim_track(kva);
  trace_record_cnt(TEV_SWAP_IN, (uint[TRACE_NWORDS]){ va, slot, shared }, VM_SWAP_IN, 1, VM_NONE, VM_NONE);
  *how = TF_SWAP;
  return 0;
}

// The fault path's one call (vm_fault_space): handles a fault on a swap
// entry (read it back) and a store to a page that still has a swap copy
// (forget the copy, then let the ordinary path make it writable). Returns
// 1 if it resolved the fault (*how = TF_SWAP), 0 if the ordinary path
// goes on, or -ENOMEM / -EIO (*how set). Caller holds the space
// (proc_vm_enter).
int
swap_fault(pde_t *pgdir, struct vma *v, uint va, pte_t *pte, uint err, int *how)
{
  if(pte == 0)
    return 0;
  if(SWP_IS_ENTRY(*pte)){
    int r = swap_in(pgdir, v, va, pte, (err & PF_WRITE) != 0, how);
    return r == 0 ? 1 : r;
  }
  if((*pte & PTE_P) && (err & PF_WRITE))
    swap_page_written(P2V(PTE_ADDR(*pte)));
  return 0;
}

// The audit's last step: compare each slot's reference count with the
// references counted (cnt, a ushort per slot) and the used total. Returns
// the number of slots that disagree (the used total counts as one more).
int
swap_check_refs(const ushort *cnt)
{
  uint s, used = 0;
  int bad = 0;

  acquire(&sw.lock);
  for(s = 0; s < sw.nslots; s++){
    if((sw.ref[s] & ~SWAP_BAD) != cnt[s])
      bad++;
    if(sw.ref[s])
      used++;
  }
  if(used != sw.used)
    bad++;
  release(&sw.lock);
  return bad;
}

// ---- shared anonymous memory ---------------------------------------------
// A page of a shared anonymous object (vma_shared.c) goes to swap whole:
// reclaim removes every PTE of it (they become absent, not swap entries),
// writes it, and the object remembers the slot (o->swapslots). The next
// fault on it, in any process, reads it back into the object.

// The fault of a shared anonymous object's page that is not in memory:
// if it is in swap, read it back into the object and set *kvap to it
// (referenced); else *kvap = 0 (zero-fill it). 0, -ENOMEM or -EIO.
int
swap_obj_in(struct mobj *o, uint pgno, void **kvap)
{
  uint s;
  void *kva;

  *kvap = 0;
  if(o->swapslots == 0 || o->swapslots[pgno] == 0)
    return 0;
  acquiresleep(&objswap);
  if((*kvap = mobj_lookup(o, pgno)) != 0 || (s = o->swapslots[pgno]) == 0){
    releasesleep(&objswap);
    return 0;
  }
  if((kva = page_alloc(0)) == 0){
    releasesleep(&objswap);
    return -ENOMEM;
  }
  if(slot_is_bad(s - 1) ||
     (!reclaim_inflight_copy(s - 1, kva) && swapdisk_rw(kva, s - 1, 0) < 0)){
    page_free(kva, 0);
    releasesleep(&objswap);
    return -EIO;
  }
  *kvap = mobj_insert(o, pgno, kva);
  o->swapslots[pgno] = 0;             // after the insert: a racing fault finds the page
  releasesleep(&objswap);
  swap_slot_put(s - 1);
  trace_record_cnt(TEV_SWAP_IN, (uint[TRACE_NWORDS]){ 0, s - 1, 1 }, VM_SWAP_IN, 1, VM_NONE, VM_NONE);
  return 0;
}

// Reclaim: page kva of o at pgno, written to slot, leaves the object if
// nobody but the index and the caller uses it; the object then owns the
// slot's reference. Returns 1 if it left (else the caller keeps the slot).
int
swap_obj_out(struct mobj *o, uint pgno, void *kva, uint slot)
{
  int done;

  acquiresleep(&objswap);
  done = mobj_evict(o, pgno, kva, 2);
  if(done)
    o->swapslots[pgno] = slot + 1;
  releasesleep(&objswap);
  return done;
}

// A shared anonymous object is being freed: let go of its slots.
void
swap_obj_free(struct mobj *o)
{
  uint i;

  if(o->swapslots == 0)
    return;
  for(i = 0; i < o->span; i++)
    if(o->swapslots[i])
      swap_slot_put(o->swapslots[i] - 1);
  kfree(o->swapslots);
  o->swapslots = 0;
}
