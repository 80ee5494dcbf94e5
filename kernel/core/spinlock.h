// Mutual-exclusion spin lock: held with interrupts off on this CPU.
#ifndef KSPINLOCK_H
#define KSPINLOCK_H
#include "types.h"

struct spinlock {
  volatile uint locked;   // 1 while held
  const char *name;       // for panics and procdump
  struct cpu *cpu;        // holder
  uint pcs[10];           // return addresses at acquire time (debugging)
};
#endif
