// Per-process file-descriptor tables: p->ofile[0..p->nofile) is a
// kmalloc'd array that doubles when full, so the number of open files is
// limited only by memory. Only the owning process changes its table
// (fork reads the parent's while the parent is inside fork).
#include "types.h"
#include "param.h"
#include "errno.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "fs/file.h"
#include "fs/fsint.h"
#include "core/defs.h"

#define FD_FIRST 16                // slots in a new table

// Make p's table at least n slots long. 0 or -ENOMEM.
static int
grow(struct proc *p, int n)
{
  struct file **t;
  int size = p->nofile ? p->nofile : FD_FIRST;

  while(size < n)
    size *= 2;
  if(size == p->nofile)
    return 0;
  if((t = kzalloc_wait(size * sizeof(*t))) == 0)
    return -ENOMEM;
  if(p->ofile)
    memmove(t, p->ofile, p->nofile * sizeof(*t));
  kfree(p->ofile);
  p->ofile = t;
  p->nofile = size;
  return 0;
}

// Install f at p's lowest free descriptor, which is returned; -ENOMEM if
// the table cannot grow. The reference to f passes to the table.
// The search starts at p->fdfree, so opening n files costs O(n), not O(n^2).
int
fd_alloc(struct proc *p, struct file *f)
{
  int fd;

  for(fd = p->fdfree; fd < p->nofile; fd++)
    if(p->ofile[fd] == 0)
      break;
  if(fd == p->nofile && grow(p, fd + 1) < 0)
    return -ENOMEM;
  p->ofile[fd] = f;
  p->fdfree = fd + 1;
  return fd;
}

// The file open at fd, or 0.
struct file *
fd_get(struct proc *p, int fd)
{
  if(fd < 0 || fd >= p->nofile)
    return 0;
  return p->ofile[fd];
}

// Remove fd from p's table and return its file (the caller closes it);
// 0 if fd is not open.
struct file *
fd_take(struct proc *p, int fd)
{
  struct file *f = fd_get(p, fd);

  if(f){
    p->ofile[fd] = 0;
    if(fd < p->fdfree)
      p->fdfree = fd;
  }
  return f;
}

// Give dst (a new process) a copy of src's table, sharing the files.
// 0 or -ENOMEM (dst may then hold part of a table: fd_close_all it).
int
fd_copy_table(struct proc *dst, struct proc *src)
{
  int fd;

  dst->ofile = 0;
  dst->nofile = 0;
  dst->fdfree = 0;
  if(src->nofile == 0)
    return 0;
  if(grow(dst, src->nofile) < 0)
    return -ENOMEM;
  dst->fdfree = src->fdfree;
  for(fd = 0; fd < src->nofile && fd < dst->nofile; fd++)
    if(src->ofile[fd])
      dst->ofile[fd] = file_dup(src->ofile[fd]);
  return 0;
}

// Close every descriptor of p and free its table.
void
fd_close_all(struct proc *p)
{
  struct file *f;
  int fd;

  for(fd = 0; fd < p->nofile; fd++){
    if((f = p->ofile[fd]) != 0){
      p->ofile[fd] = 0;
      file_close(f);
    }
  }
  kfree(p->ofile);
  p->ofile = 0;
  p->nofile = 0;
  p->fdfree = 0;
}
