// The scheduler: per-CPU run queues, sleeping, yielding, and each CPU's
// scheduler loop.
//
// Policy (README.md, "Scheduling"):
//   - Every CPU has a FIFO run queue of RUNNABLE processes. A process that
//     becomes runnable (woken, forked, preempted) joins the queue of the CPU
//     it last ran on; a new process joins its parent's CPU. It stays with
//     that CPU: caches and TLB are warm there, and two processes handing
//     work to each other (a pipe) stay together on one CPU.
//   - If that CPU is halted (idle), it is sent an IPI so it runs the process
//     at once instead of at its next clock tick. A busy CPU gets no IPI: it
//     reaches its queue when its process blocks or at its next tick.
//   - A CPU with an empty queue takes work from another CPU's queue (the
//     oldest process at the head), whether that CPU is busy (the process
//     is waiting) or still halted (it would wait for the CPU to wake up,
//     and this one is awake). With sysctl sched.steal_wait=1, from a busy
//     CPU only if two or more wait there or the oldest has waited across a
//     clock tick. An idle CPU looks at every tick of its own, as its timer
//     ends each halt.
//   - A running process is preempted at a clock tick only if its CPU's
//     queue holds another process.
//
// Counters (vmstat): sched_ipis, sched_ipi_late (the IPI lost the race with
// the CPU's next tick), sched_migrations. Trace events: sched_wakeup,
// sched_switch (with why the previous process left), sched_migrate.
//
// Locking: the ptable lock (proc.c) protects every run queue, each
// process's state and scheduling fields (cpu, rq_next, rq_tick, leave_why,
// ipi_cpu, ipi_ticks) and each CPU's halted flag, which is set under it
// and cleared by its own CPU without it (a stale 1 costs one spurious
// IPI). A process is on a queue exactly while RUNNABLE, and on one only.
// Lock order: the ptable lock is taken after any other spinlock (sleep()
// is called holding the caller's lock) and before none.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "arch/traps.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "proc/sched.h"
#include "core/defs.h"
#include "trace/trace.h"

static struct spinlock *plock;   // proc.c's ptable lock

// sysctl sched.steal_wait: 0 (default), an idle CPU takes any process
// waiting on a busy CPU's queue; 1, only if two or more wait there or the
// oldest has waited across a clock tick (a pipe's reader and writer then
// stay on one CPU: fewer IPIs and moves, but no parallelism between them).
// Measured with pipebench and disktest on an idle host, 0 is faster.
int sched_steal_wait = 0;

extern uint ticks;

void
sched_init(struct spinlock *ptable_lock)
{
  plock = ptable_lock;
}

// ---- trace events (kernel/trace_events.h) -----------------------------------

// Record a scheduler event of type with words a, b, c (if traced) and add
// n to counter cnt (VM_NONE: none) in the same step.
static void
trace_sched(int type, uint a, uint b, uint c, int cnt, uint n)
{
  uint w[TRACE_NWORDS] = { a, b, c };

  if(cnt != VM_NONE || trace_wants(type))
    trace_record_cnt(type, w, cnt, n, VM_NONE, VM_NONE);
}

// ---- run queues --------------------------------------------------------------

// Append p to c's queue. Caller holds the ptable lock.
static void
rq_push(struct cpu *c, struct proc *p)
{
  p->rq_next = 0;
  p->rq_tick = ticks;
  if(c->rq_tail)
    c->rq_tail->rq_next = p;
  else
    c->rq_head = p;
  c->rq_tail = p;
  c->rq_len++;
}

// Take the oldest process off c's queue; 0 if it is empty. Ptable lock held.
static struct proc *
rq_pop(struct cpu *c)
{
  struct proc *p = c->rq_head;

  if(p){
    c->rq_len--;
    c->rq_head = p->rq_next;
    if(c->rq_head == 0)
      c->rq_tail = 0;
    p->rq_next = 0;
  }
  return p;
}

// May an idle CPU take the oldest process of busy CPU c's queue? Always
// with sched.steal_wait=0; otherwise if two or more processes wait there
// (c cannot run them all soon) or the oldest has waited across a clock
// tick. A single process that waits briefly is usually the partner of
// c's running process, about to run there. Ptable lock held.
static int
rq_can_steal(struct cpu *c)
{
  return !sched_steal_wait || c->rq_len >= 2 || c->rq_head->rq_tick != ticks;
}

// The CPU whose queue this CPU (self) should take from, or 0: a halted
// CPU with work, else the busy CPU whose oldest process has waited
// longest, if stealing from it is allowed (rq_can_steal). Ptable lock held.
static struct cpu *
rq_victim(struct cpu *self)
{
  struct cpu *c, *best = 0;

  for(c = cpus; c < cpus + ncpu; c++){
    if(c == self || c->rq_head == 0)
      continue;
    if(c->halted)
      return c;
    if(rq_can_steal(c) &&
       (best == 0 || (int)(c->rq_head->rq_tick - best->rq_head->rq_tick) < 0))
      best = c;
  }
  return best;
}

// The next process for CPU c to run, taken off a queue (its own first), or
// 0. Ptable lock held.
static struct proc *
rq_pick(struct cpu *c)
{
  struct cpu *v;
  struct proc *p;

  if((p = rq_pop(c)) != 0)
    return p;
  if((v = rq_victim(c)) == 0)
    return 0;
  p = rq_pop(v);
  trace_sched(TEV_SCHED_MIGRATE, p->pid, v - cpus, c - cpus, VM_SCHED_MIGRATIONS, 1);
  p->cpu = c - cpus;
  return p;
}

