// File-backed mappings (mmap of a regular file): the operations table a
// file mapping carries (struct vma_ops, vma.h). There is no page cache:
// a fault reads the page from the file into a fresh page of this address
// space. MAP_PRIVATE pages are then private memory (copy-on-write across
// fork like anonymous memory, never written back). MAP_SHARED pages are
// shared only with forked children, and go back to the file when msync,
// munmap or exit asks: only pages whose PTE dirty bit is set, unless
// vm.msync_all=1 (write back every present page: the baseline to compare).
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
#include "trace/trace.h"

int vm_msync_all = 0;

// File offset of page-aligned user address va of v.
static uint
page_offset(struct vma *v, uint va)
{
  return v->offset + (va - v->start);
}

// Read the page at file offset off into kva (already zeroed; bytes past
// the end of the file stay zero). The inode lock is taken unless this
// process holds it already: a read() or write() of the file itself whose
// user buffer lies in a mapping of the same file faults in here.
static int
read_page(struct inode *ip, char *kva, uint off)
{
  int held = holdingsleep(&ip->lock), r;

  if(!held)
    ilock(ip);
  r = readi(ip, 0, (uint)kva, off, PGSIZE);
  if(!held)
    iunlock(ip);
  return r < 0 ? r : 0;
}

// fault: bring in page va of v from the file and map it with v's
// protection. 0, -ENOMEM, or readi's -errno.
static int
file_fault(struct vma *v, pde_t *pgdir, uint va, int write)
{
  char *kva;
  int r;

  if((kva = vm_user_page()) == 0)
    return -ENOMEM;
  if((r = read_page(v->file->ip, kva, page_offset(v, va))) == 0)
    r = vm_map_page(pgdir, va, kva, vm_pte_bits(v->prot));
  if(r < 0)
    vm_user_page_put(kva);
  return r;
}

// Bytes of the page at file offset off that lie inside the file (a
// mapping never makes a file longer). Caller holds ip->lock.
static uint
bytes_in_file(struct inode *ip, uint off)
{
  if(off >= ip->size)
    return 0;
  return ip->size - off < PGSIZE ? ip->size - off : PGSIZE;
}

// Write the present page kva (user address va of v) back to the file, in
// log operations of at most WRITEOPBLOCKS blocks; each lock is released
// before end_op. Emits one msync-write event (why: TW_*). 0 or -errno.
static int
write_page(struct vma *v, uint va, char *kva, int why)
{
  struct inode *ip = v->file->ip;
  uint off = page_offset(v, va), done = 0, n, m;
  int r = 0;

  for(;;){
    r = 0;
    begin_op_n(WRITEOPBLOCKS);
    ilock(ip);
    n = bytes_in_file(ip, off);
    if(done < n){
      m = write_span(ip, off + done, n - done, WRITEOPBLOCKS);
      r = writei(ip, 0, (uint)kva + done, off + done, m);
    }
    iunlock(ip);
    end_op_n(WRITEOPBLOCKS);
    if(r <= 0)
      break;                // all written (r == 0), or an error
    done += r;
    if(done >= n)
      break;
  }
  if(done > 0)
    trace_msync_write(va, ip->inum, off, done, why);
  return r < 0 ? r : 0;
}

// sync: write back the present pages of [start, end) (inside v) that
// were written since the last write-back (PTE dirty bit; every present
// page if vm.msync_all), clearing their dirty bits. MAP_PRIVATE mappings,
// and shared ones of a file not open for writing (never writable, see
// vma_file_check), have nothing to write. 0 or the first -errno.
static int
file_sync(struct vma *v, pde_t *pgdir, uint start, uint end, int why)
{
  uint va;
  pte_t *pte;
  int r, first = 0;

  if((v->flags & MAP_SHARED) == 0 || !v->file->writable)
    return 0;
  for(va = start; va < end; va += PGSIZE){
    if((pgdir[PDX(va)] & PTE_P) == 0){
      va = (va & ~(BIGPGSIZE - 1)) + BIGPGSIZE - PGSIZE;   // skip the absent table
      continue;
    }
    pte = vm_walk(pgdir, va, 0);
    if(pte == 0 || (*pte & PTE_P) == 0)
      continue;
    if((*pte & PTE_D) == 0 && !vm_msync_all)
      continue;
    *pte &= ~PTE_D;
    if((r = write_page(v, va, P2V(PTE_ADDR(*pte)), why)) < 0 && first == 0)
      first = r;
  }
  vm_flush(pgdir);          // so the next write to a cleaned page sets its dirty bit
  return first;
}

// dup: dst (a fork's copy or a split-off part of src) holds the file too.
static int
file_vma_dup(struct vma *dst, struct vma *src)
{
  dst->file = file_dup(src->file);
  return 0;
}

// close: the mapping is gone; drop its file reference (may end a
// file-system operation: caller holds no locks).
static void
file_vma_close(struct vma *v)
{
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

// Make the new mapping v (not yet on a list) map f from offset off:
// takes a reference to f, which vma_free drops.
void
vma_file_attach(struct vma *v, struct file *f, uint off)
{
  v->kind = VMA_FILE;
  v->file = file_dup(f);
  v->offset = off;
  v->ops = &file_ops;
}
