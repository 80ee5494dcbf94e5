// Mappings (struct vma): a sorted, non-overlapping, singly-linked list per
// address space. This file edits the list (insert, split, trim, merge,
// unmap, duplicate for fork) and implements sbrk on top of it; vm.c owns
// the page tables the mappings describe.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "errno.h"
#include "mman.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "mm/vm.h"
#include "mm/vma.h"
#include "tracectl.h"

struct vma *
vma_find(struct vma *list, uint va)
{
  struct vma *v;

  for(v = list; v && v->start <= va; v = v->next)
    if(va < v->end)
      return v;
  return 0;
}

struct vma *
vma_overlap(struct vma *list, uint start, uint end)
{
  struct vma *v;

  for(v = list; v && v->start < end; v = v->next)
    if(v->end > start)
      return v;
  return 0;
}

// A new anonymous mapping of [start, end) (not on any list); 0 on ENOMEM.
struct vma *
vma_new(uint start, uint end, int prot, int flags, int kind)
{
  struct vma *v = kzalloc_wait(sizeof(*v));

  if(v == 0)
    return 0;
  v->start = start;
  v->end = end;
  v->prot = prot;
  v->flags = flags;
  v->kind = kind;
  return v;
}

// Put v on the list in address order. -EINVAL if it overlaps a mapping.
int
vma_insert(struct vma **list, struct vma *v)
{
  struct vma **pp = list;

  if(v->start >= v->end || vma_overlap(*list, v->start, v->end))
    return -EINVAL;
  while(*pp && (*pp)->start < v->start)
    pp = &(*pp)->next;
  v->next = *pp;
  *pp = v;
  return 0;
}

// Release a mapping that is already off its list (its pages are the
// caller's business).
void
vma_free(struct vma *v)
{
  if(v->ops && v->ops->close)
    v->ops->close(v);
  kfree(v);
}

// Split v at page-aligned addr (start < addr < end): v keeps [start, addr),
// the returned new mapping (linked after v) gets [addr, end).
// 0 on ENOMEM, with v unchanged.
struct vma *
vma_split(struct vma *v, uint addr)
{
  struct vma *nv;

  if(addr <= v->start || addr >= v->end || (addr & (PGSIZE - 1)))
    panic("vma_split: bad address");
  if((nv = kmalloc_wait(sizeof(*nv))) == 0)
    return 0;
  *nv = *v;
  nv->start = addr;
  nv->offset = v->offset + (addr - v->start);
  if(v->ops && v->ops->dup && v->ops->dup(nv, v) < 0){
    kfree(nv);
    return 0;
  }
  v->end = addr;
  v->next = nv;
  return nv;
}

// Write back and remove the pages of [start, end) inside v.
static void
drop_pages(pde_t *pgdir, struct vma *v, uint start, uint end)
{
  if(v->ops && v->ops->sync && (v->flags & MAP_SHARED))
    v->ops->sync(v, pgdir, start, end, TW_MUNMAP);
  vm_unmap_range(pgdir, start, end);
}

// Remove [start, end) (page-aligned) from the address space: mappings
// inside it go away, mappings straddling an edge are trimmed, and one that
// contains the whole range is split in two. Only that split allocates, and
// it happens first: on -ENOMEM nothing has changed. 0 or -ENOMEM.
int
vma_unmap(pde_t *pgdir, struct vma **list, uint start, uint end)
{
  struct vma **pp = list, *v;

  if(start >= end)
    return 0;
  if(vm_unshare_range(pgdir, start, end, 1) < 0)   // shared tables covered in part
    return -ENOMEM;
  v = vma_find(*list, start);
  if(v && v->start < start && v->end > end && vma_split(v, end) == 0)
    return -ENOMEM;
  vm_drop_shared(pgdir, start, end);                // and those covered whole
  while((v = *pp) != 0 && v->start < end){
    if(v->end <= start){
      pp = &v->next;
    } else if(v->start < start){            // keep the head of v
      drop_pages(pgdir, v, start, v->end);
      v->end = start;
      pp = &v->next;
    } else if(v->end > end){                // keep the tail of v
      drop_pages(pgdir, v, v->start, end);
      v->offset += end - v->start;
      v->start = end;
      break;
    } else {                                // v lies inside the range
      drop_pages(pgdir, v, v->start, v->end);
      *pp = v->next;
      vma_free(v);
    }
  }
  return 0;
}

