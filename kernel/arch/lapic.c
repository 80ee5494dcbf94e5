// The local APIC: per-CPU interrupt controller, timer and IPIs.
// Register offsets and bits are from the Intel SDM, vol. 3, ch. 10.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "arch/traps.h"
#include "core/defs.h"

volatile uint *lapic;            // set by mp_init(); identity-mapped device space

// Register byte offsets.
#define LAPIC_ID      0x020
#define LAPIC_VER     0x030
#define LAPIC_TPR     0x080      // task priority
#define LAPIC_EOI     0x0B0
#define LAPIC_SVR     0x0F0      // spurious vector + software enable
#define LAPIC_ESR     0x280      // error status
#define LAPIC_ICRLO   0x300      // interrupt command
#define LAPIC_ICRHI   0x310
#define LAPIC_TIMER   0x320      // LVT timer
#define LAPIC_PCINT   0x340      // LVT performance counter
#define LAPIC_LINT0   0x350
#define LAPIC_LINT1   0x360
#define LAPIC_ERROR   0x370      // LVT error
#define LAPIC_TICR    0x380      // timer initial count
#define LAPIC_TCCR    0x390      // timer current count
#define LAPIC_TDCR    0x3E0      // timer divide configuration

#define SVR_ENABLE    0x100
#define LVT_MASKED    0x10000
#define TIMER_PERIODIC 0x20000
#define TDCR_DIV16    0x3

#define ICR_INIT      0x500
#define ICR_STARTUP   0x600
#define ICR_NMI       0x400
#define ICR_PENDING   0x1000     // delivery status
#define ICR_ASSERT    0x4000
#define ICR_LEVEL     0x8000
#define ICR_ALLBUT    0xC0000    // destination: everyone except me
#define ICR_ALL       0x80000    // destination: everyone including me

#define TIMER_HZ      100

static uint timer_count;         // initial count for TIMER_HZ, divide-by-16
static uint tsc_per_us;          // for microdelay()

static uint
lapic_read(int off)
{
  return lapic[off / 4];
}

// Write a register, then read ID back so the write has completed.
static void
lapic_write(int off, uint v)
{
  lapic[off / 4] = v;
  (void)lapic[LAPIC_ID / 4];
}

// Measure the LAPIC timer and the TSC against 10 ms of the PIT (channel 2,
// whose gate and output are visible at port 0x61). Runs once, on the BSP.
static void
calibrate(void)
{
  const uint pit_ticks = 11932;  // 10 ms of the 1.193182 MHz PIT
  uint64 t0, t1;
  uint left;

  outb(0x61, (inb(0x61) & ~0x02) | 0x01);   // gate on, speaker off
  outb(0x43, 0xB0);              // channel 2, lo/hi byte, mode 0, binary
  outb(0x42, pit_ticks & 0xFF);
  outb(0x42, pit_ticks >> 8);

  lapic_write(LAPIC_TDCR, TDCR_DIV16);
  lapic_write(LAPIC_TIMER, LVT_MASKED);
  lapic_write(LAPIC_TICR, 0xFFFFFFFF);
  t0 = rdtsc();
  while((inb(0x61) & 0x20) == 0)  // OUT2 goes high when the count expires
    ;
  left = lapic_read(LAPIC_TCCR);
  t1 = rdtsc();
  lapic_write(LAPIC_TICR, 0);

  timer_count = (0xFFFFFFFF - left) * (100 / TIMER_HZ);
  if(timer_count < 1000)
    timer_count = 1000000;       // calibration failed: pick something sane
  tsc_per_us = (uint)(t1 - t0) / 10000;   // 10 ms: fits in 32 bits
  if(tsc_per_us == 0)
    tsc_per_us = 1000;
}

