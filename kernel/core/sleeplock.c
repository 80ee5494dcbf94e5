// Sleeping locks, for holders that may block (disk I/O, inodes).
#include "types.h"
#include "param.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "core/defs.h"

void
initsleeplock(struct sleeplock *lk, const char *name)
{
  initlock(&lk->lk, "sleeplock");
  lk->name = name;
  lk->locked = 0;
  lk->pid = 0;
}

// Take lk, sleeping while someone else holds it. Caller holds no spinlock.
void
acquiresleep(struct sleeplock *lk)
{
  acquire(&lk->lk);
  while(lk->locked)
    sleep(lk, &lk->lk);
  lk->locked = 1;
  lk->pid = myproc() ? myproc()->pid : 0;
  release(&lk->lk);
}

// Give up lk and wake anyone waiting for it.
void
releasesleep(struct sleeplock *lk)
{
  acquire(&lk->lk);
  lk->locked = 0;
  lk->pid = 0;
  wakeup(lk);
  release(&lk->lk);
}

// Does the current process hold lk?
int
holdingsleep(struct sleeplock *lk)
{
  int r;
  acquire(&lk->lk);
  r = lk->locked && lk->pid == (myproc() ? myproc()->pid : 0);
  release(&lk->lk);
  return r;
}
