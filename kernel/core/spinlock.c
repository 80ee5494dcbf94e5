// Spin locks and the interrupt-disable nesting they rely on.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"

void
initlock(struct spinlock *lk, const char *name)
{
  lk->name = name;
  lk->locked = 0;
  lk->cpu = 0;
}

// Take lk, spinning until it is free. Interrupts stay off on this CPU until
// the matching release(), so an interrupt handler cannot deadlock on it.
void
acquire(struct spinlock *lk)
{
  pushcli();
  if(holding(lk)){
    printf("lock %s\n", lk->name ? lk->name : "?");
    panic("acquire: already held");
  }
  while(xchg(&lk->locked, 1) != 0)
    cpu_relax();
  __sync_synchronize();   // no load/store moves above this point
  lk->cpu = mycpu();
  getcallerpcs(&lk, lk->pcs);
}

// Give up lk, which this CPU must hold.
void
release(struct spinlock *lk)
{
  if(!holding(lk)){
    printf("lock %s\n", lk->name ? lk->name : "?");
    panic("release: not held");
  }
  lk->pcs[0] = 0;
  lk->cpu = 0;
  __sync_synchronize();   // no load/store moves below this point
  asm volatile("movl $0, %0" : "+m"(lk->locked) : : "memory");
  popcli();
}

// Fill pcs[] with up to 10 return addresses, following the %ebp chain from
// the frame whose first argument lives at v. Unused slots become 0.
void
getcallerpcs(void *v, uint pcs[])
{
  uint *frame = (uint *)v - 2;   // saved %ebp sits two words below arg 0
  int i;

  for(i = 0; i < 10; i++){
    if(frame == 0 || (uint)frame < KERNBASE || (uint)frame == 0xFFFFFFFF)
      break;
    pcs[i] = frame[1];           // return address
    frame = (uint *)frame[0];    // caller's %ebp
  }
  for(; i < 10; i++)
    pcs[i] = 0;
}

// Is lk held by this CPU?
int
holding(struct spinlock *lk)
{
  int r;
  pushcli();
  r = lk->locked && lk->cpu == mycpu();
  popcli();
  return r;
}

// Disable interrupts, counting nesting: it takes as many popcli() calls as
// pushcli() calls to turn them back on, and only if they were on at first.
void
pushcli(void)
{
  uint eflags = readeflags();
  struct cpu *c;

  cli();
  c = mycpu();
  if(c->ncli == 0)
    c->intena = eflags & FL_IF;
  c->ncli++;
}

void
popcli(void)
{
  struct cpu *c;

  if(readeflags() & FL_IF)
    panic("popcli: interrupts on");
  c = mycpu();
  if(--c->ncli < 0)
    panic("popcli: unbalanced");
  if(c->ncli == 0 && c->intena)
    sti();
}
