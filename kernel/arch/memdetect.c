// How much RAM is there? Ask the CMOS, where the BIOS (and qemu) record it.
#include "types.h"
#include "arch/x86.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "core/defs.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define CMOS_NMI_OFF 0x80        // keep NMIs masked while selecting a register

#define CMOS_EXT_LO   0x30       // KiB of RAM between 1 MiB and 65 MiB (max 0xFFFF)
#define CMOS_EXT_HI   0x31
#define CMOS_EXT16_LO 0x34       // 64 KiB blocks of RAM above 16 MiB (qemu, SeaBIOS)
#define CMOS_EXT16_HI 0x35

static uint
cmos_read(uchar reg)
{
  outb(CMOS_INDEX, reg | CMOS_NMI_OFF);
  return inb(CMOS_DATA);
}

// Return the bytes of usable physical memory starting at address 0 (only
// the memory below 4 GiB that is contiguous from 1 MiB counts), rounded down
// to a page and capped at PHYSMAX.
uint
mem_detect(void)
{
  uint64 bytes;
  uint blocks64k = cmos_read(CMOS_EXT16_LO) | cmos_read(CMOS_EXT16_HI) << 8;

  if(blocks64k > 0){
    bytes = 16ULL * 1024 * 1024 + (uint64)blocks64k * 64 * 1024;
  } else {
    uint kb = cmos_read(CMOS_EXT_LO) | cmos_read(CMOS_EXT_HI) << 8;
    bytes = 1024ULL * 1024 + (uint64)kb * 1024;
  }
  if(bytes > PHYSMAX)
    bytes = PHYSMAX;
  return (uint)bytes & ~(PGSIZE - 1);
}
