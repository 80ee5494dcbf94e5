// Event tracing: per-CPU ring buffers, run-time control and the dump.
//
// Each CPU records into its own buffer with interrupts off, so recording
// needs no lock and is safe in interrupt handlers. The control operations
// (one caller at a time, under a sleep lock) first pause recording: then
// they may touch every CPU's buffer. An event that arrives while recording
// is paused is not recorded but counted, per CPU and per type, and reported
// with the pause's time window in the next dump: no event goes missing
// without a count. The wire format of the dump is described in
// trace/FORMAT.md.
//
// Every event is one step with interrupts off on its CPU (trace_step ..
// trace_step_end, inline in trace.h): bump the event's VM counters (this
// CPU's share, trace_pcpu), then
// decide: not traced (trace_live, the pid filter), counted as paused, or
// recorded. The step uses no lock and no locked instruction: only its CPU
// writes its tbuf. The controller changes that state (trace_live, paused,
// cfg.enabled) and reads the counters with the paused counts (vm_on,
// vm_acc, the windows, the dump header) only between hold_cpus() and
// release_cpus(). hold_cpus() turns interrupts off on its own CPU, stores
// hold and sends every other started CPU an IPI (IRQ_TRACE); the handler
// (trace_hold_intr) acknowledges and spins, interrupts off, until the
// controller releases. Why each event is wholly before or wholly after each
// such snapshot:
//  - an interrupt is taken only between two instructions with interrupts
//    on, so the handler runs wholly before or wholly after each event step
//    of its CPU. An event before the acknowledgement is before the
//    snapshot: x86 keeps stores in order, so the controller, having read
//    the acknowledgement, sees the event's stores;
//  - an event after it runs once the handler has seen hold = 0, so it sees
//    every store the controller made while holding (hold = 0 is the last);
//  - counters and paused counts of a CPU are written only by that CPU
//    inside its event step, so while every CPU is held they do not move.
// Hence counter increments between two snapshots are exactly the events
// decided between them, and the decoder can compare the two to the event.
// (Events of a CPU still booting, before %gs is set, bump the shared
// counters with vmstat_add and are not part of this.)
//
// Deadlock freedom: the holder holds no spinlock and makes no event while
// holding, and no code waits for another CPU with interrupts off except a
// spinlock acquire (whose holder does not wait for an IPI: tlb_shootdown
// waits with interrupts on), so every other CPU soon takes the IPI.
//
// Locks, outermost first: ctl (sleep lock, the control path), then excl
// (a flag taken by spinning: the control path or the console's dump key,
// which cannot sleep), then hold (CPUs held out of events, interrupts off
// on the holder, who makes no event and takes no lock meanwhile). famlk
// (the followed-pid set, taken by fork) is taken under ctl, never while
// holding.
//
// The record path is short on purpose (it runs on every page fault and
// page allocation while tracing), because under qemu's TCG every guest
// instruction and memory access costs host cycles, a helper (pushf,
// rdtsc) more, and sti or a ret (an indirect jump) a translation-block
// exit or lookup. So: %gs gives this CPU's struct cpu in one load; the
// records of the hot events (faults, page_alloc/page_free) are written
// inline in trace.h, no call; page events run under the allocator's lock
// and skip saving the interrupt flag; one comparison (head < lim, lim set
// by the controller: 0 while paused or without a buffer, the buffer's end
// in stop mode) and one pid test stand for all the cases trace_slot_slow
// handles out of line; a buffer holds a power-of-two number of records so
// the slot is head & mask; one counter (head) gives the sequence number,
// and held / lost are derived from it instead of being counted. An event
// that is not traced costs: eflags saved, interrupts off, the counter
// adds, one test of trace_live, interrupts back on if they were
// (trace_bench_part shows each part's cost; bench/tracecost reports them).
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "arch/traps.h"
#include "errno.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "arch/trapframe.h"
#include "core/defs.h"
#include "memstat.h"
#include "trace/trace.h"

#define TRACE_VERSION   2
#define DEFAULT_CAP     8192            // records per CPU (a power of two)
#define FRAME_MAX       4096            // payload bytes per frame
#define RECS_PER_FRAME  64

// Frame kinds (FORMAT.md).
#define FR_HEADER  1
#define FR_CPU     2
#define FR_RECORDS 3
#define FR_END     4
#define FR_LOSS    5

#define NWIN       (NCPU * TRACE_NTYPES + 64)  // pause windows kept per clear
#define NFAM       64                   // processes a follow filter can hold

// Why a dump was written (the header's "reason").
#define DUMP_CALL    0                  // TRACE_DUMP
#define DUMP_PANIC   1                  // panic()
#define DUMP_CONSOLE 2                  // the console's dump key

struct trace_pcpu trace_pcpu[NCPU];     // each CPU's counters and ring (trace.h)
#define tbufs trace_pcpu                // (the rings by their old name)

// The decoder relies on this layout (FORMAT.md).
typedef char trace_rec_is_48_bytes[sizeof(struct trace_rec) == 48 ? 1 : -1];

volatile uint trace_live;       // read by trace_wants() on every event
static volatile uint paused;    // 1 while the controller owns the buffers
volatile int trace_pid;         // cfg.pid, for the inline path (trace_slot)
static volatile uint hold;      // the hold's number (nonzero) while CPUs are held
static volatile uint hold_ack[NCPU]; // the hold each CPU last acknowledged
static uint hold_num;           // holds so far (the controller's)
static uint hold_eflags;        // the controller's eflags before hold_cpus()

