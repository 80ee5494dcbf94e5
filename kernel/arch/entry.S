# Kernel entry. The boot sector jumps here (physical address _start) in
# 32-bit protected mode with flat segments and paging off. We turn on
# paging with a small page directory of 4 MiB pages that maps the first
# BOOTMAP_MB of physical memory twice, at 0 (so the next instruction still
# works) and at KERNBASE (where the kernel is linked), switch to a boot
# stack and call main(). kvm_init() later replaces this page directory.
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "param.h"

#define BOOTMAP_PDES 4           /* 4 x 4 MiB = 16 MiB mapped at boot */
#define BOOT_STACK   16384

  .text
  .globl _start
  _start = V2P_WO(entry)

  .globl entry
entry:
  movl %cr4, %eax
  orl $CR4_PSE, %eax
  movl %eax, %cr4
  movl $(V2P_WO(boot_pgdir)), %eax
  movl %eax, %cr3
  movl %cr0, %eax
  orl $(CR0_PG | CR0_WP), %eax
  movl %eax, %cr0

  # No %gs until seg_init(): mycpu() falls back to the LAPIC id.
  xorl %eax, %eax
  movw %ax, %fs
  movw %ax, %gs

  movl $(boot_stack + BOOT_STACK), %esp
  xorl %ebp, %ebp                # end of the frame chain for backtraces
  movl $main, %eax
  jmp *%eax                      # jump up to the KERNBASE addresses

  .data
  .p2align 12
  .globl boot_pgdir
boot_pgdir:
  .set pde, 0
  .rept BOOTMAP_PDES             # identity: VA [0, 16 MiB) -> PA [0, 16 MiB)
    .long (pde << PDXSHIFT) | PTE_P | PTE_W | PTE_PS
    .set pde, pde + 1
  .endr
  .fill (KERNBASE >> PDXSHIFT) - BOOTMAP_PDES, 4, 0
  .set pde, 0
  .rept BOOTMAP_PDES             # VA [KERNBASE, +16 MiB) -> PA [0, 16 MiB)
    .long (pde << PDXSHIFT) | PTE_P | PTE_W | PTE_PS
    .set pde, pde + 1
  .endr
  .fill NPDENTRIES - (KERNBASE >> PDXSHIFT) - BOOTMAP_PDES, 4, 0

  .bss
  .p2align 12
  .globl boot_stack
boot_stack:                      # CPU 0's stack for main() and its scheduler
  .space BOOT_STACK
