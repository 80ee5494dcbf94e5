// File-system system calls. Arguments are checked and copied in first;
// each call that changes the disk runs as one log operation (writes are
// split by file_write into several). Errors are negative errno values.
#include "types.h"
#include "param.h"
#include "errno.h"
#include "stat.h"
#include "fcntl.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "fs.h"
#include "fs/file.h"
#include "fs/fsint.h"
#include "fsstat.h"
#include "core/defs.h"

// Fetch argument n as a descriptor; its file goes to *pf. 0 or -EBADF.
static int
arg_fd(int n, int *pfd, struct file **pf)
{
  int fd;
  struct file *f;

  if(argint(n, &fd) < 0)
    return -EBADF;
  if((f = fd_get(myproc(), fd)) == 0)
    return -EBADF;
  if(pfd)
    *pfd = fd;
  *pf = f;
  return 0;
}

// The arguments of read and write: fd, user buffer, byte count. 1 to go
// on, 0 when there is nothing to do (n is 0), or -errno.
static int
arg_rw(struct file **f, uint *buf, int *n)
{
  int r;

  if((r = arg_fd(0, 0, f)) < 0)
    return r;
  if(arguint(1, buf) < 0 || argint(2, n) < 0)
    return -EFAULT;
  if(*n < 0)
    return -EINVAL;
  return *n > 0;
}

int
sys_read(void)
{
  struct file *f;
  uint buf;
  int n, r;

  if((r = arg_rw(&f, &buf, &n)) <= 0)
    return r;
  return file_read(f, buf, n);
}

int
sys_write(void)
{
  struct file *f;
  uint buf;
  int n, r;

  if((r = arg_rw(&f, &buf, &n)) <= 0)
    return r;
  return file_write(f, buf, n);
}

int
sys_close(void)
{
  struct file *f;
  int fd;

  if(argint(0, &fd) < 0 || (f = fd_take(myproc(), fd)) == 0)
    return -EBADF;
  file_close(f);
  return 0;
}

int
sys_dup(void)
{
  struct file *f;
  int fd, r;

  if((r = arg_fd(0, 0, &f)) < 0)
    return r;
  file_dup(f);
  if((fd = fd_alloc(myproc(), f)) < 0)
    file_close(f);
  return fd;
}

int
sys_pipe(void)
{
  struct proc *p = myproc();
  struct file *rf, *wf;
  uint uaddr;
  int fds[2], r;

  if(arguint(0, &uaddr) < 0)
    return -EFAULT;
  if((r = pipe_alloc(&rf, &wf)) < 0)
    return r;
  fds[1] = -1;
  if((fds[0] = fd_alloc(p, rf)) < 0 || (fds[1] = fd_alloc(p, wf)) < 0){
    r = -ENOMEM;
    goto fail;
  }
  if((r = copyout(p, uaddr, fds, sizeof(fds))) < 0)   // -EFAULT or -ENOMEM
    goto fail;
  return 0;

fail:
  if(fds[0] >= 0)
    fd_take(p, fds[0]);
  if(fds[1] >= 0)
    fd_take(p, fds[1]);
  file_close(rf);
  file_close(wf);
  return r;
}

int
sys_fstat(void)
{
  struct file *f;
  uint st;
  int r;

  if((r = arg_fd(0, 0, &f)) < 0)
    return r;
  if(arguint(1, &st) < 0)
    return -EFAULT;
  return file_stat(f, st);
}