// Configuration: written only by the controller (under ctl), read by
// recorders.
static struct {
  int enabled;
  uint mask;
  int pid;
  int mode;
  uint cap;                    // records per CPU; 0 until buffers exist
  int nbufs;                   // CPUs with a buffer
  uint vm_on[VM_NCOUNTERS];    // counters when tracing was last turned on
  uint vm_acc[VM_NCOUNTERS];   // counter increments while on, since clear
  uint maskvar;                // mask bits changed while on, since clear
  int follow;                  // 1: pid and the processes in fam are recorded
  uint tsc_khz;                // TSC rate measured against the PIT
} cfg = { .mask = TRACE_MASK_DEFAULT, .mode = TRACE_FLIGHT };

static struct sleeplock ctl = { .lk = { .name = "tracectl" }, .name = "tracectl" };
static volatile uint excl;      // 1 while a control operation or a dump runs
static volatile uint dump_asked; // the console asked for a dump while excl was held

// Descendants of cfg.pid that a follow filter records. fork adds to it
// under famlk; recorders read it without a lock (n grows after pid[n] is
// written). Emptied by the controller.
static struct {
  volatile int n;
  int pid[NFAM];
  uint full;                   // forks not followed: the set was full
} fam;
static struct spinlock famlk = { .name = "tracefam" };

// Pause windows since the last clear: events of type on cpu that arrived
// while recording was paused between t0 and t1 (controller only).
struct pwin {
  uint64 t0, t1;
  ushort cpu, type;
  uint n;
};
static struct pwin wins[NWIN];
static uint nwins;
static uint pseen[NCPU][TRACE_NTYPES];  // paused[] counts already in wins
static uint64 pause_t0;                 // when the current pause began

static const char *event_desc[] = {
#define TRACE_EVENT(N, code, name, fields) "event " #code " " name " " fields,
  TRACE_EVENTS
#undef TRACE_EVENT
};
static const char *fault_names[] = {
#define TRACE_FAULT(N, code, name) name,
  TRACE_FAULT_KINDS
#undef TRACE_FAULT
};
static const char *why_names[] = {
#define TRACE_WHY(N, code, name) name,
  TRACE_WHY_KINDS
#undef TRACE_WHY
};
static const char *counter_names[] = {
#define VMSTAT_COUNTER(N, idx, name) name,
  VMSTAT_COUNTERS
#undef VMSTAT_COUNTER
};

// a / b for a 64-bit a without libgcc's __udivdi3; 0xFFFFFFFF if the
// quotient does not fit in 32 bits.
static uint
udiv64(uint64 a, uint b)
{
  uint q, r;

  if(b == 0 || (a >> 32) >= b)
    return 0xFFFFFFFF;
  asm("divl %4" : "=a"(q), "=d"(r) : "a"((uint)a), "d"((uint)(a >> 32)), "r"(b));
  return q;
}

// Records of buffer tb in the buffer now, and the sequence number of the
// oldest. Controller only (after quiesce).
static uint
tb_held(struct trace_pcpu *tb)
{
  return tb->full || tb->head > tb->mask ? tb->mask + 1 : tb->head;
}

static uint
tb_first_seq(struct trace_pcpu *tb)
{
  return tb->stop ? 0 : tb->head - tb_held(tb);
}

// ---- recording --------------------------------------------------------------

// Is pid one of the followed descendants of cfg.pid? Lock-free read.
static int
pid_followed(int pid)
{
  int i, n;

  if(!cfg.follow)
    return 0;
  n = fam.n;
  for(i = 0; i < n && i < NFAM; i++)
    if(fam.pid[i] == pid)
      return 1;
  return 0;
}

// fork made child from parent (called before the child can run): with a
// follow filter, a recorded parent's child is recorded too.
void
trace_fork_follow(int parent, int child)
{
  if(!cfg.follow || !cfg.pid || (parent != cfg.pid && !pid_followed(parent)))
    return;
  acquire(&famlk);
  if(fam.n < NFAM){
    fam.pid[fam.n] = child;
    __sync_synchronize();
    fam.n = fam.n + 1;
  } else
    fam.full++;
  release(&famlk);
}

// An event's counters on a CPU still booting (no %gs yet): the shared
// counters, with locked adds.
void
trace_count_shared(int c0, uint n0, int c1, int c2)
{
  if(c0 != VM_NONE)
    vmstat_add(c0, n0);
  if(c1 != VM_NONE)
    vmstat_inc(c1);
  if(c2 != VM_NONE)
    vmstat_inc(c2);
}

// The record path's slow case (trace_slot: head reached lim, or a pid
// filter the current process pid did not pass at once): apply the pid
// filter with its followed descendants, count the event as paused while
// the controller has the buffers, drop it in stop mode when full, and
// take the next record (header filled in: tsc, seq, type, cpu, pid).
// Returns the record to fill (all TRACE_NWORDS payload words), or 0.
// Interrupts off, inside an event step on CPU c.
struct trace_rec *
trace_slot_slow(struct cpu *c, int type, int pid)
{
  struct trace_pcpu *tb = &tbufs[c - cpus];
  struct trace_rec *r;
  uint seq;

  if(cfg.pid && pid != cfg.pid && !pid_followed(pid))
    return 0;
  if(paused || tb->recs == 0){   // the controller has the buffers: count it
    tb->paused[type]++;
    return 0;
  }
  tb->ntype[type]++;
  seq = tb->head;
  if(tb->stop && seq > tb->mask){
    if(seq != 0xFFFFFFFF)        // a dropped event still takes a sequence number
      tb->head = seq + 1;
    return 0;
  }
  tb->head = seq + 1;
  if(seq >= tb->mask)
    tb->full = 1;                // (head > mask says so until it wraps)
  r = &tb->recs[seq & tb->mask];
  r->tsc = rdtsc();
  r->seq = seq;
  r->type_cpu = type | tb->cpu_tag;       // type, cpu, flags = 0
  r->pid = pid;
  return r;
}

