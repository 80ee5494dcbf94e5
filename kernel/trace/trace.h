// Event tracing: the helpers other kernel files call where something worth
// recording happens. Each helper bumps its always-on VM counter(s) and, only
// if tracing is on for that event type, records an event in this CPU's ring
// buffer (trace.c). With tracing off the cost is one load and one branch.
//
// Recording takes no lock, never sleeps and is safe in interrupt handlers
// and with spinlocks held (it runs with interrupts off on this CPU).
#ifndef KTRACE_H
#define KTRACE_H
#include "types.h"
#include "arch/x86.h"
#include "arch/memlayout.h"
#include "tracectl.h"
#include "vmstat.h"

// One event as stored in a buffer and as sent in a dump (48 bytes,
// little-endian; see trace/FORMAT.md).
struct trace_rec {
  uint64 tsc;                  // rdtsc() when recorded
  uint   seq;                  // per-CPU sequence number since the last clear
  ushort type;                 // TEV_*
  uchar  cpu;                  // index in cpus[]
  uchar  flags;                // 0 (reserved)
  int    pid;                  // current process, 0 if none
  uint   w[TRACE_NWORDS];      // payload, laid out as trace_events.h says
};

// Bit (1 << TEV_x) is set while events of type x are being recorded: the
// enabled mask, or 0 when tracing is off.
extern volatile uint trace_live;

void trace_record(int type, const uint *w);                  // the one emission point
void trace_fault_slow(uint va, uint err, int how, uint64 t0);
void trace_str_event(int type, int nlead, uint lead, const char *s, int slen, uint tail);

static inline int
trace_wants(int type)
{
  return __builtin_expect((trace_live >> type) & 1, 0);
}

// Timestamp for the start of a fault (0 when not tracing faults).
static inline uint64
trace_start(void)
{
  return trace_wants(TEV_FAULT) ? rdtsc() : 0;
}

// A page fault at va with CPU error code err (PF_* bits), resolved as how
// (TF_*), begun at t0 = trace_start(). Call exactly once per fault, where
// the fault is classified.
static inline void
trace_fault(uint va, uint err, int how, uint64 t0)
{
  vmstat_inc(how);             // VM_FAULT_<how> has the same number as TF_<how>
  vmstat_inc(VM_FAULTS);
  if(trace_wants(TEV_FAULT))
    trace_fault_slow(va, err, how, t0);
}

static inline void
trace_page_event(int type, void *kva, int order, void *site)
{
  uint w[TRACE_NWORDS] = { V2P(kva), (uint)order, (uint)site };

  trace_record(type, w);
}

// page_alloc returned the block kva of 2^order pages to the caller at site
// (__builtin_return_address(0) in page_alloc).
static inline void
trace_page_alloc(void *kva, int order, void *site)
{
  vmstat_add(VM_PGALLOC, 1u << order);
  if(trace_wants(TEV_PAGE_ALLOC))
    trace_page_event(TEV_PAGE_ALLOC, kva, order, site);
}

// page_free took back the block kva of 2^order pages from site.
static inline void
trace_page_free(void *kva, int order, void *site)
{
  vmstat_add(VM_PGFREE, 1u << order);
  if(trace_wants(TEV_PAGE_FREE))
    trace_page_event(TEV_PAGE_FREE, kva, order, site);
}

// A page of a shared file mapping was written back: bytes at file offset
// off of inode ino, from user address va, because of why (TW_*).
static inline void
trace_msync_write(uint va, uint ino, uint off, uint bytes, int why)
{
  vmstat_inc(VM_MSYNC_PAGES);
  vmstat_add(VM_MSYNC_BYTES, bytes);
  if(trace_wants(TEV_MSYNC_WRITE)){
    uint w[TRACE_NWORDS] = { va, ino, off, bytes, (uint)why };
    trace_record(TEV_MSYNC_WRITE, w);
  }
}

// The current process (named name) forked child pid child.
static inline void
trace_fork(int child, const char *name)
{
  vmstat_inc(VM_FORKS);
  if(trace_wants(TEV_FORK))
    trace_str_event(TEV_FORK, 1, (uint)child, name, 16, 0);
}

// The current process now runs the program name (after exec succeeded).
static inline void
trace_exec(const char *name)
{
  vmstat_inc(VM_EXECS);
  if(trace_wants(TEV_EXEC))
    trace_str_event(TEV_EXEC, 0, 0, name, 16, 0);
}

// The current process (named name) exits with status.
static inline void
trace_exit(int status, const char *name)
{
  vmstat_inc(VM_EXITS);
  if(trace_wants(TEV_EXIT))
    trace_str_event(TEV_EXIT, 1, (uint)status, name, 16, 0);
}

// The current process mapped [addr, addr+len) with prot and flags, backed by
// inode ino (0: anonymous) from file offset off.
static inline void
trace_mmap(uint addr, uint len, int prot, int flags, uint ino, uint off)
{
  vmstat_inc(VM_MMAPS);
  if(trace_wants(TEV_MMAP)){
    uint w[TRACE_NWORDS] = { addr, len, (uint)prot, (uint)flags, ino, off };
    trace_record(TEV_MMAP, w);
  }
}

// The current process unmapped [addr, addr+len).
static inline void
trace_munmap(uint addr, uint len)
{
  vmstat_inc(VM_MUNMAPS);
  if(trace_wants(TEV_MUNMAP)){
    uint w[TRACE_NWORDS] = { addr, len };
    trace_record(TEV_MUNMAP, w);
  }
}

// A user marker: label (NUL-terminated, cut to TRACE_LABEL-1 bytes) and arg.
static inline void
trace_marker(const char *label, int arg)
{
  vmstat_inc(VM_MARKERS);
  if(trace_wants(TEV_MARKER))
    trace_str_event(TEV_MARKER, 0, 0, label, TRACE_LABEL, (uint)arg);
}

// A system call num begins (args: its first three argument words, read
// by argint). Returns the start time for trace_sys_exit (0: not traced).
uint64 trace_sys_enter_slow(uint num);

static inline uint64
trace_sys_enter(uint num)
{
  if(trace_wants(TEV_SYS_ENTER) | trace_wants(TEV_SYS_EXIT))
    return trace_sys_enter_slow(num);
  return 0;
}

// System call num returns ret; t0 from trace_sys_enter().
static inline void
trace_sys_exit(uint num, int ret, uint64 t0)
{
  if(trace_wants(TEV_SYS_EXIT)){
    uint w[TRACE_NWORDS] = { num, (uint)ret, t0 ? (uint)(rdtsc() - t0) : 0 };
    trace_record(TEV_SYS_EXIT, w);
  }
}

// fork made child from parent: a pid filter that follows descendants
// takes the child in. Call before the child can run.
void trace_fork_follow(int parent, int child);

// Flight recorder: dump the buffers to COM2 from panic() (other CPUs
// stopped, no locks taken) or on the console's dump key (from the
// interrupt handler; done later by the control path if it is busy).
void trace_panic_dump(void);
void trace_console_dump(void);

// Control (systrace.c calls these). All return 0 or -errno unless stated.
int  trace_ctl(int cmd, int arg);               // ON OFF CLEAR MASK PID SIZE MODE
void trace_status(struct trace_status *st);
int  trace_dump(void);                          // records written, or -errno
int  trace_bench(int n);                        // 100 x cycles per trace_marker()
int  trace_bench_part(int part);                // 100 x cycles of one part (TRACE_PART_*)
#endif