// Can b be appended to a (adjacent, same kind of memory)?
static int
can_merge(struct vma *a, struct vma *b)
{
  if(a->end != b->start || a->prot != b->prot || a->flags != b->flags)
    return 0;
  if(a->kind != b->kind || a->ops != b->ops || a->file != b->file || a->obj != b->obj)
    return 0;
  return a->obj == 0 || a->offset + (a->end - a->start) == b->offset;
}

// Join every pair of neighbouring mappings that describe the same memory.
void
vma_merge(struct vma **list)
{
  struct vma *v, *n;

  for(v = *list; v && (n = v->next) != 0; ){
    if(can_merge(v, n)){
      v->end = n->end;
      v->next = n->next;
      vma_free(n);
    } else {
      v = n;
    }
  }
}

// How fork hands the child the pages of v: MAP_SHARED pages are shared,
// private ones shared copy-on-write (vm.cow=1, and 2 where a whole table
// could not be shared) or copied at once.
static int
dup_how(struct vma *v)
{
  if(v->flags & MAP_SHARED)
    return VM_DUP_SHARE;
  return vm_cow ? VM_DUP_COW : VM_DUP_COPY;
}

// fork: copy the mapping list src (of srcpg) into the empty list *dst (of
// dstpg), giving dst the pages present in src (dup_how; with vm.cow=2 whole
// page tables of private anonymous memory first, vm_share_tables). 0 or
// -ENOMEM; on failure the caller frees what was built with
// vm_space_free(dstpg, *dst).
int
vma_dup_list(pde_t *dstpg, struct vma **dst, pde_t *srcpg, struct vma *src)
{
  struct vma **tail = dst, *v, *nv;

  if(vm_cow == 2)
    vm_share_tables(dstpg, srcpg, src);

  for(v = src; v; v = v->next){
    if((nv = kmalloc_wait(sizeof(*nv))) == 0)
      return -ENOMEM;
    *nv = *v;
    nv->next = 0;
    nv->pgdir = dstpg;
    if(v->ops && v->ops->dup && v->ops->dup(nv, v) < 0){
      kfree(nv);
      return -ENOMEM;
    }
    *tail = nv;
    tail = &nv->next;
    if(vm_copy_range(dstpg, srcpg, v->start, v->end, dup_how(v)) < 0)
      return -ENOMEM;
  }
  return 0;
}

// Highest free page-aligned range of len bytes below UMMAP_TOP and above
// page 0 (for mmap). Returns its start, or 0 if there is none.
uint
vma_find_gap(struct vma *list, uint len)
{
  uint lo = PGSIZE, hi, best = 0;
  struct vma *v = list;

  len = PGROUNDUP(len);
  if(len == 0 || len > UMMAP_TOP)
    return 0;
  for(;;){
    hi = v ? v->start : UMMAP_TOP;
    if(hi > UMMAP_TOP)
      hi = UMMAP_TOP;
    if(hi > lo && hi - lo >= len)
      best = hi - len;
    if(v == 0 || v->end >= UMMAP_TOP)
      break;
    lo = v->end;
    v = v->next;
  }
  return best;
}

// The heap mapping ending at page-aligned top, or 0.
static struct vma *
heap_vma_at(struct proc *p, uint top)
{
  struct vma *v;

  if(top <= p->heapbase)
    return 0;
  v = vma_find(p->vmas, top - 1);
  return v && v->kind == VMA_HEAP ? v : 0;
}

// The heap mapping (the one ending at the page-rounded break), or 0.
static struct vma *
heap_vma(struct proc *p)
{
  return heap_vma_at(p, PGROUNDUP(p->sz));
}