// Record an event of type with payload w[TRACE_NWORDS] in CPU c's buffer
// (counters already bumped, interrupts off: trace_event), if the current
// process passes the pid filter.
void
trace_record_on(struct cpu *c, int type, const uint *__restrict w)
{
  struct trace_rec *r;
  uint *__restrict d;

  if((r = trace_slot(c, &tbufs[c - cpus], c->proc, type)) != 0){
    d = r->w;
    d[0] = w[0]; d[1] = w[1]; d[2] = w[2]; d[3] = w[3];
    d[4] = w[4]; d[5] = w[5]; d[6] = w[6];
  }
}

// trace_event() out of line (for callers that are not hot).
void
trace_record_cnt(int type, const uint *w, int c0, uint n0, int c1, int c2)
{
  trace_event(type, w, c0, n0, c1, c2);
}

// trace_fault() out of line.
void
trace_fault_slow(uint va, uint err, int how, uint64 t0)
{
  trace_fault(va, err, how, t0);
}

// Count an event in counter c0 and record it with a payload of nlead (0 or
// 1) words (lead), then the string s padded to slen bytes, then one word
// tail (if it fits).
void
trace_str_event(int type, int c0, int nlead, uint lead, const char *str, int slen,
                uint tail)
{
  struct cpu *c;
  struct trace_pcpu *t;
  struct trace_rec *r;
  uint ef, *d;
  char *b;
  int i;

  ef = trace_step(&c, &t, c0, 1, VM_NONE, VM_NONE);
  if(c && ((trace_live >> type) & 1) && (r = trace_slot(c, t, c->proc, type))){
    d = r->w;
    d[0] = d[1] = d[2] = d[3] = d[4] = d[5] = d[6] = 0;
    if(nlead)
      d[0] = lead;
    b = (char *)&d[nlead];
    for(i = 0; str && i < slen - 1 && str[i]; i++)
      b[i] = str[i];
    if(nlead + slen / 4 < TRACE_NWORDS)
      d[nlead + slen / 4] = tail;
  }
  trace_step_end(ef);
}

// ---- control ------------------------------------------------------------------

// Keep every CPU out of the event code until release_cpus(): afterwards
// no other CPU is inside an event, and one that would begin waits first
// (interrupts off, in trace_hold_intr). Interrupts stay off on this CPU
// meanwhile; the caller holds excl, holds no spinlock and makes no event
// until release_cpus().
static void
hold_cpus(void)
{
  uint eflags = readeflags(), n;
  int i, me;

  cli();
  hold_eflags = eflags;
  me = cpuid();
  if((n = ++hold_num) == 0)
    n = ++hold_num;
  xchg(&hold, n);                // seen by every CPU before our IPI reaches it
  for(i = 0; i < ncpu && i < NCPU; i++)
    if(i != me && cpus[i].started)
      lapic_ipi(cpus[i].apicid, T_IRQ0 + IRQ_TRACE);
  for(i = 0; i < ncpu && i < NCPU; i++)
    if(i != me && cpus[i].started)
      while(hold_ack[i] != n)
        cpu_relax();
}

// Let the CPUs held by hold_cpus() run events again: they see every store
// made meanwhile (x86 keeps stores in order; hold goes last).
static void
release_cpus(void)
{
  __sync_synchronize();
  hold = 0;
  if(hold_eflags & FL_IF)
    sti();
}

// The hold IPI (trap.c, interrupts off, after the EOI): say this CPU is
// outside every event and wait until the controller releases the CPUs.
void
trace_hold_intr(void)
{
  uint n = hold;

  if(n == 0)
    return;
  hold_ack[cpuid()] = n;
  while(hold == n)
    cpu_relax();
}

// Every VM counter into v: the shared array plus each CPU's share. Exact
// for the trace helpers' counters only while the CPUs are held.
static void
vm_sum(uint *v)
{
  int i, k;

  for(k = 0; k < VM_NCOUNTERS; k++){
    v[k] = __atomic_load_n(&vmstat_counters[k], __ATOMIC_RELAXED);
    for(i = 0; i < NCPU; i++)
      v[k] += trace_pcpu[i].vm[k];
  }
}

// For vmstat_read(): a snapshot of every counter without holding the CPUs
// (an event in flight on another CPU may be in one counter and not yet in
// another).
void
trace_vm_sum(uint *v)
{
  vm_sum(v);
}

// Merge the windows of each cpu and type into one (the earliest start, the
// latest end, the sum): exact counts in at most NCPU * TRACE_NTYPES windows.
static void
win_compact(void)
{
  uint i, j, k = 0;

  for(i = 0; i < nwins; i++){
    for(j = 0; j < k; j++)
      if(wins[j].cpu == wins[i].cpu && wins[j].type == wins[i].type)
        break;
    if(j == k){
      wins[k++] = wins[i];
      continue;
    }
    if(wins[i].t0 < wins[j].t0)
      wins[j].t0 = wins[i].t0;
    if(wins[i].t1 > wins[j].t1)
      wins[j].t1 = wins[i].t1;
    wins[j].n += wins[i].n;
  }
  nwins = k;
}

