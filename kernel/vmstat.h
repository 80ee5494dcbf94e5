// Always-on VM counters in the spirit of Linux's /proc/vmstat. The list of
// counters is VMSTAT_COUNTERS in trace_events.h; the trace helpers in
// trace.h bump them (so counters and trace agree), and the vmstat system
// call copies them out.
#ifndef KVMSTAT_H
#define KVMSTAT_H
#include "types.h"
#include "tracectl.h"

extern uint vmstat_counters[VM_NCOUNTERS];

// Add n to counter c. Lock-free (one locked add): safe anywhere, even in
// interrupt handlers.
static inline void
vmstat_add(int c, uint n)
{
  __sync_fetch_and_add(&vmstat_counters[c], n);
}

static inline void
vmstat_inc(int c)
{
  vmstat_add(c, 1);
}

void vmstat_read(struct vmstat *vs);   // a snapshot of every counter
#endif
