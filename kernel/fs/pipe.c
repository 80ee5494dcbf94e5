// Pipes: a kmalloc'd ring buffer shared by a read end and a write end.
// Readers sleep while it is empty, writers while it is full. Data moves
// between user memory and the ring through a small stack buffer, so no
// user copy happens with the pipe's spinlock held.
#include "types.h"
#include "param.h"
#include "errno.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "fs/file.h"
#include "core/defs.h"

#define PIPESIZE 4096              // bytes the ring holds (one page)
#define PIPECHUNK 512              // bytes moved per lock hold

struct pipe {
  struct spinlock lock;
  char *data;                      // PIPESIZE bytes
  uint nread;                      // bytes read so far (mod 2^32)
  uint nwrite;                     // bytes written so far
  int readopen;                    // the read end is open
  int writeopen;                   // the write end is open
};

// Make a pipe and two files for its ends. 0, or -ENOMEM with nothing
// allocated.
int
pipe_alloc(struct file **rf, struct file **wf)
{
  struct pipe *pi;
  struct file *r = 0, *w = 0;

  if((pi = kzalloc_wait(sizeof(*pi))) == 0)      // (waits for reclaim: mm/allocwait.c)
    return -ENOMEM;
  if((pi->data = kmalloc_wait(PIPESIZE)) == 0)
    goto fail;
  if((r = file_alloc()) == 0 || (w = file_alloc()) == 0)
    goto fail;
  initlock(&pi->lock, "pipe");
  pi->readopen = pi->writeopen = 1;
  r->type = FD_PIPE;
  r->readable = 1;
  r->pipe = pi;
  w->type = FD_PIPE;
  w->writable = 1;
  w->pipe = pi;
  *rf = r;
  *wf = w;
  return 0;

fail:
  if(r)
    file_close(r);               // still FD_NONE: just freed
  kfree(pi->data);
  kfree(pi);
  return -ENOMEM;
}

// Close one end (writable says which); the pipe goes when both are closed.
void
pipe_close(struct pipe *pi, int writable)
{
  int gone;

  acquire(&pi->lock);
  if(writable){
    pi->writeopen = 0;
    wakeup(&pi->nread);
  } else {
    pi->readopen = 0;
    wakeup(&pi->nwrite);
  }
  gone = !pi->readopen && !pi->writeopen;
  release(&pi->lock);
  if(gone){
    kfree(pi->data);
    kfree(pi);
  }
}

// Write n bytes from user address uaddr, sleeping while the ring is full.
// Returns n, or the bytes written before the reader went away (-EPIPE if
// none), the process was killed (-EINTR if none) or a bad address (-EFAULT).
int
pipe_write(struct pipe *pi, uint uaddr, int n)
{
  char chunk[PIPECHUNK];
  int done = 0, m, i, err = 0;
  struct proc *p = myproc();

  while(done < n && !err){
    m = n - done < PIPECHUNK ? n - done : PIPECHUNK;
    if((err = copyin(p, chunk, uaddr + done, m)) < 0)  // -EFAULT or -ENOMEM
      break;
    acquire(&pi->lock);
    for(i = 0; i < m; ){
      if(!pi->readopen){
        err = -EPIPE;
        break;
      }
      if(pi->nwrite - pi->nread == PIPESIZE){
        if(killed(p)){
          err = -EINTR;
          break;
        }
        wakeup(&pi->nread);
        sleep(&pi->nwrite, &pi->lock);
        continue;
      }
      pi->data[pi->nwrite++ % PIPESIZE] = chunk[i++];
    }
    done += i;
    wakeup(&pi->nread);
    release(&pi->lock);
  }
  return done > 0 ? done : err;
}

// Read up to n bytes (at most PIPECHUNK) into user address uaddr, sleeping
// while the pipe is empty and a writer remains. Returns the count (0 at
// end of file), -EINTR if killed while waiting, or -EFAULT.
int
pipe_read(struct pipe *pi, uint uaddr, int n)
{
  char chunk[PIPECHUNK];
  int m, r;
  struct proc *p = myproc();

  if(n <= 0)
    return 0;
  acquire(&pi->lock);
  while(pi->nread == pi->nwrite && pi->writeopen){
    if(killed(p)){
      release(&pi->lock);
      return -EINTR;
    }
    sleep(&pi->nread, &pi->lock);
  }
  for(m = 0; m < n && m < PIPECHUNK && pi->nread != pi->nwrite; m++)
    chunk[m] = pi->data[pi->nread++ % PIPESIZE];
  wakeup(&pi->nwrite);
  release(&pi->lock);
  if(m > 0 && (r = copyout(p, uaddr, chunk, m)) < 0)
    return r;                    // -EFAULT or -ENOMEM (the bytes are lost)
  return m;
}