// Add n events of type on cpu, paused between t0 and t1, to the windows
// (when the list is full, each cpu and type's windows first become one).
static void
win_add(uint64 t0, uint64 t1, int cpu, int type, uint n)
{
  if(nwins == NWIN)
    win_compact();
  wins[nwins].t0 = t0;
  wins[nwins].t1 = t1;
  wins[nwins].cpu = cpu;
  wins[nwins].type = type;
  wins[nwins++].n = n;
}

// The events counted as paused since the last collection go into a
// window [pause_t0, now] if keep (tracing was on), else are forgotten.
static void
collect_paused(int keep)
{
  uint64 now = rdtsc();
  uint d;
  int i, t;

  for(i = 0; i < NCPU; i++)
    for(t = 0; t < TRACE_NTYPES; t++){
      d = tbufs[i].paused[t] - pseen[i][t];
      if(d && keep)
        win_add(pause_t0, now, i, t, d);
      pseen[i][t] += d;
    }
}

// Set how far each CPU's inline record path may go (trace_slot): nowhere
// while paused or without a buffer (every event takes trace_slot_slow),
// up to a full buffer in stop mode, else to 2^32 - 1 events (the slow
// path notes the wrap). The CPUs are held (or stopped: panic).
static void
set_lims(void)
{
  struct trace_pcpu *tb;
  int i;

  trace_pid = cfg.pid;
  for(i = 0; i < NCPU; i++){
    tb = &tbufs[i];
    tb->lim = paused || tb->recs == 0 ? 0 : tb->stop ? tb->mask + 1 : 0xFFFFFFFF;
  }
}

// Pause recording (events that arrive are counted, not recorded). Once
// it returns no CPU is inside the event code and none records: the caller
// (holding excl) may touch every buffer.
static void
quiesce(void)
{
  hold_cpus();
  paused = 1;
  set_lims();
  pause_t0 = rdtsc();
  release_cpus();
}

// Let recording run again with the configuration as it is now; put what
// arrived meanwhile in a window. One held step: each event is wholly
// before (paused, in the window) or wholly after (recorded).
static void
resume(void)
{
  hold_cpus();
  trace_live = cfg.enabled ? (cfg.mask & ~1u) : 0;
  paused = 0;
  set_lims();
  collect_paused(cfg.enabled);
  release_cpus();
}

// Take excl, spinning (its holders never sleep... except the control path,
// which holds it only while quiesced, briefly).
static void
excl_enter(void)
{
  while(xchg(&excl, 1))
    cpu_relax();
}

// Empty the buffers and start the counts (counter increments, pause
// windows, mask changes) afresh. Recording is paused (quiesce).
static void
clear_buffers(void)
{
  uint v[VM_NCOUNTERS];
  int i, k;

  for(i = 0; i < NCPU; i++){
    tbufs[i].cpu_tag = (uint)i << 16;
    tbufs[i].head = 0;
    tbufs[i].full = 0;
    tbufs[i].stop = cfg.mode == TRACE_STOP;
    for(k = 0; k < TRACE_NTYPES; k++)
      tbufs[i].ntype[k] = 0;
  }
  for(k = 0; k < VM_NCOUNTERS; k++)
    cfg.vm_acc[k] = 0;
  hold_cpus();                  // counters and paused counts at one moment
  vm_sum(v);
  if(cfg.enabled)
    for(k = 0; k < VM_NCOUNTERS; k++)
      cfg.vm_on[k] = v[k];
  collect_paused(0);            // paused events before this moment: not ours
  release_cpus();
  nwins = 0;
  cfg.maskvar = 0;
}

static void
free_buffers(void)
{
  int i;

  for(i = 0; i < NCPU; i++){
    if(tbufs[i].recs)
      page_free(tbufs[i].recs, tbufs[i].order);
    tbufs[i].recs = 0;
  }
  cfg.cap = 0;
  cfg.nbufs = 0;
}

// Give every CPU a buffer of at least want records, rounded up to a power
// of two (the old buffers are freed first). 0, -EINVAL if want is 0 or more
// than the largest block (4 MiB) holds, -ENOMEM (then no buffers are left).
static int
alloc_buffers(uint want)
{
  uint bytes, cap, most = (PGSIZE << BUDDY_MAXORDER) / sizeof(struct trace_rec);
  int order, i;

  if(want == 0 || want > most)
    return -EINVAL;
  for(cap = 1; cap < want; cap <<= 1)
    ;
  if(cap > most)
    return -EINVAL;
  bytes = cap * sizeof(struct trace_rec);
  for(order = 0; (PGSIZE << order) < bytes; order++)
    ;
  free_buffers();
  for(i = 0; i < ncpu && i < NCPU; i++){
    tbufs[i].recs = page_alloc(order);
    if(tbufs[i].recs == 0){
      free_buffers();
      return -ENOMEM;
    }
    tbufs[i].order = order;
  }
  for(; i > 0; i--)
    tbufs[i - 1].mask = cap - 1;
  cfg.cap = cap;
  cfg.nbufs = ncpu < NCPU ? ncpu : NCPU;
  clear_buffers();
  return 0;
}

