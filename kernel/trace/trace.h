// Event tracing: the helpers other kernel files call where something worth
// recording happens. Each helper bumps its always-on VM counter(s) and, only
// if tracing is on for that event type, records an event in this CPU's ring
// buffer (trace.c). The bump and the decision are one step with interrupts
// off (so a snapshot of the counters never splits them); with tracing off
// the cost is inline: interrupts off (and on again if they were; page
// events run under the allocator's lock, with them off already), a few
// plain adds to this CPU's counters and one test (no call, no lock, no
// locked instruction). The hot records (faults, page events) are written
// inline too (trace_slot).
//
// Recording takes no lock, never sleeps and is safe in interrupt handlers
// and with spinlocks held (it runs with interrupts off on this CPU).
#ifndef KTRACE_H
#define KTRACE_H
#include "types.h"
#include "param.h"
#include "arch/x86.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "arch/trapframe.h"
#include "tracectl.h"
#include "vmstat.h"

// One event as stored in a buffer and as sent in a dump (48 bytes,
// little-endian; see trace/FORMAT.md).
struct trace_rec {
  uint64 tsc;                  // rdtsc() when recorded
  uint   seq;                  // per-CPU sequence number since the last clear
  union {
    struct {
      ushort type;             // TEV_*
      uchar  cpu;              // index in cpus[]
      uchar  flags;            // 0 (reserved)
    };
    uint   type_cpu;           // the three as one word (one store)
  };
  int    pid;                  // current process, 0 if none
  uint   w[TRACE_NWORDS];      // payload, laid out as trace_events.h says
};

// Bit (1 << TEV_x) is set while events of type x are being recorded: the
// enabled mask, or 0 when tracing is off.
extern volatile uint trace_live;

// "No counter" for the counted record functions below (a sink slot).
#define VM_NONE VM_NCOUNTERS

// Each CPU's tracing state: its share of the VM counters the trace helpers
// bump, since boot (only that CPU writes its share, inside an event step;
// [VM_NONE]: a sink), and its ring of records. Only that CPU writes the
// ring's head and counts, inside an event step; the controller (trace.c)
// writes them, and lim, only while recording is paused or the CPUs held.
struct trace_pcpu {
  uint vm[VM_NCOUNTERS + 1];
  uint head;                   // events accepted since clear = next seq
  uint lim;                    // the inline path records while head < lim;
                               // 0: every event takes trace_slot_slow()
  struct trace_rec *recs;      // mask + 1 records (page_alloc'd, 2^order pages)
  uint mask;                   // records - 1 (a power of two - 1)
  uint cpu_tag;                // this CPU's index << 16 (trace_rec's type_cpu)
  uint ntype[TRACE_NTYPES];    // events that passed the filters, per type (= head)
  uint full;                   // 1 once head wrapped past 2^32 (else full
                               // means head > mask)
  uint stop;                   // 1 in stop mode: drop new events when full
  int order;
  volatile uint paused[TRACE_NTYPES]; // events that arrived while paused, per type,
                               // since boot
} __attribute__((aligned(64)));
extern struct trace_pcpu trace_pcpu[NCPU];

// The pid filter (0: every process), for the inline record path.
extern volatile int trace_pid;

// The counted record functions: each adds n0 to counter c0 and 1 to
// counters c1 and c2 (VM_NONE: none) and, if tracing is on for type,
// records the event, all as one step that no controller snapshot can split
// (trace.c). Type 0 is never traced (a count without an event).
// trace_record_cnt is the out-of-line form; trace_event the inline one.
void trace_record_cnt(int type, const uint *w, int c0, uint n0, int c1, int c2);
void trace_count_shared(int c0, uint n0, int c1, int c2);
void trace_record_on(struct cpu *c, int type, const uint *w);
struct trace_rec *trace_slot_slow(struct cpu *c, int type, int pid);

// The counter bumps of an event step on this CPU (*cp; 0 while it is
// still booting: the shared counters are bumped instead), interrupts
// already off.
static inline __attribute__((always_inline)) struct trace_pcpu *
trace_step_off(struct cpu **cp, int c0, uint n0, int c1, int c2)
{
  struct cpu *c;
  uint *v;
  struct trace_pcpu *t;

  if(__builtin_expect(readgs() == 0, 0)){
    trace_count_shared(c0, n0, c1, c2);
    *cp = 0;
    return 0;
  }
  asm volatile("movl %%gs:0, %0" : "=r"(c));
  *cp = c;
  t = &trace_pcpu[c - cpus];
  v = t->vm;
  if(c0 != VM_NONE)
    v[c0] += n0;
  if(c1 != VM_NONE)
    v[c1]++;
  if(c2 != VM_NONE)
    v[c2]++;
  return t;
}

