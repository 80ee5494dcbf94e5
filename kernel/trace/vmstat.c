// The VM counters (see vmstat.h).
#include "types.h"
#include "vmstat.h"

uint vmstat_counters[VM_NCOUNTERS];

// Copy every counter into vs. Counters are read one by one without a lock,
// so a snapshot taken while other CPUs work may be off by in-flight events.
void
vmstat_read(struct vmstat *vs)
{
  int i;

  vs->n = VM_NCOUNTERS;
  for(i = 0; i < VM_NCOUNTERS; i++)
    vs->v[i] = __atomic_load_n(&vmstat_counters[i], __ATOMIC_RELAXED);
}
