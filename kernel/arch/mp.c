// Finding the CPUs and the I/O APIC through the Intel MultiProcessor
// Specification tables the BIOS leaves in low memory; per-CPU lookup.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "arch/seg.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"

struct cpu cpus[NCPU];
int ncpu;
uchar ioapicid;                  // id of the (single) I/O APIC, for ioapic.c
uint ioapic_pa;                  // its physical address (0: use the default)

// MP floating pointer structure: says where the configuration table is.
struct mp_float {
  uchar sig[4];                  // "_MP_"
  uint  config_pa;               // physical address of struct mp_config
  uchar length;                  // in 16-byte units (1)
  uchar specrev;
  uchar checksum;                // all bytes sum to 0
  uchar type;                    // default configuration number (0: use table)
  uchar imcrp;                   // bit 7: IMCR present (PIC mode at boot)
  uchar reserved[3];
};

// MP configuration table header; entries follow it.
struct mp_config {
  uchar  sig[4];                 // "PCMP"
  ushort length;                 // header + entries, in bytes
  uchar  version;
  uchar  checksum;
  uchar  product[20];
  uint   oemtable;
  ushort oemlength;
  ushort nentry;
  uint   lapic_pa;               // local APIC address
  ushort xlength;
  uchar  xchecksum;
  uchar  reserved;
};

#define MPE_PROC    0            // processor entry, 20 bytes
#define MPE_BUS     1            // 8 bytes
#define MPE_IOAPIC  2            // 8 bytes
#define MPE_IOINTR  3            // 8 bytes
#define MPE_LINTR   4            // 8 bytes

struct mp_proc {
  uchar type;
  uchar apicid;
  uchar version;
  uchar flags;                   // bit 0: usable
  uchar signature[4];
  uint  features;
  uchar reserved[8];
};

struct mp_ioapic {
  uchar type;
  uchar apicno;
  uchar version;
  uchar flags;
  uint  addr;
};

static uchar
bytesum(const void *p, int n)
{
  const uchar *b = p;
  uchar s = 0;
  while(n-- > 0)
    s += *b++;
  return s;
}

// Look for a valid floating pointer in n bytes of physical memory at pa.
static struct mp_float *
scan_float(uint pa, int n)
{
  uchar *p = P2V(pa), *e = p + n;

  for(; p + sizeof(struct mp_float) <= e; p += 16)
    if(memcmp(p, "_MP_", 4) == 0 && bytesum(p, sizeof(struct mp_float)) == 0)
      return (struct mp_float *)p;
  return 0;
}

// Search where the spec says the pointer may be: the first KiB of the
// extended BIOS data area, the last KiB of base memory, the BIOS ROM.
static struct mp_float *
find_float(void)
{
  uchar *bda = P2V(0x400);
  uint pa;
  struct mp_float *mf;

  pa = (bda[0x0F] << 8 | bda[0x0E]) << 4;     // EBDA segment
  if(pa && (mf = scan_float(pa, 1024)) != 0)
    return mf;
  pa = (bda[0x14] << 8 | bda[0x13]) * 1024;   // base memory size in KiB
  if(pa >= 1024 && (mf = scan_float(pa - 1024, 1024)) != 0)
    return mf;
  return scan_float(0xF0000, 0x10000);
}

// Fill cpus[]/ncpu and the LAPIC and IOAPIC addresses from the MP tables;
// without them, assume one CPU at the architectural default addresses.
static void
mp_table_init(void)
{
  struct mp_float *mf = find_float();
  struct mp_config *conf = 0;
  uchar *p, *e;

  if(mf && mf->config_pa && mf->type == 0){
    conf = P2V(mf->config_pa);
    if(memcmp(conf->sig, "PCMP", 4) != 0 ||
       (conf->version != 1 && conf->version != 4) ||
       bytesum(conf, conf->length) != 0)
      conf = 0;
  }
  if(conf == 0){
    printf("mp_init: no MP table; using one CPU\n");
    lapic = (uint *)0xFEE00000;
    ncpu = 1;
    cpus[0].apicid = 0;
    return;
  }

  lapic = (uint *)conf->lapic_pa;
  p = (uchar *)(conf + 1);
  e = (uchar *)conf + conf->length;
  while(p < e){
    switch(*p){
    case MPE_PROC: {
      struct mp_proc *pr = (struct mp_proc *)p;
      if((pr->flags & 1) && ncpu < NCPU){
        cpus[ncpu].apicid = pr->apicid;
        ncpu++;
      }
      p += sizeof(struct mp_proc);
      break;
    }
    case MPE_IOAPIC: {
      struct mp_ioapic *io = (struct mp_ioapic *)p;
      ioapicid = io->apicno;
      ioapic_pa = io->addr;
      p += 8;
      break;
    }
    case MPE_BUS:
    case MPE_IOINTR:
    case MPE_LINTR:
      p += 8;
      break;
    default:
      printf("mp_init: unknown entry type %d; ignoring the rest\n", *p);
      p = e;
      break;
    }
  }
  if(ncpu == 0){
    ncpu = 1;
    cpus[0].apicid = lapic_id();
  }

  // If the board booted in PIC mode, route interrupts to the APICs.
  if(mf->imcrp & 0x80){
    outb(0x22, 0x70);            // select the IMCR
    outb(0x23, inb(0x23) | 1);   // mask external interrupts from the 8259
  }
}

// Find the CPUs and interrupt controllers: the ACPI MADT lists every CPU
// (acpi.c); the MP table is the fallback.
void
mp_init(void)
{
  if(acpi_find_cpus() > 0)
    return;
  mp_table_init();
}

// This CPU's struct cpu. Interrupts must be off, or the caller could move
// to another CPU between the lookup and the use.
struct cpu *
mycpu(void)
{
  struct cpu *c;
  int id, i;

  if(readeflags() & FL_IF)
    panic("mycpu: interrupts on");

  // Normal case: seg_init() pointed %gs at a word holding our struct cpu.
  if(readgs() != 0){
    asm volatile("movl %%gs:0, %0" : "=r"(c));
    return c;
  }

  // Early boot (before seg_init on this CPU): ask the local APIC.
  if(lapic == 0 || ncpu == 0)
    return &cpus[0];
  id = lapic_id();
  for(i = 0; i < ncpu; i++)
    if(cpus[i].apicid == id)
      return &cpus[i];
  panic("mycpu: unknown APIC id");
}

// Index of this CPU in cpus[]. Interrupts off.
int
cpuid(void)
{
  return mycpu() - cpus;
}