// The event step inline (trace.c explains why it is exact): interrupts
// off, this CPU's counters bumped with plain adds (trace_step_off); the
// caller then tests trace_live and records (trace_slot). Returns the
// caller's eflags; the caller ends with trace_step_end().
static inline __attribute__((always_inline)) uint
trace_step(struct cpu **cp, struct trace_pcpu **tp, int c0, uint n0, int c1, int c2)
{
  uint ef = readeflags();

  cli();
  *tp = trace_step_off(cp, c0, n0, c1, c2);
  return ef;
}

static inline __attribute__((always_inline)) void
trace_step_end(uint ef)
{
  if(ef & FL_IF)
    sti();
}

// Inside an event step of type that tracing is on for (CPU c, its state
// t, p = c->proc): the next record, header written (tsc, seq, type, cpu,
// pid), for the caller to fill all TRACE_NWORDS payload words; or 0 if
// the event is filtered out, counted as paused or dropped. Inline while
// head < lim and the process passes a plain pid filter; the rest (follow
// sets, paused, no buffer, stop mode when full, 2^32 events) in
// trace_slot_slow().
static inline __attribute__((always_inline)) struct trace_rec *
trace_slot(struct cpu *c, struct trace_pcpu *t, struct proc *p, int type)
{
  struct trace_rec *r;
  int pid = p ? p->pid : 0;
  uint seq = t->head;

  if(__builtin_expect(seq >= t->lim || (trace_pid && pid != trace_pid), 0))
    return trace_slot_slow(c, type, pid);
  t->head = seq + 1;
  t->ntype[type]++;
  r = &t->recs[seq & t->mask];
  r->tsc = rdtsc();
  r->seq = seq;
  r->type_cpu = type | t->cpu_tag;         // type, cpu, flags = 0
  r->pid = pid;
  return r;
}

#ifdef KTRACE_HOST
// (Host unit tests of kernel files: the out-of-line form, which they stub.)
#define trace_event trace_record_cnt
#else
static inline __attribute__((always_inline)) void
trace_event(int type, const uint *w, int c0, uint n0, int c1, int c2)
{
  struct cpu *c;
  struct trace_pcpu *t;
  uint ef = trace_step(&c, &t, c0, n0, c1, c2);

  if(c && __builtin_expect((trace_live >> type) & 1, 0))
    trace_record_on(c, type, w);
  trace_step_end(ef);
}
#endif
void trace_fault_slow(uint va, uint err, int how, uint64 t0);
void trace_str_event(int type, int c0, int nlead, uint lead, const char *s, int slen,
                     uint tail);

// Record an event that no counter counts (the caller tested trace_wants()).
static inline void
trace_record(int type, const uint *w)
{
  trace_record_cnt(type, w, VM_NONE, 0, VM_NONE, VM_NONE);
}

// Add n to counter c, as one step with the events (no event recorded).
static inline void
trace_count(int c, uint n)
{
  trace_record_cnt(0, 0, c, n, VM_NONE, VM_NONE);
}

// Every VM counter: the shared ones plus each CPU's share (vmstat_read).
void trace_vm_sum(uint *v);

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

// The fault event step of trace_fault, as an event of type counted in
// counters c0 and c1 (trace_bench_part times it as a marker).
static inline __attribute__((always_inline)) void
trace_fault_event(int type, int c0, int c1, uint va, uint err, int how, uint64 t0)
{
  struct cpu *c;
  struct trace_pcpu *t;
  struct trace_rec *r;
  struct proc *p;
  uint ef = trace_step(&c, &t, c0, 1, c1, VM_NONE);

  if(c && __builtin_expect((trace_live >> type) & 1, 0) &&
     (r = trace_slot(c, t, (p = c->proc), type)) != 0){
    r->w[0] = va;
    r->w[1] = p && p->tf ? p->tf->eip : 0;
    r->w[2] = err;
    r->w[3] = how;
    r->w[4] = t0 ? (uint)r->tsc - (uint)t0 : 0;
    r->w[5] = 0;
    r->w[6] = 0;
  }
  trace_step_end(ef);
}

// A page fault at va with CPU error code err (PF_* bits), resolved as how
// (TF_*), begun at t0 = trace_start(). Call exactly once per fault, where
// the fault is classified. Bumps VM_FAULT_<how> (the same number as
// TF_<how>, except TF_SWAP: VM_FAULT_SWAP, TF_FILE_MAJOR:
// VM_FAULT_FILE_MAJOR) and VM_FAULTS. The record (inline: it runs once per
// fault) holds the user eip of the current trap or system call and the
// cycles since t0.
static inline __attribute__((always_inline)) void
trace_fault(uint va, uint err, int how, uint64 t0)
{
#ifdef KTRACE_HOST
  trace_fault_slow(va, err, how, t0);
#else
  trace_fault_event(TEV_FAULT, how == TF_SWAP ? VM_FAULT_SWAP :
                    how == TF_FILE_MAJOR ? VM_FAULT_FILE_MAJOR : how, VM_FAULTS, va, err, how,
                    t0);
#endif
}