// Grow the heap mapping from page-aligned oldtop to newtop. Reserves
// address space only: pages appear zero-filled when first touched.
static int
heap_grow(struct proc *p, uint oldtop, uint newtop)
{
  struct vma *v;

  if(newtop > UMMAP_TOP || vma_overlap(p->vmas, oldtop, newtop))
    return -ENOMEM;
  if((v = heap_vma(p)) != 0){
    v->end = newtop;
    return 0;
  }
  if((v = vma_new(oldtop, newtop, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, VMA_HEAP)) == 0)
    return -ENOMEM;
  if(vma_insert(&p->vmas, v) < 0){
    kfree(v);
    return -ENOMEM;
  }
  return 0;
}

// vm.lazy=0: allocate the heap pages [oldtop, newtop) just added by
// heap_grow. On -ENOMEM the growth is taken back, pages and all.
static int
heap_populate(struct proc *p, uint oldtop, uint newtop)
{
  int r = vm_populate(p->pgdir, heap_vma_at(p, newtop), oldtop, newtop);

  if(r < 0)
    vma_unmap(p->pgdir, &p->vmas, oldtop, newtop);   // the heap's tail: no split
  return r;
}

// sbrk: move p's break by n bytes. Returns the old break, or -ENOMEM if
// the heap would run into another mapping, the stack guard, or below its
// start. Shrinking frees the pages given back.
int
vma_brk(struct proc *p, int n)
{
  uint old = p->sz, new = p->sz + n;
  uint oldtop, newtop;
  int r;

  if((n > 0 && new < old) || (n < 0 && new > old) || new < p->heapbase)
    return -ENOMEM;
  oldtop = PGROUNDUP(old);
  newtop = PGROUNDUP(new);
  if(newtop < new)                      // rounding wrapped past 4 GiB
    return -ENOMEM;
  if(newtop > oldtop && (r = heap_grow(p, oldtop, newtop)) < 0)
    return r;
  if(newtop > oldtop && !vm_lazy && (r = heap_populate(p, oldtop, newtop)) < 0)
    return r;
  if(newtop < oldtop && (r = vma_unmap(p->pgdir, &p->vmas, newtop, oldtop)) < 0)
    return r;
  p->sz = new;
  return (int)old;
}

// ---- mmap, mprotect, msync ---------------------------------------------------

// Is every page of [start, end) covered by some mapping?
int
vma_covered(struct vma *list, uint start, uint end)
{
  struct vma *v = vma_find(list, start);

  while(start < end){
    if(v == 0 || v->start > start)
      return 0;
    start = v->end;
    v = v->next;
  }
  return 1;
}

// Where a new mapping of len bytes goes: the hint addr if that range is
// free and inside the mmap area, else the highest gap. 0 if none.
static uint
mmap_place(struct vma *list, uint addr, uint len)
{
  addr = PGROUNDDOWN(addr);
  if(addr >= PGSIZE && addr <= UMMAP_TOP && len <= UMMAP_TOP - addr &&
     vma_overlap(list, addr, addr + len) == 0)
    return addr;
  return vma_find_gap(list, len);
}

// vma_mmap's new mapping, inserted but not populated; merged with its
// neighbours unless it is to be populated (populate). The start or
// -errno. Caller is in a VM critical section of p.
static int
mmap_locked(struct proc *p, uint addr, uint len, int prot, int flags, struct file *f, uint off,
            int populate)
{
  uint start;
  struct vma *v;
  int r;

  if(flags & MAP_FIXED)
    start = addr;
  else if((start = mmap_place(p->vmas, addr, len)) == 0)
    return -ENOMEM;
  if((v = vma_new(start, start + len, prot, flags & (MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS),
                  VMA_ANON)) == 0)
    return -ENOMEM;
  v->pgdir = p->pgdir;
  if(f)
    r = vma_file_attach(v, f, off);
  else if(flags & MAP_SHARED)
    r = vma_shared_attach(v);
  else
    r = 0;
  if(r < 0){
    vma_free(v);
    return r;
  }
  if((flags & MAP_FIXED) && vma_unmap(p->pgdir, &p->vmas, start, start + len) < 0){
    vma_free(v);
    return -ENOMEM;
  }
  if(vma_insert(&p->vmas, v) < 0)
    panic("vma_mmap: range still in use");
  if(!populate)
    vma_merge(&p->vmas);
  return (int)start;
}

