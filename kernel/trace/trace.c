// Event tracing: per-CPU ring buffers, run-time control and the dump.
//
// Each CPU records into its own buffer with interrupts off, so recording
// needs no lock and is safe in interrupt handlers. The control operations
// (one caller at a time, under a sleep lock) first stop recording and wait
// until no CPU is inside the recording code: that is how they may then
// touch every CPU's buffer. The wire format of the dump is described in
// trace/FORMAT.md.
//
// The record path is short on purpose (it runs on every page fault and
// page allocation while tracing): %gs gives this CPU's struct cpu in one
// load, a buffer holds a power-of-two number of records so the slot is
// head & mask, one counter (head) gives the sequence number, and held /
// lost are derived from it instead of being counted.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "errno.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "arch/trapframe.h"
#include "core/defs.h"
#include "memstat.h"
#include "trace/trace.h"

#define TRACE_VERSION   1
#define DEFAULT_CAP     8192            // records per CPU (a power of two)
#define FRAME_MAX       4096            // payload bytes per frame
#define RECS_PER_FRAME  64

// Frame kinds (FORMAT.md).
#define FR_HEADER  1
#define FR_CPU     2
#define FR_RECORDS 3
#define FR_END     4

// One CPU's ring. Only that CPU writes it while tracing is on; the
// controller touches it only after quiesce().
struct tbuf {
  struct trace_rec *recs;      // cap records (page_alloc'd, 2^order pages)
  uint mask;                   // cap - 1 (cap is a power of two)
  uint head;                   // events accepted since clear = next seq
  uint full;                   // 1 once the buffer has no room left
  uint stop;                   // 1 in stop mode: drop new events when full
  int order;
  volatile uint busy;          // 1 while this CPU is recording
} __attribute__((aligned(64)));

static struct tbuf tbufs[NCPU];

// The decoder relies on this layout (FORMAT.md).
typedef char trace_rec_is_48_bytes[sizeof(struct trace_rec) == 48 ? 1 : -1];

volatile uint trace_live;       // read by trace_wants() on every event

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
  uint64 tsc0;                 // rdtsc() and ticks when tracing was first turned on,
  uint ticks0;                 // to tell the decoder the TSC rate
} cfg = { .mask = TRACE_MASK_DEFAULT, .mode = TRACE_FLIGHT };

static struct sleeplock ctl = { .lk = { .name = "tracectl" }, .name = "tracectl" };

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
tb_held(struct tbuf *tb)
{
  return tb->full ? tb->mask + 1 : tb->head;
}

static uint
tb_first_seq(struct tbuf *tb)
{
  return tb->stop ? 0 : tb->head - tb_held(tb);
}

// ---- recording --------------------------------------------------------------

// A record being written: where, and what to undo when done.
struct slot {
  struct tbuf *tb;
  struct trace_rec *r;
  uint eflags;
};

// Start recording an event of type on this CPU: turn interrupts off, mark
// the CPU busy, apply the filters and take the next record of its buffer
// (header filled in: tsc, seq, type, cpu, pid). Returns 1 with s->r to fill
// (all TRACE_NWORDS payload words), or 0 if the event is not recorded. Either
// way the caller ends with slot_close(s).
static inline __attribute__((always_inline)) int
slot_open(struct slot *s, int type)
{
  struct cpu *c;
  struct tbuf *tb;
  struct trace_rec *r;
  uint seq;
  int id, pid;

  s->eflags = readeflags();
  cli();
  s->tb = 0;
  if(readgs() == 0)              // this CPU is still booting
    return 0;
  asm volatile("movl %%gs:0, %0" : "=r"(c));
  id = c - cpus;
  tb = s->tb = &tbufs[id];
  xchg(&tb->busy, 1);            // a full barrier: the controller sees it
  if(((trace_live >> type) & 1) == 0 || tb->recs == 0)
    return 0;
  pid = c->proc ? c->proc->pid : 0;
  if(cfg.pid && pid != cfg.pid)
    return 0;
  seq = tb->head;
  if(tb->full && tb->stop){
    if(seq != 0xFFFFFFFF)        // a dropped event still takes a sequence number
      tb->head = seq + 1;
    return 0;
  }
  tb->head = seq + 1;
  if(seq == tb->mask)
    tb->full = 1;
  r = s->r = &tb->recs[seq & tb->mask];
  r->tsc = rdtsc();
  r->seq = seq;
  *(uint *)&r->type = type | id << 16;   // type, cpu, flags = 0: one store
  r->pid = pid;
  return 1;
}

