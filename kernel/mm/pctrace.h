// Counters and trace events of the page cache and of TLB shootdowns
// (the same pattern as trace/trace.h: always bump the VM counter, record
// an event only when that event type is being traced, both as one step).
#ifndef KPCTRACE_H
#define KPCTRACE_H
#include "trace/trace.h"

// A page of inode ino (file page pgno) was found in the cache (hit), read
// from disk into it (miss), or freed from it (free): type is
// TEV_PCACHE_HIT, TEV_PCACHE_MISS or TEV_PCACHE_FREE.
static inline void
trace_pcache(int type, uint ino, uint pgno)
{
  int c = type == TEV_PCACHE_HIT ? VM_PCACHE_HITS :
          type == TEV_PCACHE_MISS ? VM_PCACHE_MISSES : VM_PCACHE_FREED;
  uint w[TRACE_NWORDS] = { ino, pgno };

  trace_event(type, w, c, 1, VM_NONE, VM_NONE);
}

// One TLB shootdown: the CPUs in mask flushed, taking cycles in all.
static inline void
trace_tlb_shootdown(uint mask, uint cycles)
{
  uint w[TRACE_NWORDS] = { mask, cycles };

  trace_event(TEV_TLB_SHOOTDOWN, w, VM_TLB_SHOOTDOWNS, 1, VM_NONE, VM_NONE);
}

// A page was written back for reason why (TW_*): the msync_write event
// (its meaning unchanged), which also bumps the per-reason counter.
static inline void
trace_writeback(uint va, uint ino, uint off, uint bytes, int why)
{
  trace_msync_write(va, ino, off, bytes, why);
}
#endif
