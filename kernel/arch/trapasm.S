# Common trap entry and exit, and the 256 per-vector entry stubs.
#include "arch/seg.h"

# Every vector stub makes the stack look the same: if the CPU did not push
# an error code for this vector, push a 0 in its place; then push the
# vector number and jump to trap_entry. Vectors 8, 10-14 and 17 come with
# an error code from the CPU.
  .data
  .p2align 2
  .globl vectors
vectors:                       # vectors[i] = address of the stub for vector i
  .text
  .set vecno, 0
  .rept 256
1:
  .if (vecno == 8) || ((vecno >= 10) && (vecno <= 14)) || (vecno == 17)
  .else
    pushl $0
  .endif
  pushl $vecno
  jmp trap_entry
  .pushsection .data
  .long 1b
  .popsection
  .set vecno, vecno + 1
  .endr

# Save the rest of the interrupted state as a struct trapframe, switch to
# the kernel's data segments and per-CPU %gs, and call trap(tf).
  .globl trap_entry
trap_entry:
  pushl %ds
  pushl %es
  pushl %fs
  pushl %gs
  pushal

  movw $SEL_KDATA, %ax
  movw %ax, %ds
  movw %ax, %es
  movw $SEL_KCPU, %ax
  movw %ax, %gs

  pushl %esp                   # argument: the trapframe
  call trap
  addl $4, %esp

# Return from a trap through the trapframe on the stack. A new process
# starts here too (proc.c arranges for its first swtch to return here).
  .globl trapret
trapret:
  popal
  popl %gs
  popl %fs
  popl %es
  popl %ds
  addl $8, %esp                # trapno and error code
  iret
