// The scheduler's interface to the rest of kernel/proc (sched.c).
#ifndef KSCHED_H
#define KSCHED_H
#include "trace_events.h"

struct spinlock;
struct proc;

// Why a process left its CPU (the reason field of a sched_switch event).
enum {
#define TRACE_SCHED(N, code, name) SCHED_##N = code,
  TRACE_SCHED_KINDS
#undef TRACE_SCHED
};

void sched_init(struct spinlock *ptable_lock);
void sched_make_runnable(struct proc *p);   // ptable lock held
void sched_leave(int why);                  // ptable lock held; SCHED_BLOCKED ...
#endif
