# Boot sector, part 1 (runs at 0x7C00 in 16-bit real mode).
# The BIOS loads sector 0 of the boot disk to 0x7C00 and jumps to it.
# We: mask interrupts, open the A20 gate, load a flat GDT, enter 32-bit
# protected mode, set up a stack just below ourselves and call bootmain()
# (bootmain.c), which loads the kernel and never returns.
#include "kernel/arch/mmu.h"

#define SEL_CODE 0x08            /* GDT slot 1 (same as the kernel's SEG_KCODE) */
#define SEL_DATA 0x10            /* GDT slot 2 (same as the kernel's SEG_KDATA) */

  .code16
  .globl start
start:
  cli
  cld
  xorw %ax, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss

  # A20: without it, address bit 20 is forced to 0. Ask the keyboard
  # controller (command 0xD1 = write output port, 0xDF = A20 on).
a20_wait1:
  inb $0x64, %al
  testb $0x02, %al               # input buffer still full?
  jnz a20_wait1
  movb $0xD1, %al
  outb %al, $0x64
a20_wait2:
  inb $0x64, %al
  testb $0x02, %al
  jnz a20_wait2
  movb $0xDF, %al
  outb %al, $0x60

  lgdt boot_gdt_desc
  movl %cr0, %eax
  orl $CR0_PE, %eax
  movl %eax, %cr0
  ljmp $SEL_CODE, $start32       # reload %cs: now in 32-bit mode

  .code32
start32:
  movw $SEL_DATA, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss
  xorw %ax, %ax
  movw %ax, %fs
  movw %ax, %gs
  movl $start, %esp              # stack grows down from 0x7C00
  call bootmain
hang:
  hlt
  jmp hang

  .p2align 2
boot_gdt:
  .quad 0                        # null
  .quad 0x00CF9A000000FFFF       # flat 4 GiB code
  .quad 0x00CF92000000FFFF       # flat 4 GiB data
boot_gdt_desc:
  .word boot_gdt_desc - boot_gdt - 1
  .long boot_gdt
