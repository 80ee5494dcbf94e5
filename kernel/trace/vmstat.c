// The VM counters (see vmstat.h).
#include "types.h"
#include "vmstat.h"
#include "trace/trace.h"

uint vmstat_counters[VM_NCOUNTERS];

// Copy every counter into vs: the shared ones (vmstat_add) plus each CPU's
// share bumped by the trace helpers (trace.c). Counters are read one by one
// without a lock, so a snapshot taken while other CPUs work may be off by
// in-flight events.
void
vmstat_read(struct vmstat *vs)
{
  vs->n = VM_NCOUNTERS;
  trace_vm_sum(vs->v);
}
