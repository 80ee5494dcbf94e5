// Open files: reference counting and read/write/stat dispatch to pipes,
// devices and inodes. Each struct file is kmalloc'd by file_alloc and
// freed when its last reference is closed.
#include "types.h"
#include "param.h"
#include "errno.h"
#include "stat.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "fs.h"
#include "fs/file.h"
#include "fs/fsint.h"
#include "core/defs.h"

struct devsw devsw[NDEV];

static struct spinlock ref_lock = { .name = "fileref" };  // guards every file's ref

// A new file of type FD_NONE with one reference, or 0 (out of memory,
// after waiting for reclaim where allowed: mm/allocwait.c).
struct file *
file_alloc(void)
{
  struct file *f;

  if((f = kzalloc_wait(sizeof(*f))) == 0)
    return 0;
  f->type = FD_NONE;
  f->ref = 1;
  return f;
}

// One more reference to f.
struct file *
file_dup(struct file *f)
{
  acquire(&ref_lock);
  if(f->ref < 1)
    panic("file_dup: closed file");
  f->ref++;
  release(&ref_lock);
  return f;
}

// Drop a reference; the last one releases the pipe end or inode and frees
// f. Caller holds no file-system locks (this may start an operation).
void
file_close(struct file *f)
{
  struct file copy;

  acquire(&ref_lock);
  if(f->ref < 1)
    panic("file_close: closed file");
  if(--f->ref > 0){
    release(&ref_lock);
    return;
  }
  release(&ref_lock);
  copy = *f;
  kfree(f);
  if(copy.type == FD_PIPE){
    pipe_close(copy.pipe, copy.writable);
  } else if(copy.type == FD_INODE || copy.type == FD_DEVICE){
    begin_op();
    iput(copy.ip);
    end_op();
  }
}

// Copy f's metadata to the struct stat at user address uaddr.
// 0, -EBADF (a pipe) or -EFAULT.
int
file_stat(struct file *f, uint uaddr)
{
  struct stat st;

  if(f->type != FD_INODE && f->type != FD_DEVICE)
    return -EBADF;
  ilock(f->ip);
  stati(f->ip, &st);
  iunlock(f->ip);
  return copyout(myproc(), uaddr, &st, sizeof(st));   // 0, -EFAULT or -ENOMEM
}

// Is f an open regular file (whose data goes through the page cache)?
// An inode's type is read from disk when it is opened and does not change
// while it is open, so no lock is needed.
static int
file_regular(struct file *f)
{
  return f->ip->valid && f->ip->type == T_FILE;
}

// Read up to n bytes into user address uaddr. Returns the count (0 at end
// of file) or -EBADF / -ENODEV / -EFAULT / -EINTR.
int
file_read(struct file *f, uint uaddr, int n)
{
  int r;

  if(!f->readable)
    return -EBADF;
  switch(f->type){
  case FD_PIPE:
    return pipe_read(f->pipe, uaddr, n);
  case FD_DEVICE:
    if(f->major < 0 || f->major >= NDEV || devsw[f->major].read == 0)
      return -ENODEV;
    return devsw[f->major].read(1, uaddr, n);
  case FD_INODE:
    alloc_headroom();         // its cache pages are allocated under the inode lock
    if(file_regular(f))
      return pcache_file_read(f, uaddr, n);
    ilock(f->ip);             // a directory: never mapped, see mm/mobj.h
    if((r = readi(f->ip, 1, uaddr, f->off, n)) > 0)
      f->off += r;
    iunlock(f->ip);
    return r;
  default:
    panic("file_read: bad type");
  }
}

// Write n bytes to an inode in pieces small enough for one log operation
// each (write_span). Returns bytes written, or an error if none were.
static int
inode_write(struct file *f, uint uaddr, int n)
{
  int done = 0, r = 0, m;

  while(done < n){
    if((r = log_writable()) < 0)
      break;
    begin_op_n(WRITEOPBLOCKS);
    ilock(f->ip);
    if(f->append)
      f->off = f->ip->size;
    m = write_span(f->ip, f->off, n - done, WRITEOPBLOCKS);
    if((r = writei(f->ip, 1, uaddr + done, f->off, m)) > 0)
      f->off += r;
    iunlock(f->ip);
    if(end_op_n(WRITEOPBLOCKS) < 0)
      r = -EIO;                  // the commit failed: not saved
    if(r < 0)
      break;
    done += r;
    if(r != m)
      break;
  }
  return done > 0 ? done : r;
}

// Write n bytes from user address uaddr. Returns the count, or -EBADF /
// -ENODEV / -EFAULT / -ENOSPC / -EFBIG / -EPIPE / -EINTR / -EIO if
// nothing was.
int
file_write(struct file *f, uint uaddr, int n)
{
  if(!f->writable)
    return -EBADF;
  switch(f->type){
  case FD_PIPE:
    return pipe_write(f->pipe, uaddr, n);
  case FD_DEVICE:
    if(f->major < 0 || f->major >= NDEV || devsw[f->major].write == 0)
      return -ENODEV;
    return devsw[f->major].write(1, uaddr, n);
  case FD_INODE:
    alloc_headroom();         // its buffer and cache pages do not wait (mm/allocwait.c)
    if(file_regular(f))
      return pcache_file_write(f, uaddr, n);
    return inode_write(f, uaddr, n);
  default:
    panic("file_write: bad type");
  }
}
