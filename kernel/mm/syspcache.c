// Page-cache system calls: fsync and ftruncate (the cache itself is in
// pcache.c and mobj.c).
#include "types.h"
#include "param.h"
#include "arch/mmu.h"
#include "errno.h"
#include "stat.h"
#include "fs.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "fs/file.h"
#include "fs/fsint.h"
#include "core/defs.h"
#include "mm/mobj.h"
#include "tracectl.h"

// Fetch argument n as an open regular file. 0, -EBADF or -EINVAL (not a
// regular file).
static int
arg_regular(int n, struct file **pf)
{
  struct file *f;
  int fd;
  short type;

  if(argint(n, &fd) < 0 || (f = fd_get(myproc(), fd)) == 0)
    return -EBADF;
  if(f->type != FD_INODE)
    return -EINVAL;
  ilock(f->ip);
  type = f->ip->type;
  iunlock(f->ip);
  if(type != T_FILE)
    return -EINVAL;
  *pf = f;
  return 0;
}

// int fsync(int fd): write back every page of the file that a mapping (in
// any process) stored to; what write() wrote is already on disk. 0,
// -EBADF, -EINVAL (not a regular file) or the write-back's -errno.
int
sys_fsync(void)
{
  struct file *f;
  struct mobj *o;
  uint npages;
  int r;

  if((r = arg_regular(0, &f)) < 0)
    return r;
  if((o = mobj_file_find(f->ip->dev, f->ip->inum)) == 0)
    return 0;               // nothing cached: nothing to write
  ilock(f->ip);
  npages = (f->ip->size + PGSIZE - 1) / PGSIZE;
  iunlock(f->ip);
  r = pcache_sync(f->ip, o, 0, npages, 0, TW_FSYNC);
  mobj_put(o);
  return r;
}

// int ftruncate(int fd, uint length): make the file length bytes long.
// Growing leaves a hole (reads as zeros); shrinking frees the blocks past
// the end and takes the pages wholly past it out of every mapping (a
// later access there is a bus error). 0, -EBADF (not open for writing),
// -EINVAL (not a regular file, or length beyond the largest file), -EIO
// (a disk error).
int
sys_ftruncate(void)
{
  struct file *f;
  uint len;
  int r;

  if((r = arg_regular(0, &f)) < 0)
    return r;
  if(arguint(1, &len) < 0)
    return -EFAULT;
  if(!f->writable)
    return -EBADF;
  if(len > MAXFILESIZE)
    return -EINVAL;
  if((r = log_writable()) < 0)
    return r;                   // read-only after a failed disk write
  begin_op_large();
  ilock(f->ip);
  if(len < f->ip->size){
    r = itrunc_to(f->ip, len);
  } else if(len > f->ip->size){
    pcache_truncate(f->ip, f->ip->size, len);
    f->ip->size = len;
    iupdate(f->ip);
  }
  iunlock(f->ip);
  if(end_op() < 0 && r == 0)
    r = -EIO;                   // the commit failed: not saved
  return r;
}
