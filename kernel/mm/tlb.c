// TLB invalidation, on this CPU and on others (shootdowns).
//
// The rule: a PTE that loses permissions (write, dirty bit, user access)
// or its frame is invalidated on every CPU that may cache it before the
// frame is reused or the lost permission matters. Processes are single-
// threaded and every switch reloads CR3, so the only CPUs that may cache a
// user PTE are those running its address space right now: this one (the
// owner changing its own tables, tlb_local_*) and, when the kernel edits
// another process's tables through the reverse map, the CPU running that
// process (a shootdown, tlb_batch_*).
//
// A single page is invalidated with invlpg, which keeps every other cached
// translation (a CR3 reload under qemu's software MMU throws them all
// away); past TLB_MAX_PAGES pages one CR3 reload is cheaper.
//
// A shootdown posts the range to each target CPU's queue (merged with any
// range already pending there), sends the IPI (vector T_IRQ0 + IRQ_TLB) and
// waits until the target has handled a request at least as new as its own.
// Every shootdown is counted (tlb_shootdowns) and traced with its cost.
// A queue's lock is taken with interrupts off, only to post or take a
// request; nobody waits while holding it.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "arch/traps.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "mm/mobj.h"
#include "mm/tlb.h"
#include "mm/pctrace.h"

// One CPU's pending shootdown: what other CPUs asked it to invalidate.
static struct tlbq {
  struct spinlock lock;
  uint lo, hi;           // user addresses [lo, hi) to invalidate; empty if lo >= hi
  int full;              // or the whole TLB
  uint posted;           // requests posted (under lock)
  volatile uint done;    // requests handled: every one up to this number
} tlbq[NCPU];

// Invalidate user addresses [lo, hi) (page-aligned) on this CPU: page by
// page, or one CR3 reload if full or the range is long. Interrupts off or
// the caller's address space loaded (a switch reloads CR3 anyway).
static void
flush_here(uint lo, uint hi, int full)
{
  if(full || hi - lo > TLB_MAX_PAGES * PGSIZE){
    lcr3(rcr3());
    return;
  }
  for(; lo < hi; lo += PGSIZE)
    invlpg((void *)lo);
}

// Start collecting invalidations of pgdir's pages on this CPU. Nothing is
// done unless pgdir is the directory this CPU uses.
void
tlb_local_begin(struct tlb_local *t, pde_t *pgdir)
{
  t->pgdir = pgdir;
  t->live = rcr3() == V2P(pgdir);
  t->n = 0;
}

// Finish: one CR3 reload if more pages changed than were invalidated.
void
tlb_local_end(struct tlb_local *t)
{
  if(t->live && t->n > TLB_MAX_PAGES)
    lcr3(V2P(t->pgdir));
}

// Everything collected in t needs one CR3 reload at tlb_local_end (a
// PDE changed: 4 MiB at once).
void
tlb_local_all_later(struct tlb_local *t)
{
  t->n = TLB_MAX_PAGES + 1;
}

// Reload CR3 now if pgdir is loaded on this CPU.
void
tlb_local_all(pde_t *pgdir)
{
  if(rcr3() == V2P(pgdir))
    lcr3(V2P(pgdir));
}

// Invalidate user addresses [lo, hi) on this CPU, whatever is loaded.
void
tlb_local_range(uint lo, uint hi)
{
  flush_here(lo, hi, 0);
}

// Invalidate user page va of pgdir on this CPU if pgdir is loaded here.
void
tlb_local_one(pde_t *pgdir, uint va)
{
  if(rcr3() == V2P(pgdir))
    invlpg((void *)va);
}

// Add [lo, hi) to what the CPUs in cpumask must invalidate (this CPU must
// not be in it).
void
tlb_batch_add(struct tlb_batch *b, uint cpumask, uint lo, uint hi)
{
  int i;

  for(i = 0; i < NCPU; i++){
    if((cpumask & (1u << i)) == 0)
      continue;
    if((b->mask & (1u << i)) == 0 || b->lo[i] >= b->hi[i]){
      b->lo[i] = lo;
      b->hi[i] = hi;
    } else {
      if(lo < b->lo[i])
        b->lo[i] = lo;
      if(hi > b->hi[i])
        b->hi[i] = hi;
    }
  }
  b->mask |= cpumask;
}

// Post [lo, hi) (or a full flush) to CPU i's queue; the request's number.
static uint
post(int i, uint lo, uint hi, int full)
{
  struct tlbq *q = &tlbq[i];
  uint n;

  acquire(&q->lock);
  if(full)
    q->full = 1;
  else if(q->lo >= q->hi){
    q->lo = lo;
    q->hi = hi;
  } else {
    if(lo < q->lo)
      q->lo = lo;
    if(hi > q->hi)
      q->hi = hi;
  }
  n = ++q->posted;
  release(&q->lock);
  return n;
}

// Make the CPUs of b invalidate their ranges and wait until they have.
// Caller holds no spinlock and has interrupts on: a target may be spinning
// for a lock until it gets one.
static void
send(struct tlb_batch *b, int full)
{
  uint want[NCPU];
  uint64 t0;
  int i;

  if(b->mask == 0)
    return;
  t0 = rdtsc();
  for(i = 0; i < ncpu; i++){
    if((b->mask & (1u << i)) == 0)
      continue;
    want[i] = post(i, b->lo[i], b->hi[i], full);
    lapic_ipi(cpus[i].apicid, T_IRQ0 + IRQ_TLB);
  }
  for(i = 0; i < ncpu; i++)
    if(b->mask & (1u << i))
      while((int)(tlbq[i].done - want[i]) < 0)
        cpu_relax();
  trace_tlb_shootdown(b->mask, (uint)(rdtsc() - t0));
}

// Send the batch's ranges to its CPUs and wait until each has invalidated
// them. Caller holds no spinlock, interrupts on.
void
tlb_batch_send(struct tlb_batch *b)
{
  send(b, 0);
}

// Flush the whole TLBs of the CPUs in cpumask (never this CPU) and wait.
// Caller holds no spinlock, interrupts on.
void
tlb_shootdown(uint cpumask)
{
  struct tlb_batch b = { .mask = cpumask };

  send(&b, 1);
}

// The shootdown IPI: take this CPU's pending request, invalidate, and say
// up to which request it is done. Runs with interrupts off.
void
tlb_intr(void)
{
  struct tlbq *q = &tlbq[cpuid()];
  uint lo, hi, n;
  int full;

  acquire(&q->lock);
  lo = q->lo;
  hi = q->hi;
  full = q->full;
  n = q->posted;
  q->lo = q->hi = 0;
  q->full = 0;
  release(&q->lock);
  if(full || lo < hi)
    flush_here(lo, hi, full);
  __sync_synchronize();
  q->done = n;
}