// A page_alloc or page_free event (type) of the block kva of 2^order pages
// for site, counted in counter. The caller holds a spinlock (the
// allocator's: interrupts are off), so the step needs no cli; the record
// is inline (it runs once per page allocated or freed).
static inline __attribute__((always_inline)) void
trace_page_event(int type, void *kva, int order, void *site, int counter)
{
#ifdef KTRACE_HOST
  uint w[TRACE_NWORDS] = { V2P(kva), (uint)order, (uint)site };

  trace_record_cnt(type, w, counter, 1u << order, VM_NONE, VM_NONE);
#else
  struct cpu *c;
  struct trace_pcpu *t = trace_step_off(&c, counter, 1u << order, VM_NONE, VM_NONE);
  struct trace_rec *r;

  if(c && __builtin_expect((trace_live >> type) & 1, 0) &&
     (r = trace_slot(c, t, c->proc, type)) != 0){
    r->w[0] = V2P(kva);
    r->w[1] = order;
    r->w[2] = (uint)site;
    r->w[3] = 0;
    r->w[4] = 0;
    r->w[5] = 0;
    r->w[6] = 0;
  }
#endif
}

// page_alloc returned the block kva of 2^order pages to the caller at site
// (__builtin_return_address(0) in page_alloc), with the allocator's lock
// still held.
static inline void
trace_page_alloc(void *kva, int order, void *site)
{
  trace_page_event(TEV_PAGE_ALLOC, kva, order, site, VM_PGALLOC);
}

// page_free took back the block kva of 2^order pages from site (the
// allocator's lock held).
static inline void
trace_page_free(void *kva, int order, void *site)
{
  trace_page_event(TEV_PAGE_FREE, kva, order, site, VM_PGFREE);
}

// A page of a shared file mapping was written back: bytes at file offset
// off of inode ino, from user address va, because of why (TW_*). Counts
// msync_bytes, msync_pages and the reason's writeback_<why>.
static inline void
trace_msync_write(uint va, uint ino, uint off, uint bytes, int why)
{
  uint w[TRACE_NWORDS] = { va, ino, off, bytes, (uint)why };

  trace_event(TEV_MSYNC_WRITE, w, VM_MSYNC_BYTES, bytes, VM_MSYNC_PAGES,
              VM_WB_MSYNC + why);
}

// The current process (named name) forked child pid child.
static inline void
trace_fork(int child, const char *name)
{
  trace_str_event(TEV_FORK, VM_FORKS, 1, (uint)child, name, 16, 0);
}

// The current process now runs the program name (after exec succeeded).
static inline void
trace_exec(const char *name)
{
  trace_str_event(TEV_EXEC, VM_EXECS, 0, 0, name, 16, 0);
}

// The current process (named name) exits with status.
static inline void
trace_exit(int status, const char *name)
{
  trace_str_event(TEV_EXIT, VM_EXITS, 1, (uint)status, name, 16, 0);
}

// The current process mapped [addr, addr+len) with prot and flags, backed by
// inode ino (0: anonymous) from file offset off.
static inline void
trace_mmap(uint addr, uint len, int prot, int flags, uint ino, uint off)
{
  uint w[TRACE_NWORDS] = { addr, len, (uint)prot, (uint)flags, ino, off };

  trace_event(TEV_MMAP, w, VM_MMAPS, 1, VM_NONE, VM_NONE);
}

// The current process unmapped [addr, addr+len).
static inline void
trace_munmap(uint addr, uint len)
{
  uint w[TRACE_NWORDS] = { addr, len };

  trace_event(TEV_MUNMAP, w, VM_MUNMAPS, 1, VM_NONE, VM_NONE);
}

// A user marker: label (NUL-terminated, cut to TRACE_LABEL-1 bytes) and arg.
static inline void
trace_marker(const char *label, int arg)
{
  trace_str_event(TEV_MARKER, VM_MARKERS, 0, 0, label, TRACE_LABEL, (uint)arg);
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

// System call num returns ret; t0 from trace_sys_enter(). Recorded only
// if its entry was seen while tracing system calls (t0 != 0): a call that
// was already running when tracing began has no sys_exit either.
static inline void
trace_sys_exit(uint num, int ret, uint64 t0)
{
  if(t0 && trace_wants(TEV_SYS_EXIT)){
    uint w[TRACE_NWORDS] = { num, (uint)ret, (uint)(rdtsc() - t0) };
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

// The hold IPI (IRQ_TRACE): wait while the trace controller holds CPUs.
void trace_hold_intr(void);

// Control (systrace.c calls these). All return 0 or -errno unless stated.
int  trace_ctl(int cmd, int arg);               // ON OFF CLEAR MASK PID SIZE MODE
void trace_status(struct trace_status *st);
int  trace_dump(void);                          // records written, or -errno
int  trace_bench(int n);                        // 100 x cycles per trace_marker()
int  trace_bench_part(int part);                // 100 x cycles of one part (TRACE_PART_*)
#endif