// Finish what slot_open() began: the record (if any) is complete.
static inline __attribute__((always_inline)) void
slot_close(struct slot *s)
{
  asm volatile("" ::: "memory");  // x86 keeps stores in order: busy goes last
  if(s->tb)
    s->tb->busy = 0;
  if(s->eflags & FL_IF)
    sti();
}

// Record one event of type with payload w[TRACE_NWORDS] in this CPU's
// buffer, if tracing is on for type and the current process passes the
// pid filter. Never sleeps, takes no lock.
void
trace_record(int type, const uint *__restrict w)
{
  struct slot s;
  uint *__restrict d;

  if(slot_open(&s, type)){
    d = s.r->w;
    d[0] = w[0]; d[1] = w[1]; d[2] = w[2]; d[3] = w[3];
    d[4] = w[4]; d[5] = w[5]; d[6] = w[6];
  }
  slot_close(&s);
}

// The recording half of trace_fault(): the user eip of the current trap or
// system call, and the cycles since the fault began at t0.
void
trace_fault_slow(uint va, uint err, int how, uint64 t0)
{
  struct slot s;
  struct proc *p;
  uint *d;

  if(slot_open(&s, TEV_FAULT)){
    d = s.r->w;
    p = cpus[s.r->cpu].proc;
    d[0] = va;
    d[1] = p && p->tf ? p->tf->eip : 0;
    d[2] = err;
    d[3] = how;
    d[4] = t0 ? (uint)s.r->tsc - (uint)t0 : 0;
    d[5] = d[6] = 0;
  }
  slot_close(&s);
}

// Record an event whose payload is nlead (0 or 1) words (lead), then the
// string s padded to slen bytes, then one word tail (if it fits).
void
trace_str_event(int type, int nlead, uint lead, const char *str, int slen, uint tail)
{
  struct slot s;
  uint *d;
  char *b;
  int i;

  if(slot_open(&s, type)){
    d = s.r->w;
    d[0] = d[1] = d[2] = d[3] = d[4] = d[5] = d[6] = 0;
    if(nlead)
      d[0] = lead;
    b = (char *)&d[nlead];
    for(i = 0; str && i < slen - 1 && str[i]; i++)
      b[i] = str[i];
    if(nlead + slen / 4 < TRACE_NWORDS)
      d[nlead + slen / 4] = tail;
  }
  slot_close(&s);
}

// ---- control ------------------------------------------------------------------

// Stop recording and wait until no CPU is still inside trace_record().
// Afterwards the caller (holding ctl) may touch every buffer.
static void
quiesce(void)
{
  int i;

  trace_live = 0;
  __sync_synchronize();
  for(i = 0; i < NCPU; i++)
    while(tbufs[i].busy)
      cpu_relax();
}

// Let recording run again if tracing is enabled.
static void
resume(void)
{
  __sync_synchronize();
  trace_live = cfg.enabled ? (cfg.mask & ~1u) : 0;
}