// Make p RUNNABLE on the queue of the CPU it last ran on (a new process:
// this CPU) and wake that CPU with an IPI if it is halted. Caller holds the
// ptable lock; p is not RUNNING or RUNNABLE.
void
sched_make_runnable(struct proc *p)
{
  struct cpu *self = mycpu(), *c;
  int ipi = 0;

  if(p->state == EMBRYO)
    p->cpu = self - cpus;
  c = &cpus[p->cpu];
  p->state = RUNNABLE;
  rq_push(c, p);
  if(c != self && c->halted){
    lapic_ipi(c->apicid, T_IRQ0 + IRQ_RESCHED);
    p->ipi_cpu = c;
    p->ipi_ticks = c->nticks;
    ipi = 1;
  }
  trace_sched(TEV_SCHED_WAKEUP, p->pid, c - cpus, ipi, VM_SCHED_IPIS, ipi);
}

// A clock interrupt on this CPU (interrupts off).
void
sched_clock_tick(void)
{
  mycpu()->nticks++;
}

// The wake-up IPI arrived: nothing to do but return, which ends the halt
// in the scheduler loop, which then looks at the queues.
void
sched_resched_intr(void)
{
}

// ---- giving up the CPU --------------------------------------------------------

// Switch from the current process to this CPU's scheduler. The caller
// holds the ptable lock (and no other lock) and has changed p->state from
// RUNNING; why (SCHED_BLOCKED ...) goes in the trace. Returns when the
// process is chosen to run again, with the ptable lock held.
void
sched_leave(int why)
{
  struct proc *p = myproc();
  int intena;

  if(!holding(plock))
    panic("sched: ptable lock not held");
  if(mycpu()->ncli != 1)
    panic("sched: other locks held");
  if(p->state == RUNNING)
    panic("sched: process still running");
  if(readeflags() & FL_IF)
    panic("sched: interrupts enabled");
  p->leave_why = why;
  intena = mycpu()->intena;
  swtch(&p->context, mycpu()->scheduler);
  mycpu()->intena = intena;
}

// Sleep on chan, atomically releasing lk (reacquired before returning).
// A wakeup(chan) after the caller checked its condition under lk is not
// lost, because the ptable lock is taken before lk is let go.
void
sleep(void *chan, struct spinlock *lk)
{
  struct proc *p = myproc();

  if(p == 0)
    panic("sleep: no process");
  if(lk == 0)
    panic("sleep: no lock");
  if(lk != plock){
    acquire(plock);
    release(lk);
  }
  p->chan = chan;
  p->state = SLEEPING;
  sched_leave(SCHED_BLOCKED);
  p->chan = 0;
  if(lk != plock){
    release(plock);
    acquire(lk);
  }
}

// Timer preemption: let the next process on this CPU's queue run, if there
// is one; otherwise keep running.
void
yield(void)
{
  struct proc *p = myproc();

  acquire(plock);
  if(mycpu()->rq_head){
    p->state = RUNNABLE;
    rq_push(mycpu(), p);
    sched_leave(SCHED_PREEMPTED);
  }
  release(plock);
}

// ---- the scheduler loop ---------------------------------------------------------

// Halt CPU c until an interrupt, unless work arrived. Called with the
// ptable lock held and nothing found to run; releases it. Setting halted
// under the lock, then checking the queue with interrupts off and halting
// with "sti; hlt" (no interrupt in between), loses no wake-up: a waker
// that ran before the check left work on the queue, one after it sees
// halted and sends an IPI, which ends the halt.
static void
idle(struct cpu *c)
{
  c->halted = 1;
  release(plock);
  cli();
  if(c->rq_head == 0)
    asm volatile("sti; hlt");
  c->halted = 0;
}

// Each CPU's scheduler loop, entered once from main() and never left: take
// a process from a run queue (rq_pick), switch to it, and take over again
// when it calls sched_leave(). With nothing to run, halt until an
// interrupt (a tick, a device, a wake-up IPI).
void
scheduler(void)
{
  struct cpu *c = mycpu();
  struct proc *p;
  int prev = 0, why = SCHED_IDLE;   // what this CPU ran last, and why it left

  c->proc = 0;
  for(;;){
    sti();
    acquire(plock);
    if((p = rq_pick(c)) == 0){
      if(prev)
        trace_sched(TEV_SCHED_SWITCH, prev, 0, why, VM_NONE, 0);
      prev = 0;
      why = SCHED_IDLE;
      idle(c);
      continue;
    }
    trace_sched(TEV_SCHED_SWITCH, prev, p->pid, why, VM_NONE, 0);
    if(p->ipi_cpu){
      if(p->ipi_cpu->nticks != p->ipi_ticks)
        trace_count(VM_SCHED_IPI_LATE, 1);
      p->ipi_cpu = 0;
    }
    c->proc = p;
    switchuvm(p);
    p->state = RUNNING;
    swtch(&c->scheduler, p->context);
    switchkvm();
    c->proc = 0;
    prev = p->pid;           // p stays allocated: its parent's wait needs the lock
    why = p->leave_why;
    release(plock);
  }
}