// Set up this CPU's local APIC: enable it, start the periodic timer, mask
// the legacy LINT pins, clear errors. Interrupts stay off in the CPU.
void
lapic_init(void)
{
  if(!lapic)
    return;

  lapic_write(LAPIC_SVR, SVR_ENABLE | (T_IRQ0 + IRQ_SPURIOUS));
  if(timer_count == 0)
    calibrate();
  lapic_write(LAPIC_TDCR, TDCR_DIV16);
  lapic_write(LAPIC_TIMER, TIMER_PERIODIC | (T_IRQ0 + IRQ_TIMER));
  lapic_write(LAPIC_TICR, timer_count);

  lapic_write(LAPIC_LINT0, LVT_MASKED);
  lapic_write(LAPIC_LINT1, LVT_MASKED);
  if(((lapic_read(LAPIC_VER) >> 16) & 0xFF) >= 4)
    lapic_write(LAPIC_PCINT, LVT_MASKED);
  lapic_write(LAPIC_ERROR, T_IRQ0 + IRQ_ERROR);

  lapic_write(LAPIC_ESR, 0);     // two writes clear it
  lapic_write(LAPIC_ESR, 0);
  lapic_write(LAPIC_EOI, 0);     // acknowledge anything outstanding

  // Synchronise arbitration ids (INIT level de-assert to everyone).
  lapic_write(LAPIC_ICRHI, 0);
  lapic_write(LAPIC_ICRLO, ICR_ALL | ICR_INIT | ICR_LEVEL);
  while(lapic_read(LAPIC_ICRLO) & ICR_PENDING)
    ;

  lapic_write(LAPIC_TPR, 0);     // accept every priority
}

int
lapic_id(void)
{
  if(!lapic)
    return 0;
  return lapic_read(LAPIC_ID) >> 24;
}

// Acknowledge the interrupt being handled.
void
lapic_eoi(void)
{
  if(lapic)
    lapic_write(LAPIC_EOI, 0);
}

// Busy-wait about us microseconds (TSC based once calibrated).
void
microdelay(int us)
{
  uint64 end;

  if(tsc_per_us == 0){
    volatile int i;
    for(i = 0; i < us * 100; i++)
      ;
    return;
  }
  end = rdtsc() + (uint64)us * tsc_per_us;
  while(rdtsc() < end)
    cpu_relax();
}

static void
send_ipi(uint dest_apicid, uint cmd)
{
  lapic_write(LAPIC_ICRHI, dest_apicid << 24);
  lapic_write(LAPIC_ICRLO, cmd);
  while(lapic_read(LAPIC_ICRLO) & ICR_PENDING)
    ;
}

// Start the CPU with the given APIC id at physical address addr (page
// aligned, below 1 MiB) with the INIT, STARTUP, STARTUP sequence.
void
lapic_startap(uchar apicid, uint addr)
{
  ushort *warm_reset = (ushort *)P2V(0x467);  // BIOS warm-reset vector 40:67
  int i;

  // Tell the BIOS to jump to addr after INIT ("shutdown code" 0x0A).
  outb(0x70, 0x0F);
  outb(0x71, 0x0A);
  warm_reset[0] = 0;
  warm_reset[1] = addr >> 4;

  send_ipi(apicid, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
  microdelay(200);
  send_ipi(apicid, ICR_INIT | ICR_LEVEL);
  microdelay(100);
  for(i = 0; i < 2; i++){
    send_ipi(apicid, ICR_STARTUP | (addr >> 12));
    microdelay(200);
  }
}

// Send an NMI to every other CPU (panic uses this to stop them).
void
lapic_nmi_others(void)
{
  if(lapic)
    send_ipi(0, ICR_ALLBUT | ICR_NMI | ICR_ASSERT);
}

// Send interrupt vector vec to the CPU with APIC id apicid (fixed
// delivery, edge): the scheduler wakes a halted CPU this way, the TLB
// shootdown asks a CPU to flush. Interrupts are off while the command
// register is written.
void
lapic_ipi(uint apicid, uint vec)
{
  if(!lapic)
    return;
  pushcli();
  send_ipi(apicid, vec & 0xFF);
  popcli();
}