// Turn tracing on or off (recording is paused: quiesce). The counters
// and the paused counts are read, and trace_live changed, in one held
// step: what arrives later while paused belongs to the trace if on.
static void
set_enabled(int on)
{
  uint v[VM_NCOUNTERS];
  int k;

  if(on == cfg.enabled)
    return;
  hold_cpus();
  vm_sum(v);
  collect_paused(!on);
  for(k = 0; k < VM_NCOUNTERS; k++){
    if(on)
      cfg.vm_on[k] = v[k];
    else
      cfg.vm_acc[k] += v[k] - cfg.vm_on[k];
  }
  cfg.enabled = on;
  trace_live = on ? (cfg.mask & ~1u) : 0;
  release_cpus();
}

// Set the pid filter: pid alone, or with follow its descendants too.
static void
set_pid(int pid, int follow)
{
  acquire(&famlk);
  cfg.pid = pid;
  cfg.follow = follow && pid;
  fam.n = 0;
  fam.full = 0;
  release(&famlk);
}

// One reading of PIT channel 2's counter, bracketed by two rdtsc: *tsc is
// their middle, *cnt the count. Returns the bracket's width in cycles (an
// emulator's host may stall us between the two: the caller keeps the
// narrowest of a few).
static uint
pit_read(uint64 *tsc, uint *cnt)
{
  uint64 a, b;
  uint lo, hi;

  a = rdtsc();
  outb(0x43, 0x80);              // latch channel 2's count
  lo = inb(0x42);
  hi = inb(0x42);
  b = rdtsc();
  *tsc = a + ((b - a) >> 1);
  *cnt = lo | hi << 8;
  return (b - a) >> 32 ? 0xFFFFFFFF : (uint)(b - a);
}

// The narrowest of 4 readings.
static void
pit_best(uint64 *tsc, uint *cnt)
{
  uint64 t;
  uint c, w, best = 0xFFFFFFFF;
  int i;

  for(i = 0; i < 4; i++)
    if((w = pit_read(&t, &c)) < best){
      best = w;
      *tsc = t;
      *cnt = c;
    }
}

// TSC kHz over about 40 ms of PIT channel 2 (1.193182 MHz, counting down
// from 0xFFFF in mode 0): cycles between two bracketed counter readings
// over the PIT ticks between them.
static uint
measure_once(void)
{
  uint64 t0, t1;
  uint c0, c1;

  outb(0x61, (inb(0x61) & ~0x02) | 0x01);   // gate on, speaker off
  outb(0x43, 0xB0);              // channel 2, lo/hi byte, mode 0, binary
  outb(0x42, 0xFF);
  outb(0x42, 0xFF);
  pit_best(&t0, &c0);
  do
    pit_best(&t1, &c1);
  while(c1 <= c0 && c0 - c1 < 47727 && c1 > 1000);   // 40 ms, or near the end
  if(c1 >= c0 || c0 - c1 < 1000)
    return 0;
  return udiv64((t1 - t0) * 119318, (c0 - c1) * 100);
}

// The TSC rate in kHz measured against the PIT: the median of three
// measurements. Interrupts off meanwhile.
static uint
measure_tsc_khz(void)
{
  uint r[3], t, eflags = readeflags();
  int i, j;

  cli();
  for(i = 0; i < 3; i++)
    r[i] = measure_once();
  if(eflags & FL_IF)
    sti();
  for(i = 1; i < 3; i++)         // insertion sort
    for(j = i; j > 0 && r[j - 1] > r[j]; j--){
      t = r[j]; r[j] = r[j - 1]; r[j - 1] = t;
    }
  return r[1];
}

// The TSC rate, measured the first time it is asked for.
static uint
tsc_khz(void)
{
  if(cfg.tsc_khz == 0)
    cfg.tsc_khz = measure_tsc_khz();
  return cfg.tsc_khz;
}

static int
ctl_locked(int cmd, int arg)
{
  switch(cmd){
  case TRACE_ON:
    if(cfg.cap == 0 && alloc_buffers(DEFAULT_CAP) < 0)
      return -ENOMEM;
    set_enabled(1);
    return 0;
  case TRACE_OFF:
    set_enabled(0);
    return 0;
  case TRACE_CLEAR:
    clear_buffers();
    return 0;
  case TRACE_MASK:
    if(cfg.enabled)
      cfg.maskvar |= (cfg.mask ^ (uint)arg) & ~1u;
    cfg.mask = (uint)arg;
    return 0;
  case TRACE_PID:
  case TRACE_FOLLOW:
    if(arg < 0)
      return -EINVAL;
    set_pid(arg, cmd == TRACE_FOLLOW);
    return 0;
  case TRACE_SIZE:
    if(arg <= 0)
      return -EINVAL;
    return alloc_buffers((uint)arg);
  case TRACE_MODE:
    if(arg != TRACE_FLIGHT && arg != TRACE_STOP)
      return -EINVAL;
    cfg.mode = arg;
    clear_buffers();             // counts stay exact only within one mode
    return 0;
  }
  return -EINVAL;
}

static int dump_locked(int reason);

// End a control operation begun with excl_enter() and quiesce(): write a
// dump the console asked for meanwhile, resume recording, release excl.
static void
ctl_leave(void)
{
  if(dump_asked){
    dump_asked = 0;
    printf("trace: dumping the trace buffers to COM2 (console key)\n");
    printf("trace: dump done, %d records\n", dump_locked(DUMP_CONSOLE));
  }
  resume();
  __sync_synchronize();
  excl = 0;
}

