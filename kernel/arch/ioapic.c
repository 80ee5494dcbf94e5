// The I/O APIC: routes device interrupt lines (IRQs) to CPUs.
// Register layout from the 82093AA data sheet.
#include "types.h"
#include "param.h"
#include "arch/x86.h"
#include "arch/traps.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"

#define IOAPIC_DEFAULT 0xFEC00000   // where it lives unless the MP table says so

#define REG_ID     0x00
#define REG_VER    0x01             // bits 16-23: highest redirection entry
#define REG_TABLE  0x10             // redirection entry i: 0x10+2i (low), +1 (high)

#define RED_MASKED 0x00010000       // interrupt disabled

extern uchar ioapicid;              // mp.c
extern uint ioapic_pa;

// Memory-mapped window: write a register number to sel, then use data.
struct ioapic_mmio {
  uint sel;
  uint pad[3];
  uint data;
};

static volatile struct ioapic_mmio *ioapic;

static uint
ioapic_read(int reg)
{
  ioapic->sel = reg;
  return ioapic->data;
}

static void
ioapic_write(int reg, uint v)
{
  ioapic->sel = reg;
  ioapic->data = v;
}

// Mask the legacy 8259 PICs, which would otherwise deliver spurious IRQs.
static void
pic_disable(void)
{
  outb(0x21, 0xFF);
  outb(0xA1, 0xFF);
}

// Point every IOAPIC line at vector T_IRQ0+irq, all masked until
// ioapic_enable() asks for them.
void
ioapic_init(void)
{
  int i, maxintr;
  uint id;

  pic_disable();
  ioapic = (volatile struct ioapic_mmio *)(ioapic_pa ? ioapic_pa : IOAPIC_DEFAULT);
  maxintr = (ioapic_read(REG_VER) >> 16) & 0xFF;
  id = ioapic_read(REG_ID) >> 24;
  if(id != ioapicid)
    printf("ioapic_init: id %d differs from the MP table's %d\n", id, ioapicid);

  for(i = 0; i <= maxintr; i++){
    ioapic_write(REG_TABLE + 2 * i, RED_MASKED | (T_IRQ0 + i));
    ioapic_write(REG_TABLE + 2 * i + 1, 0);
  }
}

// Deliver irq (edge-triggered, active high) to CPU number cpunum (an index
// into cpus[]).
void
ioapic_enable(int irq, int cpunum)
{
  if(cpunum < 0 || cpunum >= ncpu)
    cpunum = 0;
  ioapic_write(REG_TABLE + 2 * irq, T_IRQ0 + irq);
  ioapic_write(REG_TABLE + 2 * irq + 1, (uint)cpus[cpunum].apicid << 24);
}
