// The user-visible interface of tracing and the VM counters, shared by the
// kernel (systrace.c) and user programs (trace, vmstat):
//   int trace(int cmd, int arg, const char *s);   SYS_trace
//   int vmstat(struct vmstat *vs, int size);      SYS_vmstat
// The caller includes kernel/types.h first.
#ifndef KTRACECTL_H
#define KTRACECTL_H
#include "trace_events.h"

// trace(cmd, arg, s) commands. All return 0 or -errno unless stated.
#define TRACE_ON      1   // start recording (allocates the buffers if needed)
#define TRACE_OFF     2   // stop recording
#define TRACE_CLEAR   3   // empty the buffers, zero sequence numbers and losses
#define TRACE_MASK    4   // arg = bit mask of event types (bit 1 << code); -1 = all
#define TRACE_PID     5   // arg = record only this pid (0 = every process)
#define TRACE_SIZE    6   // arg = records per CPU (re-allocates; clears)
#define TRACE_MODE    7   // arg = TRACE_FLIGHT or TRACE_STOP
#define TRACE_STATUS  8   // s = struct trace_status * to fill
#define TRACE_DUMP    9   // write the buffers to COM2; returns records written
#define TRACE_MARK   10   // s = label (<= 23 chars kept), arg = a number: a marker event
#define TRACE_BENCH  11   // arg = n: emit n markers; returns 100 x cycles per call
#define TRACE_FOLLOW 12   // arg = pid: record pid and every process it forks from
                          // now on, and theirs (0 = every process)
#define TRACE_BENCHPART 13 // arg = part (TRACE_PART_*): 100 x cycles of that part
                          // of the record path (tracing must be on for markers)
#define TRACE_CRASH  14   // arg = TRACE_CRASH_YES: panic the kernel on purpose, to
                          // test the flight recorder (like Linux's sysrq-c);
                          // -EPERM unless the test mode is on (kalloctest.h)
#define TRACE_CRASH_YES 0x6b726173

#define TRACE_FLIGHT  0   // when full, overwrite the oldest records
#define TRACE_STOP    1   // when full, drop new records

// Parts of the record path TRACE_BENCHPART times.
#define TRACE_PART_CHECK  0   // the trace_wants() test alone
#define TRACE_PART_IRQ    1   // interrupts off and on again
#define TRACE_PART_TSC    2   // one rdtsc
#define TRACE_PART_OFF    3   // a whole counted event of a type not traced
#define TRACE_PART_RECORD 4   // a full trace_record() with 7 words
#define TRACE_PART_RECORD_CLI 5 // the same, called with interrupts already off
                              // (as from the fault path and under spinlocks)
#define TRACE_PART_OFF_CLI 6  // the same, called with interrupts already off
#define TRACE_PART_FAULT  7   // a fault's record as the fault path makes it
                              // (interrupts off, inline), as a marker
#define TRACE_PART_PAGE   8   // a page_alloc record as the allocator makes it
                              // (its lock held, inline), as a marker
#define TRACE_PART_FLOOR  9   // the least a record can be: rdtsc and 12 stores,
                              // no test, no counter
#define TRACE_PART_STORES 10  // the 12 stores alone (no rdtsc)
#define TRACE_NPARTS      11

// Event types recorded when no mask was given: all but the syscall
// entry/exit events and the scheduler's events (they come at every system
// call and every context switch and would crowd out the rest; ask for them
// by name).
#define TRACE_MASK_SYS   ((1u << TEV_SYS_ENTER) | (1u << TEV_SYS_EXIT))
#define TRACE_MASK_SCHED ((1u << TEV_SCHED_WAKEUP) | (1u << TEV_SCHED_SWITCH) | \
                          (1u << TEV_SCHED_MIGRATE))
#define TRACE_MASK_DEFAULT (~1u & ~TRACE_MASK_SYS & ~TRACE_MASK_SCHED)
#define TRACE_NTYPES  32  // event codes are 1 .. TRACE_NTYPES-1 (mask bits)

#define TRACE_MAXCPU  8
#define TRACE_NWORDS  7   // payload words per record
#define TRACE_LABEL   24  // bytes of a marker label (NUL included)

// Event type codes: TEV_FAULT, TEV_PAGE_ALLOC, ...
enum {
#define TRACE_EVENT(N, code, name, fields) TEV_##N = code,
  TRACE_EVENTS
#undef TRACE_EVENT
  TEV_LIMIT
};

// Fault resolutions TF_ZERO, ... and write-back reasons TW_MSYNC, ...
enum {
#define TRACE_FAULT(N, code, name) TF_##N = code,
  TRACE_FAULT_KINDS
#undef TRACE_FAULT
  TF_COUNT
};
enum {
#define TRACE_WHY(N, code, name) TW_##N = code,
  TRACE_WHY_KINDS
#undef TRACE_WHY
  TW_COUNT
};

// Counter indexes VM_FAULT_ZERO, ..., VM_NCOUNTERS.
enum {
#define VMSTAT_COUNTER(N, idx, name) VM_##N = idx,
  VMSTAT_COUNTERS
#undef VMSTAT_COUNTER
  VM_NCOUNTERS
};

// Per CPU, since the last clear: recorded = held + lost, and records got
// sequence numbers 0 .. recorded-1 (the lost ones are the gaps).
struct trace_cpustat {
  uint recorded;     // events that passed the filters (= next sequence number)
  uint lost;         // of those, overwritten (flight) or dropped (stop)
  uint held;         // of those, in the buffer now
  uint paused;       // events that passed the filters while a control command
                     // or a dump had recording paused: not recorded, not in
                     // recorded; counted here (and per type in the dump)
};

struct trace_status {
  int  enabled;
  int  mode;         // TRACE_FLIGHT or TRACE_STOP
  uint mask;         // event types recorded (bit 1 << code)
  int  pid;          // 0: every process
  uint cap;          // records per CPU (0: no buffers yet)
  uint recsize;      // bytes per record
  int  ncpu;
  struct trace_cpustat cpu[TRACE_MAXCPU];
  uint tsc_khz;      // TSC rate measured against the PIT (kHz)
  int  follow;       // 1: pid and its descendants are recorded
  uint windows;      // pause windows kept (merged per cpu and type when many)
};

// What vmstat() fills: n counters (VM_NCOUNTERS at most).
struct vmstat {
  uint n;
  uint v[VM_NCOUNTERS];
};
#endif