// Carry out control command cmd (TRACE_ON ... TRACE_MODE) with argument
// arg. May sleep. 0 or -errno.
int
trace_ctl(int cmd, int arg)
{
  int r;

  acquiresleep(&ctl);
  tsc_khz();
  excl_enter();
  quiesce();
  r = ctl_locked(cmd, arg);
  ctl_leave();
  releasesleep(&ctl);
  return r;
}

// Fill st with the configuration and per-CPU counts. Counts of a CPU that
// is recording at this moment may be a few events old.
void
trace_status(struct trace_status *st)
{
  int i;

  memset(st, 0, sizeof(*st));
  acquiresleep(&ctl);
  st->enabled = cfg.enabled;
  st->mode = cfg.mode;
  st->mask = cfg.mask;
  st->pid = cfg.pid;
  st->cap = cfg.cap;
  st->recsize = sizeof(struct trace_rec);
  st->ncpu = ncpu < TRACE_MAXCPU ? ncpu : TRACE_MAXCPU;
  st->tsc_khz = tsc_khz();
  st->follow = cfg.follow;
  for(i = 0; i < st->ncpu && i < cfg.nbufs; i++){
    st->cpu[i].recorded = tbufs[i].head;
    st->cpu[i].held = tb_held(&tbufs[i]);
    st->cpu[i].lost = st->cpu[i].recorded - st->cpu[i].held;
  }
  for(i = 0; i < (int)nwins; i++)
    if(wins[i].cpu < st->ncpu)
      st->cpu[wins[i].cpu].paused += wins[i].n;
  st->windows = nwins;
  releasesleep(&ctl);
}

// ---- dump -------------------------------------------------------------------------