// Make a new inode of type at path and link it into its directory. A
// symlink gets data (dlen bytes) as its target. For T_FILE an existing
// file of any kind is returned instead. Returns the inode locked, or 0
// with *err. Caller is inside an operation.
static struct inode *
create(char *path, short type, short major, short minor,
       char *data, int dlen, int *err)
{
  struct inode *dp, *ip;
  char name[DIRSIZ + 1];
  int r;

again:
  if((dp = nameiparent_err(path, name, err)) == 0)
    return 0;
  if((r = ilock(dp)) < 0)
    goto fail_dp;
  if((ip = dirlookup(dp, name, 0, &r)) != 0){
    iunlockput(dp);
    if(type == T_FILE){
      if((r = ilock_entry(ip)) < 0){
        iput(ip);
        if(r == -ENOENT)        // unlinked meanwhile: create it after all
          goto again;
        *err = r;
        return 0;
      }
      return ip;
    }
    iput(ip);
    *err = -EEXIST;
    return 0;
  }
  if(r != -ENOENT || (r = name_check(name)) < 0)
    goto fail_dp;
  if(dp->nlink == 0){            // a removed directory (someone's cwd)
    r = -ENOENT;
    goto fail_dp;
  }
  if((ip = ialloc(dp->dev, type, &r)) == 0)
    goto fail_dp;
  ilock(ip);
  ip->major = major;
  ip->minor = minor;
  ip->nlink = 1;
  iupdate(ip);
  if(type == T_DIR){
    if((r = dirlink(ip, ".", ip->inum)) < 0 || (r = dirlink(ip, "..", dp->inum)) < 0)
      goto fail_ip;
  }
  if(type == T_SYMLINK && (r = writei(ip, 0, (uint)data, 0, dlen)) != dlen){
    r = r < 0 ? r : -ENOSPC;
    goto fail_ip;
  }
  if((r = dirlink(dp, name, ip->inum)) < 0)
    goto fail_ip;
  if(type == T_DIR){
    dp->nlink++;                 // the new directory's ".."
    iupdate(dp);
  }
  iunlockput(dp);
  return ip;

fail_ip:
  ip->nlink = 0;                 // iput frees it
  iupdate(ip);
  iunlockput(ip);
fail_dp:
  iunlockput(dp);
  *err = r;
  return 0;
}

// Open or create the file, with the inode locked; 0 with *err on failure.
// Caller is inside an operation.
static struct inode *
open_inode(char *path, int flags, int *err)
{
  struct inode *ip;

  if(flags & O_CREATE){
    if((ip = create(path, T_FILE, 0, 0, 0, 0, err)) == 0)
      return 0;
    if(ip->type != T_SYMLINK || (flags & O_NOFOLLOW))
      return ip;
    iunlockput(ip);              // an existing symlink: open its target
  }
  if((ip = namei_err(path, !(flags & O_NOFOLLOW), err)) == 0)
    return 0;
  if((*err = ilock(ip)) < 0){
    iunlockput(ip);
    return 0;
  }
  return ip;
}

// Open an operation for a call that changes the disk: 0, or -EIO (and
// none opened) if the file system is read-only after a failed disk write.
static int
begin_change(void)
{
  int r;

  if((r = log_writable()) < 0)
    return r;
  begin_op();
  return 0;
}

// Close it: the call's result r, or -EIO if r says success but the
// commit this operation made failed.
static int
end_change(int r)
{
  return end_op() < 0 && r >= 0 ? -EIO : r;
}

int
sys_open(void)
{
  char path[MAXPATH];
  struct inode *ip;
  struct file *f;
  int flags, acc, fd, r, large;

  if((r = argstr(0, path, sizeof(path))) < 0)
    return r;
  if(argint(1, &flags) < 0)
    return -EFAULT;
  acc = flags & 3;
  if(acc == 3)
    return -EINVAL;
  large = (flags & O_TRUNC) && acc != O_RDONLY;
  if((large || (flags & O_CREATE)) && (r = log_writable()) < 0)
    return r;                    // read-only after a disk write failed
  if((f = file_alloc()) == 0)    // before the fs operation: it may wait for reclaim
    return -ENOMEM;
  if(large)
    begin_op_large();            // truncating may free a whole big file
  else
    begin_op();
  if((ip = open_inode(path, flags, &r)) == 0)
    goto out;
  if(ip->type == T_DIR && (acc != O_RDONLY || (flags & O_CREATE))){
    r = -EISDIR;                 // no writing a directory, nor "creating" one
    goto out_ip;
  }
  if(ip->type == T_SYMLINK && acc != O_RDONLY){   // O_NOFOLLOW: read it only
    r = -ELOOP;
    goto out_ip;
  }
  if(ip->type == T_DEVICE && (ip->major < 0 || ip->major >= NDEV)){
    r = -ENODEV;
    goto out_ip;
  }
  if((fd = fd_alloc(myproc(), f)) < 0){
    r = fd;
    goto out_ip;
  }
  if(large && ip->type == T_FILE)
    itrunc(ip);
  f->type = ip->type == T_DEVICE ? FD_DEVICE : FD_INODE;
  f->major = ip->major;
  f->ip = ip;
  f->off = 0;
  f->readable = acc != O_WRONLY;
  f->writable = acc != O_RDONLY;
  f->append = (flags & O_APPEND) != 0;
  iunlock(ip);
  if(end_op() < 0){              // what it created or truncated is lost
    file_close(fd_take(myproc(), fd));
    return -EIO;
  }
  return fd;

out_ip:
  iunlockput(ip);
out:
  end_op();
  file_close(f);                 // still FD_NONE: just freed
  return r;
}

