// Address-space system calls: mmap, munmap, mprotect, msync.
// Each one checks its arguments completely, then calls into vma.c, which
// edits the current process's mappings (a process is single-threaded, so
// its own mapping list needs no lock).
#include "types.h"
#include "param.h"
#include "arch/mmu.h"
#include "errno.h"
#include "mman.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "mm/vm.h"
#include "mm/vma.h"
#include "core/sleeplock.h"
#include "fs.h"
#include "fs/file.h"
#include "trace/trace.h"

#define PROT_ALL  (PROT_READ | PROT_WRITE | PROT_EXEC)
#define MAP_KNOWN (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_POPULATE)

// Fetch a user range argument pair (addr at n, length at n + 1) and check
// it: addr page-aligned, the page-rounded range non-empty (unless
// zero_ok) and below USERTOP. Sets *start, *end. 0, -EFAULT or -EINVAL.
static int
arg_range(int n, uint *start, uint *end, int zero_ok)
{
  uint addr, len;

  if(arguint(n, &addr) < 0 || arguint(n + 1, &len) < 0)
    return -EFAULT;
  if((addr & (PGSIZE - 1)) || (len == 0 && !zero_ok))
    return -EINVAL;
  if(len > USERTOP || addr > USERTOP - PGROUNDUP(len))
    return -EINVAL;
  *start = addr;
  *end = addr + PGROUNDUP(len);
  return 0;
}

// Check mmap's prot, flags and offset (len is non-zero).
static int
mmap_args_ok(int prot, int flags, uint len, uint off)
{
  int share = flags & (MAP_SHARED | MAP_PRIVATE);

  if((prot & ~PROT_ALL) || (flags & ~MAP_KNOWN) || (off & (PGSIZE - 1)))
    return -EINVAL;
  if(share != MAP_SHARED && share != MAP_PRIVATE)
    return -EINVAL;
  if((flags & MAP_ANONYMOUS) == 0 && off > 0xFFFFFFFFu - PGROUNDUP(len))
    return -EINVAL;                  // the file range would wrap
  return 0;
}

// void *mmap(void *addr, uint len, int prot, int flags, int fd, uint off):
// the start of the new mapping, or -EINVAL (zero length, unaligned
// MAP_FIXED address or range outside user space, bad prot or flags),
// -EBADF (a file mapping of an fd that is not open), -EACCES (not a
// regular file, not open for reading, or MAP_SHARED with PROT_WRITE and
// not open for writing) or -ENOMEM (no room, or MAP_POPULATE found no
// memory). Without MAP_ANONYMOUS the mapping shows fd's file from off.
int
sys_mmap(void)
{
  uint addr, len, off;
  int prot, flags, fd, r;
  struct file *f = 0;

  if(arguint(0, &addr) < 0 || arguint(1, &len) < 0 || argint(2, &prot) < 0 ||
     argint(3, &flags) < 0 || argint(4, &fd) < 0 || arguint(5, &off) < 0)
    return -EFAULT;
  if(len == 0)
    return -EINVAL;
  if((r = mmap_args_ok(prot, flags, len, off)) < 0)
    return r;
  if((flags & MAP_ANONYMOUS) == 0){
    f = fd_get(myproc(), fd);
    if((r = vma_file_check(f, prot, flags)) < 0)
      return r;
  }
  if(len > UMMAP_TOP)
    return -ENOMEM;
  len = PGROUNDUP(len);
  if(flags & MAP_FIXED){
    if((addr & (PGSIZE - 1)) || addr < PGSIZE || addr > UMMAP_TOP - len)
      return -EINVAL;
  }
  r = vma_mmap(myproc(), addr, len, prot, flags, f, off);   // (VM critical sections inside)
  if(r >= 0)
    trace_mmap(r, len, prot, flags, f ? f->ip->inum : 0, off);
  return r;
}

// int munmap(void *addr, uint len): remove the pages of the range from
// whatever mappings hold them; an unmapped range is fine. 0, -EINVAL
// (unaligned addr, zero length, outside user space) or -ENOMEM (a mapping
// would have to split and there is no memory for it).
int
sys_munmap(void)
{
  struct proc *p = myproc();
  uint start, end;
  int r;

  if((r = arg_range(0, &start, &end, 0)) < 0)
    return r;
  proc_vm_enter(p);
  r = vma_unmap(p->pgdir, &p->vmas, start, end);
  proc_vm_leave(p);
  if(r == 0)
    trace_munmap(start, end - start);
  return r;
}

// int mprotect(void *addr, uint len, int prot): 0, -EINVAL (unaligned,
// bad prot), -EACCES (PROT_WRITE on a shared mapping of a file not open
// for writing) or -ENOMEM (part of the range is not mapped, or no memory
// to split a mapping).
int
sys_mprotect(void)
{
  struct proc *p = myproc();
  uint start, end;
  int prot, r;

  if((r = arg_range(0, &start, &end, 1)) < 0)
    return r;
  if(argint(2, &prot) < 0)
    return -EFAULT;
  if(prot & ~PROT_ALL)
    return -EINVAL;
  if(start == end)
    return 0;
  if(!vma_covered(p->vmas, start, end))
    return -ENOMEM;
  proc_vm_enter(p);           // present PTEs change: reclaim keeps out
  r = vma_protect(p, start, end, prot);
  proc_vm_leave(p);
  return r;
}

// int msync(void *addr, uint len, int flags): write back shared file
// pages of the range. 0, -EINVAL (unaligned, bad flags) or -ENOMEM (part
// of the range is not mapped).
int
sys_msync(void)
{
  struct proc *p = myproc();
  uint start, end;
  int flags, r;

  if((r = arg_range(0, &start, &end, 1)) < 0)
    return r;
  if(argint(2, &flags) < 0)
    return -EFAULT;
  if((flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) ||
     (flags & (MS_ASYNC | MS_SYNC)) == (MS_ASYNC | MS_SYNC))
    return -EINVAL;
  if(!vma_covered(p->vmas, start, end))
    return -ENOMEM;
  return vma_sync(p, start, end);
}
