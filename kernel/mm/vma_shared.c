// Shared anonymous memory (mmap with MAP_SHARED|MAP_ANONYMOUS): the
// mapping maps a shared anonymous memory object (mobj.h). A page appears
// zero-filled in the object on the first touch by any process, so parent,
// children and grandchildren see the same page even if it was first
// touched after the fork. The object lives while some mapping maps it.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "errno.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "mm/vm.h"
#include "mm/vma.h"
#include "mm/mobj.h"
#include "mm/swap.h"

// fault: map the object's page for va, made (zeroed) if it is new.
// 0, 1 (read back from swap), or -ENOMEM / -EIO.
static int
shared_fault(struct vma *v, pde_t *pgdir, uint va, int write)
{
  uint pgno = (v->offset + (va - v->start)) / PGSIZE;
  void *kva;
  int r, swapped = 0;

  if((kva = mobj_lookup(v->obj, pgno)) == 0){
    if((r = swap_obj_in(v->obj, pgno, &kva)) < 0)
      return r;                        // (0 with kva set if it was in swap)
    swapped = kva != 0;
  }
  if(kva == 0){
    if((kva = vm_user_page()) == 0)
      return -ENOMEM;
    kva = mobj_insert(v->obj, pgno, kva);
  }
  if((r = vm_map_page(pgdir, va, kva, vm_pte_bits(v->prot))) < 0){
    vm_user_page_put(kva);
    return r;
  }
  return swapped;
}

// dup: dst (a fork's copy or a split-off part of src) maps the object too.
static int
shared_dup(struct vma *dst, struct vma *src)
{
  mobj_hold(src->obj);
  rmap_add(dst);
  return 0;
}

// close: drop the mapping's reference (the last one frees the pages).
static void
shared_close(struct vma *v)
{
  rmap_remove(v);
  mobj_put(v->obj);
  v->obj = 0;
}

static const struct vma_ops shared_ops = {
  .fault = shared_fault,
  .dup = shared_dup,
  .close = shared_close,
};

// Make the new mapping v (not yet on a list; v->pgdir set) map a new
// shared anonymous object as large as itself. 0 or -ENOMEM.
int
vma_shared_attach(struct vma *v)
{
  if((v->obj = mobj_anon_new((v->end - v->start) / PGSIZE)) == 0)
    return -ENOMEM;
  v->offset = 0;
  v->ops = &shared_ops;
  rmap_add(v);
  return 0;
}
