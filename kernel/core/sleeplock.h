// Long-term lock: a process waiting for it sleeps instead of spinning.
// May be held across disk I/O; never take one while holding a spinlock.
#ifndef KSLEEPLOCK_H
#define KSLEEPLOCK_H
#include "types.h"
#include "core/spinlock.h"

struct sleeplock {
  uint locked;            // 1 while held
  struct spinlock lk;     // protects this structure
  const char *name;
  int pid;                // holder
};
#endif
