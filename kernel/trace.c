// Event tracing: per-CPU ring buffers, run-time control and the dump.
//
// Each CPU records into its own buffer with interrupts off (pushcli), so
// recording needs no lock and is safe in interrupt handlers. The control
// operations (one caller at a time, under a sleep lock) first stop
// recording and wait until no CPU is inside trace_record(): that is how
// they may then touch every CPU's buffer. The wire format of the dump is
// described in trace/FORMAT.md.
#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "errno.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "proc.h"
#include "trapframe.h"
#include "defs.h"
#include "memstat.h"
#include "trace.h"

#define TRACE_VERSION   1
#define DEFAULT_CAP     8192            // records per CPU
#define FRAME_MAX       4096            // payload bytes per frame
#define RECS_PER_FRAME  64

// Frame kinds (FORMAT.md).
#define FR_HEADER  1
#define FR_CPU     2
#define FR_RECORDS 3
#define FR_END     4

// One CPU's ring. Only that CPU touches it while tracing is on; the
// controller touches it only after quiesce().
struct tbuf {
  struct trace_rec *recs;      // cap records (page_alloc'd, 2^order pages)
  int order;
  uint widx;                   // where the next record goes
  uint held;                   // records in the buffer (<= cap)
  uint recorded;               // events accepted since clear = next seq
  uint lost;                   // overwritten or dropped since clear
  volatile uint busy;          // 1 while this CPU is in trace_record()
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
} cfg = { .mask = ~1u, .mode = TRACE_FLIGHT };

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

// ---- recording --------------------------------------------------------------

// Record one event of type with payload w[TRACE_NWORDS] in this CPU's
// buffer, if tracing is on for type and the current process passes the
// pid filter. Never sleeps, takes no lock.
void
trace_record(int type, const uint *w)
{
  struct cpu *c;
  struct tbuf *tb;
  struct trace_rec *r;
  int pid, i;
  uint eflags;

  // pushcli()/popcli() without their nesting count: nothing below nests,
  // and under emulation each saved eflags read is costly.
  eflags = readeflags();
  cli();
  c = mycpu();
  tb = &tbufs[c - cpus];
  xchg(&tb->busy, 1);            // a full barrier: the controller sees it
  if(((trace_live >> type) & 1) == 0 || tb->recs == 0)
    goto out;
  pid = c->proc ? c->proc->pid : 0;
  if(cfg.pid && pid != cfg.pid)
    goto out;
  if(tb->held == cfg.cap){
    tb->lost++;
    if(cfg.mode == TRACE_STOP){
      tb->recorded++;            // the dropped event still uses a sequence number
      goto out;
    }
  } else {
    tb->held++;
  }
  r = &tb->recs[tb->widx];
  if(++tb->widx == cfg.cap)
    tb->widx = 0;
  r->tsc = rdtsc();
  r->seq = tb->recorded++;
  r->type = type;
  r->cpu = c - cpus;
  r->flags = 0;
  r->pid = pid;
  for(i = 0; i < TRACE_NWORDS; i++)
    r->w[i] = w[i];
  if(type == TEV_FAULT){         // (here: saves a pushcli and an rdtsc)
    if(c->proc && c->proc->tf)
      r->w[1] = c->proc->tf->eip;
    if(w[4])                     // w[4] = low half of the fault's start tsc
      r->w[4] = (uint)r->tsc - w[4];
  }
out:
  asm volatile("" ::: "memory");  // x86 keeps stores in order: busy goes last
  tb->busy = 0;
  if(eflags & FL_IF)
    sti();
}

// The recording half of trace_fault(). trace_record() fills in the user
// eip of the current trap or system call, and turns the start time t0
// (passed in the cycles word) into the cycles the fault took.
void
trace_fault_slow(uint va, uint err, int how, uint64 t0)
{
  uint w[TRACE_NWORDS] = { va, 0, err, (uint)how, (uint)t0 };

  if(w[4] == 0 && t0)
    w[4] = 1;                    // (0 means "no start time")
  trace_record(TEV_FAULT, w);
}

// Record an event whose payload is nlead (0 or 1) words (lead), then the
// string s padded to slen bytes, then one word tail (if it fits).
void
trace_str_event(int type, int nlead, uint lead, const char *s, int slen, uint tail)
{
  uint w[TRACE_NWORDS];
  char *b = (char *)&w[nlead];
  int i, end = 1;

  memset(w, 0, sizeof(w));
  if(nlead)
    w[0] = lead;
  for(i = 0; i < slen - 1; i++){
    if(end && s && s[i])
      b[i] = s[i];
    else
      end = 0;
  }
  if(nlead + slen / 4 < TRACE_NWORDS)
    w[nlead + slen / 4] = tail;
  trace_record(type, w);
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
    tbufs[i].widx = tbufs[i].held = 0;
    tbufs[i].recorded = tbufs[i].lost = 0;
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

// Give every CPU a buffer of cap records (the old ones are freed). 0,
// -EINVAL if cap is 0 or too big, -ENOMEM.
static int
alloc_buffers(uint cap)
{
  uint bytes;
  int order, i;

  if(cap == 0 || cap > ((PGSIZE << BUDDY_MAXORDER) / sizeof(struct trace_rec)))
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
  cfg.cap = cap;
  cfg.nbufs = i;
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
  for(i = 0; i < st->ncpu; i++){
    st->cpu[i].recorded = tbufs[i].recorded;
    st->cpu[i].lost = tbufs[i].lost;
    st->cpu[i].held = tbufs[i].held;
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
  uint i, idx, n, cap = cfg.cap;

  idx = tb->held == cap ? tb->widx : 0;
  frame_word(c);
  frame_word(tb->recorded);
  frame_word(tb->lost);
  frame_word(tb->held);
  frame_word(tb->held ? tb->recs[idx].seq : tb->recorded);
  frame_send(FR_CPU);
  for(i = 0; i < tb->held; i += n){
    n = tb->held - i < RECS_PER_FRAME ? tb->held - i : RECS_PER_FRAME;
    frame_word(c);
    frame_word(n);
    if(idx + n <= cap){
      frame_bytes(&tb->recs[idx], n * sizeof(struct trace_rec));
    } else {
      frame_bytes(&tb->recs[idx], (cap - idx) * sizeof(struct trace_rec));
      frame_bytes(&tb->recs[0], (idx + n - cap) * sizeof(struct trace_rec));
    }
    idx = (idx + n) % cap;
    frame_send(FR_RECORDS);
  }
  return tb->held;
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
    lost += tbufs[c].lost;
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