int
sys_mkdir(void)
{
  char path[MAXPATH];
  struct inode *ip;
  int r;

  if((r = argstr(0, path, sizeof(path))) < 0)
    return r;
  if((r = begin_change()) < 0)
    return r;
  if((ip = create(path, T_DIR, 0, 0, 0, 0, &r)) != 0){
    iunlockput(ip);
    r = 0;
  }
  return end_change(r);
}

int
sys_mknod(void)
{
  char path[MAXPATH];
  struct inode *ip;
  int major, minor, r;

  if((r = argstr(0, path, sizeof(path))) < 0)
    return r;
  if(argint(1, &major) < 0 || argint(2, &minor) < 0)
    return -EFAULT;
  if(major < 0 || major >= NDEV)
    return -EINVAL;
  if((r = begin_change()) < 0)
    return r;
  if((ip = create(path, T_DEVICE, major, minor, 0, 0, &r)) != 0){
    iunlockput(ip);
    r = 0;
  }
  return end_change(r);
}

int
sys_symlink(void)
{
  char target[MAXPATH], path[MAXPATH];
  struct inode *ip;
  int r, len;

  if((len = argstr(0, target, sizeof(target))) < 0)
    return len;
  if((r = argstr(1, path, sizeof(path))) < 0)
    return r;
  if(len == 0)
    return -ENOENT;
  if((r = begin_change()) < 0)
    return r;
  if((ip = create(path, T_SYMLINK, 0, 0, target, len, &r)) != 0){
    iunlockput(ip);
    r = 0;
  }
  return end_change(r);
}

int
sys_readlink(void)
{
  char path[MAXPATH];
  struct inode *ip;
  uint buf;
  int size, r;

  if((r = argstr(0, path, sizeof(path))) < 0)
    return r;
  if(arguint(1, &buf) < 0 || argint(2, &size) < 0)
    return -EFAULT;
  if(size <= 0)
    return -EINVAL;
  begin_op();
  if((ip = namei_err(path, 0, &r)) != 0){
    if((r = ilock(ip)) < 0)
      ;
    else if(ip->type != T_SYMLINK)
      r = -EINVAL;
    else
      r = readi(ip, 1, buf, 0, (uint)size < ip->size ? (uint)size : ip->size);
    iunlockput(ip);
  }
  end_op();
  return r;
}

int
sys_chdir(void)
{
  char path[MAXPATH];
  struct proc *p = myproc();
  struct inode *ip;
  int r;

  if((r = argstr(0, path, sizeof(path))) < 0)
    return r;
  begin_op();
  if((ip = namei_err(path, 1, &r)) == 0){
    end_op();
    return r;
  }
  if((r = ilock(ip)) < 0 || ip->type != T_DIR){
    iunlockput(ip);
    end_op();
    return r < 0 ? r : -ENOTDIR;
  }
  iunlock(ip);
  iput(p->cwd);
  p->cwd = ip;
  end_op();
  return 0;
}

// link(old, new): another name for old (not a directory; a final symlink
// in old is linked itself, not followed).
int
sys_link(void)
{
  char old[MAXPATH], new[MAXPATH], name[DIRSIZ + 1];
  struct inode *ip, *dp;
  int r;

  if((r = argstr(0, old, sizeof(old))) < 0 || (r = argstr(1, new, sizeof(new))) < 0)
    return r;
  if((r = begin_change()) < 0)
    return r;
  if((ip = namei_err(old, 0, &r)) == 0)
    goto out;
  if((r = ilock(ip)) < 0 || ip->type == T_DIR || ip->nlink >= 0x7FFF){
    if(r == 0)
      r = ip->type == T_DIR ? -EPERM : -EMLINK;
    iunlockput(ip);
    goto out;
  }
  ip->nlink++;
  iupdate(ip);
  iunlock(ip);

  if((dp = nameiparent_err(new, name, &r)) == 0)
    goto undo;
  if((r = ilock(dp)) < 0)
    ;
  else if(dp->dev != ip->dev)
    r = -EXDEV;
  else
    r = dirlink(dp, name, ip->inum);
  iunlockput(dp);
  if(r < 0)
    goto undo;
  iput(ip);
  return end_change(0);

undo:
  ilock(ip);
  ip->nlink--;
  iupdate(ip);
  iunlockput(ip);
out:
  end_op();
  return r;
}

