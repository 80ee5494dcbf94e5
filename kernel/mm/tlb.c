// TLB shootdown: after the kernel clears a dirty bit or removes a PTE in
// an address space that is running on another CPU, that CPU may still
// hold the old entry in its TLB (and would go on storing without setting
// the dirty bit again, or through a removed PTE). tlb_shootdown sends each
// such CPU an IPI (vector T_IRQ0 + IRQ_TLB) whose handler reloads CR3, and
// waits until each has done so. Every shootdown is counted
// (tlb_shootdowns) and traced with its cost in cycles.
#include "types.h"
#include "param.h"
#include "arch/x86.h"
#include "arch/traps.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "mm/mobj.h"
#include "mm/pctrace.h"

static volatile uint tlb_done[NCPU];   // flushes each CPU has done for a shootdown

// Flush the TLBs of the CPUs in cpumask (bits: indexes in cpus[], never
// this CPU's) and wait until they have. Caller holds no spinlock and has
// interrupts on: a target may be spinning for a lock until it gets one.
void
tlb_shootdown(uint cpumask)
{
  uint seen[NCPU];
  uint64 t0;
  int i;

  if(cpumask == 0)
    return;
  t0 = rdtsc();
  for(i = 0; i < ncpu; i++){
    if((cpumask & (1u << i)) == 0)
      continue;
    seen[i] = tlb_done[i];
    lapic_ipi(cpus[i].apicid, T_IRQ0 + IRQ_TLB);
  }
  for(i = 0; i < ncpu; i++)
    if(cpumask & (1u << i))
      while(tlb_done[i] == seen[i])
        cpu_relax();
  trace_tlb_shootdown(cpumask, (uint)(rdtsc() - t0));
}

// The shootdown IPI: drop this CPU's TLB entries and say so. Runs with
// interrupts off.
void
tlb_intr(void)
{
  lcr3(rcr3());
  __sync_fetch_and_add(&tlb_done[cpuid()], 1);
}
