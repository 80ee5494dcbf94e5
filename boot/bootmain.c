// Boot sector, part 2: read the ELF kernel stored on the disk right after
// this sector (LBA 1 on) with programmed I/O, copy its loadable segments to
// their physical addresses and jump to its entry point.
// Must stay tiny: bootasm + this file fit in 510 bytes.
#include "kernel/types.h"
#include "kernel/arch/x86.h"

#define SECT 512
#define ELF_MAGIC 0x464C457FU    // "\x7FELF" little-endian
#define PT_LOAD 1
#define SCRATCH ((struct elf_hdr *)0x10000)   // where the ELF header goes

// The parts of the ELF32 headers we use.
struct elf_hdr {
  uint magic;
  uchar ident[12];
  ushort type, machine;
  uint version, entry, phoff, shoff, flags;
  ushort ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf_phdr {
  uint type, off, vaddr, paddr, filesz, memsz, flags, align;
};

// Wait until the primary IDE drive is ready (not busy, ready set).
static void
disk_wait(void)
{
  while((inb(0x1F7) & 0xC0) != 0x40)
    ;
}

// Read sector lba of the boot disk into dst (LBA28 PIO, one sector).
static void
disk_read(void *dst, uint lba)
{
  disk_wait();
  outb(0x1F2, 1);                      // sector count
  outb(0x1F3, lba);
  outb(0x1F4, lba >> 8);
  outb(0x1F5, lba >> 16);
  outb(0x1F6, (lba >> 24) | 0xE0);     // master, LBA mode
  outb(0x1F7, 0x20);                   // READ SECTORS
  disk_wait();
  insl(0x1F0, dst, SECT / 4);
}

// Copy n bytes at offset off of the kernel file to pa. Whole sectors are
// read, so up to SECT-1 bytes before pa get overwritten too.
static void
load(uchar *pa, uint n, uint off)
{
  uchar *end = pa + n;
  uint lba = off / SECT + 1;           // the kernel starts at sector 1

  for(pa -= off % SECT; pa < end; pa += SECT, lba++)
    disk_read(pa, lba);
}

void
bootmain(void)
{
  struct elf_hdr *eh = SCRATCH;
  struct elf_phdr *ph, *eph;

  load((uchar *)eh, 4096, 0);
  if(eh->magic != ELF_MAGIC)
    return;
  ph = (struct elf_phdr *)((uchar *)eh + eh->phoff);
  for(eph = ph + eh->phnum; ph < eph; ph++){
    if(ph->type != PT_LOAD)
      continue;
    load((uchar *)ph->paddr, ph->filesz, ph->off);
    if(ph->memsz > ph->filesz)
      stosb((uchar *)ph->paddr + ph->filesz, 0, ph->memsz - ph->filesz);
  }
  ((void (*)(void))eh->entry)();
}
