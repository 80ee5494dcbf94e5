// Finding the CPUs through the ACPI MADT ("APIC" table).
//
// qemu >= 6.2 makes "-smp N" mean N cores in one socket, and SeaBIOS lists
// only one CPU per socket in the old MP table, so the MP table alone would
// show a single CPU. The MADT lists every local APIC. mp_init() asks here
// first and falls back to the MP table.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"

extern uchar ioapicid;           // mp.c
extern uint ioapic_pa;

// Root System Description Pointer (ACPI 1.0 part).
struct rsdp {
  char sig[8];                   // "RSD PTR "
  uchar checksum;                // first 20 bytes sum to 0
  char oemid[6];
  uchar revision;
  uint rsdt_pa;
} __attribute__((packed));

// Header shared by every system description table.
struct sdt_hdr {
  char sig[4];
  uint length;                   // whole table, header included
  uchar revision;
  uchar checksum;                // whole table sums to 0
  char oemid[6];
  char oemtable[8];
  uint oemrev;
  uint creator;
  uint creatorrev;
} __attribute__((packed));

// The MADT: header, then variable-length entries (type, length, ...).
struct madt {
  struct sdt_hdr h;
  uint lapic_pa;
  uint flags;
} __attribute__((packed));

#define MADT_LAPIC  0            // processor local APIC
#define MADT_IOAPIC 1

struct madt_lapic {
  uchar type, len;
  uchar acpi_id;
  uchar apic_id;
  uint flags;                    // bit 0: enabled
} __attribute__((packed));

struct madt_ioapic {
  uchar type, len;
  uchar id;
  uchar reserved;
  uint addr;
  uint gsi_base;
} __attribute__((packed));

// ACPI tables usually sit at the top of RAM, possibly above what the
// kernel maps (PHYSMAX). We look at them through a temporary window of two
// 4 MiB pages at ACPI_WINDOW, a user-half address that nothing uses while
// the boot CPU runs mp_init().
#define ACPI_WINDOW 0x40000000

// Map the 8 MiB around physical address pa at ACPI_WINDOW in the current
// page directory and return pa's virtual address there.
static void *
window_map(uint pa)
{
  pde_t *pgdir = P2V(rcr3());
  uint base = pa & ~(BIGPGSIZE - 1);

  pgdir[PDX(ACPI_WINDOW)] = base | PTE_P | PTE_PS;
  pgdir[PDX(ACPI_WINDOW) + 1] = (base + BIGPGSIZE) | PTE_P | PTE_PS;
  invlpg((void *)ACPI_WINDOW);
  invlpg((void *)(ACPI_WINDOW + BIGPGSIZE));
  return (void *)(ACPI_WINDOW + (pa - base));
}

static void
window_unmap(void)
{
  pde_t *pgdir = P2V(rcr3());

  pgdir[PDX(ACPI_WINDOW)] = 0;
  pgdir[PDX(ACPI_WINDOW) + 1] = 0;
  lcr3(rcr3());
}

static int
sum_ok(const void *p, uint n)
{
  const uchar *b = p;
  uchar s = 0;
  while(n-- > 0)
    s += *b++;
  return s == 0;
}

static struct rsdp *
rsdp_scan(uint pa, uint n)
{
  uint off;

  for(off = 0; off + sizeof(struct rsdp) <= n; off += 16){
    struct rsdp *r = P2V(pa + off);
    if(memcmp(r->sig, "RSD PTR ", 8) == 0 && sum_ok(r, 20))
      return r;
  }
  return 0;
}

// Map the checksummed table at physical address pa into the window and
// return it, or 0 if it is not a valid table (the window stays mapped).
static struct sdt_hdr *
table_at(uint pa)
{
  struct sdt_hdr *h;

  if(pa == 0 || pa > 0xFFFFFFFF - BIGPGSIZE)
    return 0;
  h = window_map(pa);
  if(h->length < sizeof(*h) || h->length > BIGPGSIZE || !sum_ok(h, h->length))
    return 0;
  return h;
}

// Copy the MADT's CPU and IOAPIC entries into cpus[], ncpu, lapic and the
// IOAPIC id/address. Returns the number of CPUs.
static int
madt_parse(struct madt *madt)
{
  uchar *p = (uchar *)(madt + 1);
  uchar *e = (uchar *)madt + madt->h.length;

  ncpu = 0;
  lapic = (uint *)madt->lapic_pa;
  for(; p + 2 <= e && p[1] >= 2; p += p[1]){
    if(p[0] == MADT_LAPIC){
      struct madt_lapic *l = (struct madt_lapic *)p;
      if((l->flags & 1) && ncpu < NCPU)
        cpus[ncpu++].apicid = l->apic_id;
    } else if(p[0] == MADT_IOAPIC && ioapic_pa == 0){
      struct madt_ioapic *io = (struct madt_ioapic *)p;
      ioapicid = io->id;
      ioapic_pa = io->addr;
    }
  }
  return ncpu;
}

#define MAXTABLES 32

// Fill cpus[], ncpu, lapic and the IOAPIC id/address from the MADT.
// Returns the number of CPUs found (0: no usable ACPI tables). Boot CPU
// only, interrupts off.
int
acpi_find_cpus(void)
{
  uchar *bda = P2V(0x400);
  struct rsdp *r;
  struct sdt_hdr *rsdt, *h;
  uint tables[MAXTABLES];
  uint i, n, ebda;
  int found = 0;

  ebda = (bda[0x0F] << 8 | bda[0x0E]) << 4;
  r = ebda ? rsdp_scan(ebda, 1024) : 0;
  if(r == 0)
    r = rsdp_scan(0xE0000, 0x20000);
  if(r == 0)
    return 0;

  rsdt = table_at(r->rsdt_pa);
  n = 0;
  if(rsdt && memcmp(rsdt->sig, "RSDT", 4) == 0){
    n = (rsdt->length - sizeof(*rsdt)) / 4;
    if(n > MAXTABLES)
      n = MAXTABLES;
    memmove(tables, rsdt + 1, n * 4);
  }
  for(i = 0; i < n && !found; i++){
    h = table_at(tables[i]);
    if(h && memcmp(h->sig, "APIC", 4) == 0)
      found = madt_parse((struct madt *)h);
  }
  window_unmap();
  return found;
}
