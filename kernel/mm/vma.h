// Mappings: the ranges of a user address space and what backs them.
//
// User address-space layout (all boundaries page-aligned):
//   0                  page 0, never mapped
//   0x1000 ...         program segments from exec (text, data, bss)
//   heapbase .. brk    the heap (one mapping, grown/shrunk by sbrk)
//   ...                free; mmap hands out space top-down below UMMAP_TOP
//   UMMAP_TOP          guard gap, STACK_GUARD_GAP bytes (never mapped)
//   USTACK_BOTTOM      user stack, USTACK_SIZE bytes, lazily zero-filled
//   USTACK_TOP         = USERTOP = KERNBASE
#ifndef KVMA_H
#define KVMA_H
#include "types.h"
#include "arch/memlayout.h"

#define USTACK_SIZE   (256 * 1024)
#define USTACK_TOP    USERTOP
#define USTACK_BOTTOM (USTACK_TOP - USTACK_SIZE)
// A function whose frame is bigger than the rest of the stack steps below
// USTACK_BOTTOM in one go; the gap makes it fault (and be killed) instead
// of landing in the mapping below. 256 pages, like Linux's stack_guard_gap.
#define STACK_GUARD_GAP (256 * 4096)
#define UMMAP_TOP     (USTACK_BOTTOM - STACK_GUARD_GAP)   // the gap sits above this

// What a mapping is for (struct vma.kind).
#define VMA_ANON   0    // anonymous memory (program segments, mmap'd anonymous)
#define VMA_HEAP   1    // the sbrk heap
#define VMA_STACK  2    // the user stack
#define VMA_FILE   3    // file-backed (ops != 0)

struct vma;
struct file;
struct mobj;

// Per-mapping operations for non-anonymous memory. Anonymous mappings have
// ops == 0 and are handled by vm.c (lazy zero-fill, copy on fork).
struct vma_ops {
  // Bring in the page at page-aligned va (inside v) and map it. 0, 1 (it
  // was read back from swap: a major fault), 2 (read from the file's
  // disk: a major fault too), or -errno.
  int  (*fault)(struct vma *v, pde_t *pgdir, uint va, int write);
  // Write back [start, end) of v, because of why (TW_MSYNC, TW_MUNMAP,
  // TW_EXIT: msync, munmap, address space torn down). 0 or -errno.
  int  (*sync)(struct vma *v, pde_t *pgdir, uint start, uint end, int why);
  // dst is a copy of src (fork or split): take the references it needs.
  int  (*dup)(struct vma *dst, struct vma *src);
  // v is going away: drop its references.
  void (*close)(struct vma *v);
};
// fork (vma_dup_list) shares private pages read-only when vm.cow=1; the
// fault path copies one on its first write (fault_cow in vm.c).

struct vma {
  uint start;                  // first address (page-aligned)
  uint end;                    // one past the last (page-aligned)
  int prot;                    // PROT_* (mman.h)
  int flags;                   // MAP_* (mman.h)
  int kind;                    // VMA_*
  struct file *file;           // backing file, or 0
  uint offset;                 // offset of start in the file or object
  const struct vma_ops *ops;   // 0 for private anonymous memory
  struct vma *next;            // next mapping, in address order
  struct mobj *obj;            // memory object mapped (mobj.h), or 0
  pde_t *pgdir;                // the address space it is in (set with obj)
  struct vma *rnext;           // next mapping of obj (the reverse map, rmap.c)
};

struct proc;

struct vma *vma_find(struct vma *list, uint va);                 // mapping containing va, or 0
struct vma *vma_overlap(struct vma *list, uint start, uint end); // first mapping meeting [start,end), or 0
struct vma *vma_new(uint start, uint end, int prot, int flags, int kind);  // 0 on ENOMEM
int   vma_insert(struct vma **list, struct vma *v);              // 0, or -EINVAL if it overlaps
struct vma *vma_split(struct vma *v, uint addr);                 // second half, or 0 on ENOMEM
int   vma_unmap(pde_t *pgdir, struct vma **list, uint start, uint end);  // 0 or -ENOMEM
void  vma_free(struct vma *v);                                   // ops->close + kfree
int   vma_dup_list(pde_t *dstpg, struct vma **dst, pde_t *srcpg, struct vma *src);  // fork
void  vma_merge(struct vma **list);                              // join compatible neighbours
uint  vma_find_gap(struct vma *list, uint len);                  // free range top-down; 0 if none
int   vma_brk(struct proc *p, int n);                            // sbrk: old break, or -ENOMEM
int   vma_covered(struct vma *list, uint start, uint end);       // is every page of the range mapped?
int   vma_mmap(struct proc *p, uint addr, uint len, int prot, int flags,
               struct file *f, uint off);                         // start, or -errno
int   vma_protect(struct proc *p, uint start, uint end, int prot);         // 0 or -ENOMEM
int   vma_sync(struct proc *p, uint start, uint end);            // msync: 0 or -errno

// vma_file.c: the file backing (struct vma_ops for mmap of a regular file).
extern int vm_msync_all;   // sysctl vm.msync_all: 1 = msync writes every cached page, not just dirty ones
int   vma_file_check(struct file *f, int prot, int flags);       // may f be mapped so? 0, -EBADF, -EACCES
int   vma_file_attach(struct vma *v, struct file *f, uint off);  // back v by f from off: 0 or -ENOMEM
// vma_shared.c: shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS).
int   vma_shared_attach(struct vma *v);                          // 0 or -ENOMEM
#endif
