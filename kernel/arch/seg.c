// Per-CPU GDT and TSS set-up.
#include "types.h"
#include "param.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "arch/seg.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"

// Access-byte values: present | DPL | code/data | type.
#define ACC_CODE  0x9A   // present, ring 0, executable, readable
#define ACC_DATA  0x92   // present, ring 0, writable data
#define ACC_TSS   0x89   // present, ring 0, available 32-bit TSS
#define ACC_DPL(d) ((d) << 5)

// Each CPU's %gs segment covers exactly one word: a pointer to its struct cpu.
static struct cpu *cpu_self[NCPU];

// Fill d with a descriptor for [base, base+limit] (limit in bytes).
// Limits above 1 MiB are stored in 4 KiB units.
static void
set_desc(struct segdesc *d, uint base, uint limit, uchar access)
{
  uchar flags = 0x40;            // 32-bit segment
  if(limit > 0xFFFFF){
    limit >>= 12;
    flags |= 0x80;               // 4 KiB granularity
  }
  d->limit_lo = limit & 0xFFFF;
  d->base_lo = base & 0xFFFF;
  d->base_mid = (base >> 16) & 0xFF;
  d->access = access;
  d->limit_flags = flags | ((limit >> 16) & 0xF);
  d->base_hi = base >> 24;
}

// Build this CPU's GDT and TSS, load them, and point %gs at the per-CPU
// word. Runs once per CPU with interrupts off, before anything calls
// mycpu() through %gs.
void
seg_init(void)
{
  struct cpu *c = mycpu();       // found by LAPIC id: %gs is not set yet
  struct taskstate *ts = &c->ts;

  cpu_self[c - cpus] = c;
  memset(c->gdt, 0, sizeof(c->gdt));
  set_desc(&c->gdt[SEG_KCODE], 0, 0xFFFFFFFF, ACC_CODE);
  set_desc(&c->gdt[SEG_KDATA], 0, 0xFFFFFFFF, ACC_DATA);
  set_desc(&c->gdt[SEG_UCODE], 0, 0xFFFFFFFF, ACC_CODE | ACC_DPL(DPL_USER));
  set_desc(&c->gdt[SEG_UDATA], 0, 0xFFFFFFFF, ACC_DATA | ACC_DPL(DPL_USER));
  set_desc(&c->gdt[SEG_KCPU], (uint)&cpu_self[c - cpus], sizeof(struct cpu *) - 1,
           ACC_DATA);

  // No I/O bitmap inside the limit: ring 3 may not touch any port.
  memset(ts, 0, sizeof(*ts));
  ts->ss0 = SEL_KDATA;
  ts->esp0 = 0;
  ts->iomb = sizeof(*ts);
  set_desc(&c->gdt[SEG_TSS], (uint)ts, sizeof(*ts) - 1, ACC_TSS);
  c->gdt[SEG_TSS].limit_flags &= 0x0F;   // byte granularity, no size bit

  lgdt(c->gdt, sizeof(c->gdt));
  // Reload every segment register so none keeps a descriptor cached from
  // the boot GDT.
  asm volatile("movw %0, %%ds; movw %0, %%es; movw %0, %%ss;"
               "movw %1, %%fs;"
               "ljmp %2, $1f; 1:"
               : : "r"((ushort)SEL_KDATA), "r"((ushort)0), "i"(SEL_KCODE)
               : "memory");
  ltr(SEL_TSS);
  loadgs(SEL_KCPU);
}

// Record esp0 as the kernel stack top for the next trap from user mode on
// this CPU. Call with interrupts off (the scheduler does, via switchuvm).
void
tss_set_kstack(uint esp0)
{
  struct cpu *c = mycpu();
  c->ts.ss0 = SEL_KDATA;
  c->ts.esp0 = esp0;
}
