# Start-up code for the other CPUs (application processors).
#
# main.c copies this code, assembled to run at AP_START_PA, to that physical
# address and wakes each AP with STARTUP IPIs. The AP begins in 16-bit real
# mode with %cs = AP_START_PA >> 4, %ip = 0. main.c leaves three words just
# below the code:
#   AP_START_PA - 4:  top of the stack this AP should use
#   AP_START_PA - 8:  C function to call (never returns)
#   AP_START_PA - 12: physical address of the boot page directory
# We switch to protected mode, turn on paging with 4 MiB pages, and call it.
#include "kernel/arch/mmu.h"

#define AP_START_PA 0x7000
#define SEL_CODE 0x08
#define SEL_DATA 0x10

  .code16
  .globl ap_start
ap_start:
  cli
  xorw %ax, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss
  lgdtl ap_gdt_desc
  movl %cr0, %eax
  orl $CR0_PE, %eax
  movl %eax, %cr0
  ljmpl $SEL_CODE, $ap_start32

  .code32
ap_start32:
  movw $SEL_DATA, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss
  xorw %ax, %ax
  movw %ax, %fs
  movw %ax, %gs

  movl %cr4, %eax
  orl $CR4_PSE, %eax
  movl %eax, %cr4
  movl (AP_START_PA - 12), %eax
  movl %eax, %cr3
  movl %cr0, %eax
  orl $(CR0_PG | CR0_WP), %eax
  movl %eax, %cr0

  movl (AP_START_PA - 4), %esp
  xorl %ebp, %ebp
  call *(AP_START_PA - 8)
1:
  hlt
  jmp 1b

  .p2align 3
ap_gdt:
  .quad 0                        # null
  .quad 0x00CF9A000000FFFF       # flat 4 GiB code, ring 0
  .quad 0x00CF92000000FFFF       # flat 4 GiB data, ring 0
ap_gdt_desc:
  .word ap_gdt_desc - ap_gdt - 1
  .long ap_gdt
