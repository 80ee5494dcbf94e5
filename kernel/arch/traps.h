// Interrupt vector numbers and IRQ lines.
#ifndef KTRAPS_H
#define KTRAPS_H

// CPU exceptions (vectors 0-31).
#define T_DIVIDE   0    // divide error
#define T_DEBUG    1
#define T_NMI      2    // non-maskable interrupt (used to stop CPUs on panic)
#define T_BRKPT    3    // int3
#define T_OFLOW    4    // into
#define T_BOUND    5
#define T_ILLOP    6    // invalid opcode
#define T_DEVICE   7    // FPU not available
#define T_DBLFLT   8    // double fault
#define T_TSS     10    // invalid TSS
#define T_SEGNP   11    // segment not present
#define T_STACK   12    // stack-segment fault
#define T_GPFLT   13    // general protection fault
#define T_PGFLT   14    // page fault
#define T_FPERR   16    // x87 floating-point error
#define T_ALIGN   17    // alignment check
#define T_MCHK    18    // machine check
#define T_SIMDERR 19    // SIMD floating-point error

#define T_SYSCALL 64    // system calls: int $T_SYSCALL from ring 3

// Hardware interrupts arrive at T_IRQ0 + irq.
#define T_IRQ0    32
#define IRQ_TIMER  0    // LAPIC timer (vector only, not an IOAPIC line)
#define IRQ_KBD    1
#define IRQ_COM2   3
#define IRQ_COM1   4
#define IRQ_SPUR7  7    // spurious interrupt from the 8259 PIC
#define IRQ_IDE   14
#define IRQ_IDE2  15
#define IRQ_ERROR 19    // LAPIC error
#define IRQ_RESCHED 20  // IPI: wake a halted CPU to look at its run queue
#define IRQ_TLB   21    // IPI: TLB shootdown (mm/tlb.c)
#define IRQ_TRACE 22    // IPI: the trace controller holds this CPU (trace/trace.c)
#define IRQ_SPURIOUS 31 // LAPIC spurious
#endif