static uint crctab[256];

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of n bytes.
static uint
crc32(const uchar *p, uint n)
{
  uint c, k, i;

  if(crctab[1] == 0){
    for(i = 0; i < 256; i++){
      c = i;
      for(k = 0; k < 8; k++)
        c = (c & 1) ? 0xEDB88320 ^ (c >> 1) : c >> 1;
      crctab[i] = c;
    }
  }
  c = 0xFFFFFFFF;
  for(i = 0; i < n; i++)
    c = crctab[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFF;
}

// The frame being built (only the ctl holder uses it).
static struct {
  uchar buf[16 + FRAME_MAX + 4];
  uint len;                    // payload bytes so far
  uint seq;                    // frame sequence number in this dump
} fr;

static void
put32(uchar *p, uint v)
{
  p[0] = v;
  p[1] = v >> 8;
  p[2] = v >> 16;
  p[3] = v >> 24;
}

static void
frame_bytes(const void *src, uint n)
{
  if(fr.len + n > FRAME_MAX)
    n = FRAME_MAX - fr.len;    // (never happens: callers size their frames)
  memmove(fr.buf + 16 + fr.len, src, n);
  fr.len += n;
}

static void
frame_word(uint v)
{
  uchar b[4];

  put32(b, v);
  frame_bytes(b, 4);
}

static void
frame_text(const char *s)
{
  frame_bytes(s, strlen(s));
}

static void
frame_num(uint v, int base)
{
  char tmp[12], out[12];
  int n = 0, i;

  do {
    tmp[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while(v);
  for(i = 0; i < n; i++)
    out[i] = tmp[n - 1 - i];
  out[n] = 0;
  frame_text(out);
}

// Seal the frame (header and CRC) and send it to COM2.
static void
frame_send(int kind)
{
  uchar *b = fr.buf;

  b[0] = 'K'; b[1] = 'T'; b[2] = 'R'; b[3] = 'F';
  b[4] = kind; b[5] = 0;
  b[6] = TRACE_VERSION; b[7] = 0;
  put32(b + 8, fr.seq++);
  put32(b + 12, fr.len);
  put32(b + 16 + fr.len, crc32(b, 16 + fr.len));
  uart2_write(b, 16 + fr.len + 4);
  fr.len = 0;
}

// Paused counts not yet in a window, read with the header's counters.
static uint pend[NCPU][TRACE_NTYPES];

static const char *reason_names[] = { "call", "panic", "console" };

// The self-description: version, record layout, the event table, the
// enumerations, the configuration and the counter increments (read at
// one moment with the paused counts not yet in a window: pend).
static void
send_header(int reason)
{
  uint acc[VM_NCOUNTERS], v[VM_NCOUNTERS];
  uint i, t;

  if(reason != DUMP_PANIC)      // (after a panic the other CPUs are stopped)
    hold_cpus();
  vm_sum(v);
  for(i = 0; i < NCPU; i++)
    for(t = 0; t < TRACE_NTYPES; t++)
      pend[i][t] = cfg.enabled ? tbufs[i].paused[t] - pseen[i][t] : 0;
  if(reason != DUMP_PANIC)
    release_cpus();
  for(i = 0; i < VM_NCOUNTERS; i++){
    acc[i] = cfg.vm_acc[i];
    if(cfg.enabled)
      acc[i] += v[i] - cfg.vm_on[i];
  }
  frame_text("ktrace ");  frame_num(TRACE_VERSION, 10);
  frame_text("\nrecsize "); frame_num(sizeof(struct trace_rec), 10);
  frame_text("\nnwords ");  frame_num(TRACE_NWORDS, 10);
  frame_text("\nncpu ");    frame_num(cfg.nbufs, 10);
  frame_text("\nmode ");    frame_text(cfg.mode == TRACE_STOP ? "stop" : "flight");
  frame_text("\nmask 0x");  frame_num(cfg.mask, 16);
  frame_text("\npid ");     frame_num(cfg.pid, 10);
  frame_text("\ncap ");     frame_num(cfg.cap, 10);
  frame_text("\ntsc_khz ");  frame_num(cfg.tsc_khz, 10);
  frame_text("\nntypes ");  frame_num(TRACE_NTYPES, 10);
  frame_text("\nfollow ");  frame_num(cfg.follow, 10);
  frame_text("\nfollow_full "); frame_num(fam.full, 10);
  frame_text("\nenabled "); frame_num(cfg.enabled, 10);
  frame_text("\nmask_changed 0x"); frame_num(cfg.maskvar, 16);
  frame_text("\nreason ");  frame_text(reason_names[reason]);
  frame_text("\n");
  for(i = 0; i < NELEM(event_desc); i++){
    frame_text(event_desc[i]);
    frame_text("\n");
  }
  for(i = 0; i < NELEM(fault_names); i++){
    frame_text("enum fault "); frame_num(i, 10);
    frame_text(" "); frame_text(fault_names[i]); frame_text("\n");
  }
  for(i = 0; i < NELEM(why_names); i++){
    frame_text("enum why "); frame_num(i, 10);
    frame_text(" "); frame_text(why_names[i]); frame_text("\n");
  }
  for(i = 0; i < NELEM(counter_names); i++){
    frame_text("counter "); frame_text(counter_names[i]);
    frame_text(" "); frame_num(acc[i], 10); frame_text("\n");
  }
  frame_send(FR_HEADER);
}

// One CPU: its counts, then its records from oldest to newest. Returns
// the number of records sent.
static uint
send_cpu(int c)
{
  struct trace_pcpu *tb = &tbufs[c];
  uint i, n, held = tb_held(tb), cap = tb->mask + 1;
  uint idx = tb_first_seq(tb) & tb->mask;     // the oldest record

  frame_word(c);
  frame_word(tb->head);
  frame_word(tb->head - held);
  frame_word(held);
  frame_word(tb_first_seq(tb));
  for(i = 0; i < TRACE_NTYPES; i++)
    frame_word(tb->ntype[i]);
  frame_send(FR_CPU);
  for(i = 0; i < held; i += n){
    n = held - i < RECS_PER_FRAME ? held - i : RECS_PER_FRAME;
    frame_word(c);
    frame_word(n);
    if(idx + n <= cap){
      frame_bytes(&tb->recs[idx], n * sizeof(struct trace_rec));
    } else {
      frame_bytes(&tb->recs[idx], (cap - idx) * sizeof(struct trace_rec));
      frame_bytes(&tb->recs[0], (idx + n - cap) * sizeof(struct trace_rec));
    }
    idx = (idx + n) & tb->mask;
    frame_send(FR_RECORDS);
  }
  return held;
}

// One pause window (24 bytes) in the LOSS frame being built; sent when full.
static void
send_win(uint64 t0, uint64 t1, int cpu, int type, uint n, uint flags)
{
  if(fr.len + 24 > FRAME_MAX)
    frame_send(FR_LOSS);
  frame_word(cpu);
  frame_word(type);
  frame_word(n);
  frame_word(flags);
  frame_word((uint)t0); frame_word((uint)(t0 >> 32));
  frame_word((uint)t1); frame_word((uint)(t1 >> 32));
}

// The pause windows, then the pause going on now (flags 1: counts read with
// the header's counters, the window still open). Returns the events.
static uint
send_loss(void)
{
  uint64 now = rdtsc();
  uint i, t, n = 0;

  for(i = 0; i < nwins; i++){
    send_win(wins[i].t0, wins[i].t1, wins[i].cpu, wins[i].type, wins[i].n, 0);
    n += wins[i].n;
  }
  for(i = 0; i < NCPU; i++)
    for(t = 0; t < TRACE_NTYPES; t++)
      if(pend[i][t]){
        send_win(pause_t0, now, i, t, pend[i][t], 1);
        n += pend[i][t];
      }
  if(fr.len)
    frame_send(FR_LOSS);
  return n;
}

// Write every buffer to COM2 as a framed stream (FORMAT.md). The caller
// holds excl with recording quiesced (or is panic()). Records written.
static int
dump_locked(int reason)
{
  uint total = 0, lost = 0;
  int c;

  fr.seq = 0;
  fr.len = 0;
  send_header(reason);
  for(c = 0; c < cfg.nbufs; c++){
    total += send_cpu(c);
    lost += tbufs[c].head - tb_held(&tbufs[c]);
  }
  lost += send_loss();
  frame_word(fr.seq);
  frame_word(total);
  frame_word(lost);
  frame_send(FR_END);
  return total;
}

// TRACE_DUMP: write the buffers to COM2. Recording is paused meanwhile
// (what arrives is counted in a pause window); the buffers keep their
// contents. Returns the number of records written.
int
trace_dump(void)
{
  int n;

  acquiresleep(&ctl);
  tsc_khz();
  excl_enter();
  quiesce();
  n = dump_locked(DUMP_CALL);
  ctl_leave();
  releasesleep(&ctl);
  return n;
}

// From panic(), with the other CPUs stopped and interrupts off: dump
// whatever the buffers hold, taking no lock and waiting for nobody.
void
trace_panic_dump(void)
{
  uint n;

  if(cfg.cap == 0)
    return;
  trace_live = 0;
  paused = 1;
  set_lims();
  tsc_khz();
  printf("trace: dumping the trace buffers to COM2 (panic)\n");
  n = dump_locked(DUMP_PANIC);
  printf("trace: dump done, %d records\n", n);
}

// The console's dump key (from its interrupt handler, interrupts off):
// dump now, or ask the control operation that is running to do it.
void
trace_console_dump(void)
{
  int n;

  if(cfg.cap == 0 || cfg.tsc_khz == 0){
    printf("trace: no trace buffers to dump\n");
    return;
  }
  if(xchg(&excl, 1)){
    dump_asked = 1;              // the control operation running now does it
    return;
  }
  printf("trace: dumping the trace buffers to COM2 (console key)\n");
  quiesce();
  n = dump_locked(DUMP_CONSOLE);
  resume();
  __sync_synchronize();
  excl = 0;
  printf("trace: dump done, %d records\n", n);
}

// ---- cost measurement ------------------------------------------------------------

// 100 x the average cycles one trace_marker() call takes right now (with
// tracing as it is: off, or on). n in 1 .. 1000000.
int
trace_bench(int n)
{
  uint64 t0, dt;
  uint q;
  int i;

  if(n < 1 || n > 1000000)
    return -EINVAL;
  t0 = rdtsc();
  for(i = 0; i < n; i++)
    trace_marker("bench", i);
  dt = (rdtsc() - t0) * 100;
  q = udiv64(dt, n);
  return q > 0x7FFFFFFF ? 0x7FFFFFFF : q;
}

static struct trace_rec floor_recs[64];  // TRACE_PART_FLOOR's records

// 100 x the average cycles of one part of the record path (TRACE_PART_*),
// over 2000 runs, to show where an event's cycles go. Each part has its
// own loop (a switch inside the loop would add an indirect jump, which
// costs the emulator a lookup per iteration).
int
trace_bench_part(int part)
{
  uint w[TRACE_NWORDS] = { 1, 2, 3, 4, 5, 6, 7 };
  volatile uint sink = 0;
  volatile int vsinkc = VM_NONE;
  struct trace_rec *r;
  uint64 t0, dt;
  uint eflags, ef, q;
  int i, n = 2000, sinkc = vsinkc, irqoff;

  if(part < 0 || part >= TRACE_NPARTS)
    return -EINVAL;
  irqoff = part == TRACE_PART_RECORD_CLI || part == TRACE_PART_OFF_CLI ||
           part == TRACE_PART_FAULT || part == TRACE_PART_PAGE;
  eflags = readeflags();
  if(irqoff)
    cli();
  t0 = rdtsc();
  switch(part){
  case TRACE_PART_CHECK:
    for(i = 0; i < n; i++)
      if(trace_wants(TEV_LIMIT - 1))
        sink++;
    break;
  case TRACE_PART_IRQ:
    for(i = 0; i < n; i++){
      ef = readeflags();
      cli();
      if(ef & FL_IF)
        sti();
    }
    break;
  case TRACE_PART_TSC:
    for(i = 0; i < n; i++)
      sink += (uint)rdtsc();
    break;
  case TRACE_PART_OFF:
  case TRACE_PART_OFF_CLI:
    // Type 0 is never traced; one counter bumped, the sink slot (an index
    // the compiler cannot see, like a fault's kind).
    for(i = 0; i < n; i++)
      trace_event(0, w, sinkc, 1, VM_NONE, VM_NONE);
    break;
  case TRACE_PART_FAULT:
    for(i = 0; i < n; i++)
      trace_fault_event(TEV_MARKER, VM_MARKERS, sinkc, 0x1000 + i, 6, TF_ZERO, t0);
    break;
  case TRACE_PART_PAGE:
    for(i = 0; i < n; i++)
      trace_page_event(TEV_MARKER, (void *)(KERNBASE + 0x1000), 0, (void *)&sink, VM_MARKERS);
    break;
  case TRACE_PART_FLOOR:
    for(i = 0; i < n; i++){
      r = &floor_recs[i & (NELEM(floor_recs) - 1)];
      r->tsc = rdtsc();
      r->seq = i;
      r->type_cpu = i;
      r->pid = i;
      r->w[0] = r->w[1] = r->w[2] = r->w[3] = r->w[4] = r->w[5] = r->w[6] = i;
      asm volatile("" : : "r"(r) : "memory");   // (the stores are made: nobody reads them)
    }
    break;
  case TRACE_PART_STORES:
    for(i = 0; i < n; i++){
      r = &floor_recs[i & (NELEM(floor_recs) - 1)];
      r->tsc = i;
      r->seq = i;
      r->type_cpu = i;
      r->pid = i;
      r->w[0] = r->w[1] = r->w[2] = r->w[3] = r->w[4] = r->w[5] = r->w[6] = i;
      asm volatile("" : : "r"(r) : "memory");   // (the stores are made: nobody reads them)
    }
    break;
  default:                       // TRACE_PART_RECORD, TRACE_PART_RECORD_CLI
    for(i = 0; i < n; i++)
      trace_event(TEV_MARKER, w, VM_MARKERS, 1, VM_NONE, VM_NONE);  // a counted marker
    break;
  }
  dt = (rdtsc() - t0) * 100;
  if(irqoff && (eflags & FL_IF))
    sti();
  q = udiv64(dt, n);
  return q > 0x7FFFFFFF ? 0x7FFFFFFF : q;
}