static void
clear_buffers(void)
{
  int i, k;

  for(i = 0; i < NCPU; i++){
    tbufs[i].head = 0;
    tbufs[i].full = 0;
    tbufs[i].stop = cfg.mode == TRACE_STOP;
  }
  for(k = 0; k < VM_NCOUNTERS; k++)
    cfg.vm_acc[k] = 0;
  if(cfg.enabled)
    for(k = 0; k < VM_NCOUNTERS; k++)
      cfg.vm_on[k] = vmstat_counters[k];
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

static void
set_enabled(int on)
{
  int k;

  if(on == cfg.enabled)
    return;
  for(k = 0; k < VM_NCOUNTERS; k++){
    if(on)
      cfg.vm_on[k] = vmstat_counters[k];
    else
      cfg.vm_acc[k] += vmstat_counters[k] - cfg.vm_on[k];
  }
  cfg.enabled = on;
  if(on && cfg.tsc0 == 0){
    cfg.tsc0 = rdtsc();
    cfg.ticks0 = ticks;
  }
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
    cfg.mask = (uint)arg;
    return 0;
  case TRACE_PID:
    if(arg < 0)
      return -EINVAL;
    cfg.pid = arg;
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

// Carry out control command cmd (TRACE_ON ... TRACE_MODE) with argument
// arg. May sleep. 0 or -errno.
int
trace_ctl(int cmd, int arg)
{
  int r;

  acquiresleep(&ctl);
  quiesce();
  r = ctl_locked(cmd, arg);
  resume();
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
  for(i = 0; i < st->ncpu && i < cfg.nbufs; i++){
    st->cpu[i].recorded = tbufs[i].head;
    st->cpu[i].held = tb_held(&tbufs[i]);
    st->cpu[i].lost = st->cpu[i].recorded - st->cpu[i].held;
  }
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

// The self-description: version, record layout, the event table, the
// enumerations, the configuration and the counter increments.
static void
send_header(void)
{
  uint acc[VM_NCOUNTERS];
  uint i;

  for(i = 0; i < VM_NCOUNTERS; i++){
    acc[i] = cfg.vm_acc[i];
    if(cfg.enabled)
      acc[i] += vmstat_counters[i] - cfg.vm_on[i];
  }
  frame_text("ktrace ");  frame_num(TRACE_VERSION, 10);
  frame_text("\nrecsize "); frame_num(sizeof(struct trace_rec), 10);
  frame_text("\nnwords ");  frame_num(TRACE_NWORDS, 10);
  frame_text("\nncpu ");    frame_num(cfg.nbufs, 10);
  frame_text("\nmode ");    frame_text(cfg.mode == TRACE_STOP ? "stop" : "flight");
  frame_text("\nmask 0x");  frame_num(cfg.mask, 16);
  frame_text("\npid ");     frame_num(cfg.pid, 10);
  frame_text("\ncap ");     frame_num(cfg.cap, 10);
  if(cfg.tsc0 && ticks - cfg.ticks0 >= 10){
    frame_text("\ntsc_per_tick ");
    frame_num(udiv64(rdtsc() - cfg.tsc0, ticks - cfg.ticks0), 10);
  }
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
  struct tbuf *tb = &tbufs[c];
  uint i, n, held = tb_held(tb), cap = tb->mask + 1;
  uint idx = tb_first_seq(tb) & tb->mask;     // the oldest record

  frame_word(c);
  frame_word(tb->head);
  frame_word(tb->head - held);
  frame_word(held);
  frame_word(tb_first_seq(tb));
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

// Write every buffer to COM2 as a framed stream (FORMAT.md). Recording is
// paused meanwhile; the buffers keep their contents. Returns the number of
// records written.
int
trace_dump(void)
{
  uint total = 0, lost = 0;
  int c;

  acquiresleep(&ctl);
  quiesce();
  fr.seq = 0;
  fr.len = 0;
  send_header();
  for(c = 0; c < cfg.nbufs; c++){
    total += send_cpu(c);
    lost += tbufs[c].head - tb_held(&tbufs[c]);
  }
  frame_word(fr.seq);
  frame_word(total);
  frame_word(lost);
  frame_send(FR_END);
  resume();
  releasesleep(&ctl);
  return total;
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