// Map len bytes (page-rounded, non-zero; prot, flags, f and off already
// checked by the caller) into p: anonymous memory (a new shared object if
// MAP_SHARED), or file f from offset off if f is not 0 (the mapping takes
// its own reference to f and to the file's page cache). MAP_FIXED
// puts it exactly at addr (page-aligned), replacing what was there;
// otherwise addr is a hint.
// Pages appear on first touch, unless MAP_POPULATE or vm.lazy=0 ask for
// them now: then they are made outside the VM critical section, waiting
// for reclaim while it frees memory (vm_populate_proc). Returns the
// start, or -ENOMEM (nothing changed, except that a MAP_FIXED range whose
// population failed is left unmapped). Caller is in no VM critical
// section of p: this enters one for each change of the mapping list (p
// is single-threaded: nothing else changes the list in between).
int
vma_mmap(struct proc *p, uint addr, uint len, int prot, int flags, struct file *f, uint off)
{
  int start, r, populate = (flags & MAP_POPULATE) || !vm_lazy;

  proc_vm_enter(p);
  start = mmap_locked(p, addr, len, prot, flags, f, off, populate);
  proc_vm_leave(p);
  if(start < 0 || !populate)
    return start;
  r = vm_populate_proc(p, start, start + len);
  proc_vm_enter(p);
  if(r < 0)
    vma_unmap(p->pgdir, &p->vmas, start, start + len);   // whole mapping, not merged: no split
  else
    vma_merge(&p->vmas);
  proc_vm_leave(p);
  return r < 0 ? r : start;
}

// Split mappings so that none straddles page-aligned addr. 0 or -ENOMEM.
static int
split_at(struct vma *list, uint addr)
{
  struct vma *v = vma_find(list, addr);

  if(v && v->start < addr && vma_split(v, addr) == 0)
    return -ENOMEM;
  return 0;
}

// mprotect: give every page of [start, end) (page-aligned, fully mapped:
// the caller checked with vma_covered) protection prot, including pages
// already present. Mappings are split at the edges and merged again after.
// 0, -EACCES (write access to a shared mapping of a file not open for
// writing) or -ENOMEM (then nothing changed).
int
vma_protect(struct proc *p, uint start, uint end, int prot)
{
  struct vma *v;
  int r;

  for(v = vma_find(p->vmas, start); v && v->start < end; v = v->next)
    if(v->file && (r = vma_file_check(v->file, prot, v->flags)) < 0)
      return r;

  if(vm_unshare_range(p->pgdir, start, end, 0) < 0)
    return -ENOMEM;
  if(split_at(p->vmas, start) < 0 || split_at(p->vmas, end) < 0){
    vma_merge(&p->vmas);            // undo a first split that worked
    return -ENOMEM;
  }
  for(v = vma_find(p->vmas, start); v && v->start < end; v = v->next){
    v->prot = prot;
    vm_protect_range(p->pgdir, v->start, v->end, prot);
  }
  vma_merge(&p->vmas);
  return 0;
}

// msync: write back the shared file-backed pages of [start, end) (fully
// mapped, checked by the caller). Anonymous memory has nothing to write.
// 0 or the first -errno a backing reported.
int
vma_sync(struct proc *p, uint start, uint end)
{
  struct vma *v;
  uint s, e;
  int r, first = 0;

  for(v = vma_find(p->vmas, start); v && v->start < end; v = v->next){
    if(v->ops == 0 || v->ops->sync == 0 || (v->flags & MAP_SHARED) == 0)
      continue;
    s = v->start > start ? v->start : start;
    e = v->end < end ? v->end : end;
    if((r = v->ops->sync(v, p->pgdir, s, e, TW_MSYNC)) < 0 && first == 0)
      first = r;
  }
  return first;
}
