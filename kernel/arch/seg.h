// Segmentation: GDT slots, selectors, descriptor and TSS layouts.
//
// Every CPU has its own GDT (struct cpu.gdt) with flat code/data segments
// for ring 0 and ring 3, a TSS that names the kernel stack for traps from
// user mode, and a tiny per-CPU segment that %gs points at in the kernel
// so mycpu() is a single load.
#ifndef KSEG_H
#define KSEG_H

// GDT slot numbers.
#define SEG_NULL   0
#define SEG_KCODE  1   // kernel code
#define SEG_KDATA  2   // kernel data and stack
#define SEG_UCODE  3   // user code
#define SEG_UDATA  4   // user data and stack
#define SEG_TSS    5   // this CPU's task state
#define SEG_KCPU   6   // per-CPU data, loaded in %gs while in the kernel
#define NSEGS      7

#define DPL_KERNEL 0
#define DPL_USER   3

// Ready-made selector values (slot << 3 | requested privilege level).
// xv6-style code may equally write (SEG_UCODE << 3) | DPL_USER.
#define SEL_KCODE  (SEG_KCODE << 3)
#define SEL_KDATA  (SEG_KDATA << 3)
#define SEL_UCODE  ((SEG_UCODE << 3) | DPL_USER)
#define SEL_UDATA  ((SEG_UDATA << 3) | DPL_USER)
#define SEL_TSS    (SEG_TSS << 3)
#define SEL_KCPU   (SEG_KCPU << 3)

#ifndef __ASSEMBLER__
#include "types.h"

// An 8-byte segment descriptor, laid out as the CPU reads it.
struct segdesc {
  ushort limit_lo;     // limit bits 0-15
  ushort base_lo;      // base bits 0-15
  uchar  base_mid;     // base bits 16-23
  uchar  access;       // present, DPL, type
  uchar  limit_flags;  // limit bits 16-19 (low nibble), granularity/size (high)
  uchar  base_hi;      // base bits 24-31
} __attribute__((packed));

// The 32-bit task-state segment. Only esp0/ss0 (the stack used when a trap
// arrives from ring 3) and iomb matter: the kernel never task-switches.
struct taskstate {
  uint link;
  uint esp0;
  ushort ss0;  ushort pad0;
  uint esp1;
  ushort ss1;  ushort pad1;
  uint esp2;
  ushort ss2;  ushort pad2;
  uint cr3;
  uint eip;
  uint eflags;
  uint eax, ecx, edx, ebx, esp, ebp, esi, edi;
  ushort es;   ushort pad3;
  ushort cs;   ushort pad4;
  ushort ss;   ushort pad5;
  ushort ds;   ushort pad6;
  ushort fs;   ushort pad7;
  ushort gs;   ushort pad8;
  ushort ldt;  ushort pad9;
  ushort trap;
  ushort iomb;         // offset of the I/O permission bitmap
} __attribute__((packed));

// An 8-byte interrupt/trap gate in the IDT.
struct gatedesc {
  ushort off_lo;       // handler offset bits 0-15
  ushort sel;          // code segment selector
  uchar  zero;
  uchar  type_attr;    // present, DPL, gate type
  ushort off_hi;       // handler offset bits 16-31
} __attribute__((packed));
#endif

// Gate types (low nibble of gatedesc.type_attr).
#define GATE_INTR32 0xE   // interrupt gate: clears IF on entry
#define GATE_TRAP32 0xF   // trap gate: leaves IF alone
#endif