// unlink(path): remove a name; an empty directory may be removed too.
int
sys_unlink(void)
{
  char path[MAXPATH], name[DIRSIZ + 1];
  struct inode *dp, *ip;
  struct dirent de;
  uint off;
  int r;

  if((r = argstr(0, path, sizeof(path))) < 0)
    return r;
  if((r = begin_change()) < 0)
    return r;
  if((dp = nameiparent_err(path, name, &r)) == 0){
    end_op();
    return r == -EEXIST ? -EISDIR : r;   // the root itself
  }
  if((r = ilock(dp)) < 0)
    goto out_dp;
  if(strncmp(name, ".", DIRSIZ) == 0 || strncmp(name, "..", DIRSIZ) == 0){
    r = -EISDIR;
    goto out_dp;
  }
  if((ip = dirlookup(dp, name, &off, &r)) == 0)
    goto out_dp;
  if((r = ilock_entry(ip)) < 0){     // damaged: leave the entry for fsck
    iput(ip);
    goto out_dp;
  }
  if(ip->type == T_DIR && (r = dir_isempty(ip)) <= 0){
    iunlockput(ip);
    r = r < 0 ? r : -ENOTEMPTY;
    goto out_dp;
  }
  if(ip->type == T_DIR && dp->nlink < 2){   // its ".." must be counted in dp
    iunlockput(ip);
    r = fs_bad(dp->inum, "link count", dp->nlink);
    goto out_dp;
  }
  // The entry was just read at off, so its block exists and writei, with
  // a kernel source, needs no memory: only a disk error can make it fail,
  // and then nothing has changed yet.
  memset(&de, 0, sizeof(de));
  if((r = writei(dp, 0, (uint)&de, off, sizeof(de))) != sizeof(de)){
    iunlockput(ip);
    r = r < 0 ? r : -EIO;
    goto out_dp;
  }
  if(ip->type == T_DIR){
    dp->nlink--;                 // its ".." is gone
    iupdate(dp);
  }
  iunlockput(dp);
  ip->nlink--;
  iupdate(ip);
  iunlockput(ip);
  return end_change(0);

out_dp:
  iunlockput(dp);
  end_op();
  return r;
}

// lseek(fd, offset, whence): the new offset, -ESPIPE for pipes and
// devices, -EINVAL for a bad whence or a negative/too large result.
int
sys_lseek(void)
{
  struct file *f;
  int off, whence, r;
  long long base, pos;

  if((r = arg_fd(0, 0, &f)) < 0)
    return r;
  if(argint(1, &off) < 0 || argint(2, &whence) < 0)
    return -EFAULT;
  if(f->type != FD_INODE)
    return -ESPIPE;
  ilock(f->ip);
  if(whence == SEEK_SET)
    base = 0;
  else if(whence == SEEK_CUR)
    base = f->off;
  else if(whence == SEEK_END)
    base = f->ip->size;
  else
    base = -1LL << 40;
  pos = base + off;
  if(pos < 0 || pos > 0x7FFFFFFF)
    r = -EINVAL;
  else
    r = f->off = (uint)pos;
  iunlock(f->ip);
  return r;
}

// fsstat(struct fsstat *st): block and inode counts of the root file
// system (kernel/fsstat.h). 0, -EFAULT, or -EIO (a disk error).
int
sys_fsstat(void)
{
  struct fsstat st;
  uint uaddr;

  if(arguint(0, &uaddr) < 0)
    return -EFAULT;
  if(fs_stat(ROOTDEV, &st) < 0)
    return -EIO;
  return copyout(myproc(), uaddr, &st, sizeof(st));   // 0, -EFAULT or -ENOMEM
}
