// File-backed mappings (mmap of a regular file): the operations table a
// file mapping carries (struct vma_ops, vma.h). A file mapping maps the
// file's page cache (its memory object, pcache.c) from an offset:
// MAP_SHARED maps the cache pages themselves, so every mapping, read()
// and write() see one copy; MAP_PRIVATE maps them read-only and copies a
// page on its first write (fault_cow in vm.c), and never writes back.
// Shared pages go back to the file when msync, fsync, munmap or exit asks:
// only pages some mapping stored to (PTE dirty bits collected from every
// mapping of the file, rmap.c), unless vm.msync_all=1 (write back every
// cached page of the range: the baseline to compare).
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "errno.h"
#include "mman.h"
#include "stat.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "fs.h"
#include "fs/file.h"
#include "fs/fsint.h"
#include "core/defs.h"
#include "mm/vm.h"
#include "mm/vma.h"
#include "mm/mobj.h"

// File page number of page-aligned user address va of v.
static uint
page_number(struct vma *v, uint va)
{
  return (v->offset + (va - v->start)) / PGSIZE;
}

// fault: map page va of v from the file's cache (reading it in if it is
// not there). A write to a private mapping gets its own copy at once. A
// page wholly past the end of the file reads as zeros (the zero page,
// read-only); a write there fails. 0, 2 (the page was read from disk: a
// major fault), -ENOMEM, or -ENXIO (a write past the end of the file: the
// caller reports a bus error).
static int
file_fault(struct vma *v, pde_t *pgdir, uint va, int write)
{
  char *kva, *copy;
  int r = 0, major = 0, bits = vm_pte_bits(v->prot);

  if((kva = pcache_fault_page(v->file->ip, v->obj, page_number(v, va), &r, &major)) == 0){
    if(r != -ENXIO || write)
      return r;
    kva = mobj_zero_page();   // a read wholly past the end of the file: zeros
    bits &= ~PTE_W;
  } else if(v->flags & MAP_PRIVATE){
    if(write){
      if((copy = vm_user_page()) == 0){
        vm_user_page_put(kva);
        return -ENOMEM;
      }
      memmove(copy, kva, PGSIZE);
      vm_user_page_put(kva);
      kva = copy;
    } else {
      bits &= ~PTE_W;       // the cache's page: copy on the first write
    }
  }
  if((r = vm_map_page(pgdir, va, kva, bits)) < 0)
    vm_user_page_put(kva);
  return r < 0 ? r : major ? 2 : 0;
}

// sync: write back the pages of [start, end) (inside v) that any mapping
// of the file stored to. Private mappings, and shared ones of a file not
// open for writing (never writable, see vma_file_check), have nothing to
// write. 0 or the first -errno.
static int
file_sync(struct vma *v, pde_t *pgdir, uint start, uint end, int why)
{
  if((v->flags & MAP_SHARED) == 0 || !v->file->writable)
    return 0;
  return pcache_sync(v->file->ip, v->obj, page_number(v, start), page_number(v, end),
                     start, why);
}

// dup: dst (a fork's copy or a split-off part of src) holds the file and
// the object too, and joins the object's reverse map.
static int
file_vma_dup(struct vma *dst, struct vma *src)
{
  dst->file = file_dup(src->file);
  mobj_hold(src->obj);
  rmap_add(dst);
  return 0;
}

// close: the mapping is gone; leave the reverse map and drop its
// references (may end a file-system operation: caller holds no locks).
static void
file_vma_close(struct vma *v)
{
  rmap_remove(v);
  mobj_put(v->obj);
  v->obj = 0;
  file_close(v->file);
  v->file = 0;
}

static const struct vma_ops file_ops = {
  .fault = file_fault,
  .sync = file_sync,
  .dup = file_vma_dup,
  .close = file_vma_close,
};

// Can f be mapped with prot and flags? 0, -EBADF (not open), -EACCES
// (not a regular file, not open for reading, or a shared writable
// mapping of a file not open for writing or opened O_APPEND).
int
vma_file_check(struct file *f, int prot, int flags)
{
  short type;

  if(f == 0)
    return -EBADF;
  if(f->type != FD_INODE)
    return -EACCES;
  ilock(f->ip);
  type = f->ip->type;
  iunlock(f->ip);
  if(type != T_FILE || !f->readable)
    return -EACCES;
  if((flags & MAP_SHARED) && (prot & PROT_WRITE) && (!f->writable || f->append))
    return -EACCES;
  return 0;
}

// Make the new mapping v (not yet on a list; v->pgdir set) map f from
// offset off: takes a reference to f and to its page cache, which
// vma_free drops. 0 or -ENOMEM.
int
vma_file_attach(struct vma *v, struct file *f, uint off)
{
  if((v->obj = mobj_file_get(f->ip->dev, f->ip->inum)) == 0)
    return -ENOMEM;
  v->kind = VMA_FILE;
  v->file = file_dup(f);
  v->offset = off;
  v->ops = &file_ops;
  rmap_add(v);
  return 0;
}
