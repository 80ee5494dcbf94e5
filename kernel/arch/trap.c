// Interrupt descriptor table and the C side of every trap: system calls,
// faults, device interrupts.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "errno.h"
#include "arch/seg.h"
#include "arch/traps.h"
#include "arch/trapframe.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "trace/trace.h"

extern uint vectors[];           // trapasm.S: one entry stub per vector
extern volatile int panicked;    // console.c

static struct gatedesc idt[256];
struct spinlock tickslock;
uint ticks;

static void
set_gate(int vec, uint handler, int type, int dpl)
{
  struct gatedesc *g = &idt[vec];
  g->off_lo = handler & 0xFFFF;
  g->sel = SEL_KCODE;
  g->zero = 0;
  g->type_attr = 0x80 | (dpl << 5) | type;    // present
  g->off_hi = handler >> 16;
}

// Fill the IDT (once, on the boot CPU). Everything is an interrupt gate
// (interrupts off on entry) except the system-call gate, which user code
// may invoke and which leaves interrupts on.
void
trap_vectors_init(void)
{
  int i;

  for(i = 0; i < 256; i++)
    set_gate(i, vectors[i], GATE_INTR32, DPL_KERNEL);
  set_gate(T_SYSCALL, vectors[T_SYSCALL], GATE_TRAP32, DPL_USER);
  initlock(&tickslock, "ticks");
}

// Load the IDT on this CPU.
void
idt_init(void)
{
  lidt(idt, sizeof(idt));
}

// What went wrong, in words, for a user exception other than a page fault.
static const char *
exception_name(uint trapno)
{
  switch(trapno){
  case T_DIVIDE: return "divide error";
  case T_DEBUG:  return "debug exception";
  case T_BRKPT:  return "breakpoint";
  case T_OFLOW:  return "overflow";
  case T_BOUND:  return "bound range exceeded";
  case T_ILLOP:  return "illegal instruction";
  case T_DEVICE: return "floating point unavailable";
  case T_SEGNP:  return "segment not present";
  case T_STACK:  return "stack fault";
  case T_GPFLT:  return "general protection fault";
  case T_FPERR:  return "floating point error";
  case T_ALIGN:  return "alignment check";
  case T_SIMDERR: return "SIMD floating point error";
  default:       return "unexpected trap";
  }
}

// Explain a page fault vm_fault() could not resolve (err: its result).
static const char *
fault_cause(int err, uint pferr)
{
  switch(err){
  case -EFAULT:
    return "page fault: bad address";
  case -EACCES:
    if(pferr & PF_WRITE)
      return "page fault: write to read-only page";
    return "page fault: protection violation";
  case -ENOMEM:
    return "page fault: out of memory";
  case -ENXIO:
    return "bus error: page past the end of the mapped file";
  case -EIO:
    return "bus error: disk error reading the mapped file";
  default:
    return "page fault";
  }
}

// Report and mark for death a process whose user-mode fault is fatal.
static void
kill_user(struct proc *p, const char *cause, uint addr, struct trapframe *tf)
{
  printf("pid %d (%s): killed: %s at 0x%x (eip 0x%x)\n",
         p->pid, p->name, cause, addr, tf->eip);
  setkilled(p);
}

// A trap taken in kernel mode that nobody expects: a kernel bug.
static void
kernel_trap_panic(struct trapframe *tf)
{
  printf("cpu %d: unexpected trap %d (err 0x%x) in kernel: eip 0x%x cr2 0x%x\n",
         cpuid(), tf->trapno, tf->err, tf->eip, rcr2());
  panic("trap: unexpected trap in kernel mode (a kernel bug)");
}

static void
timer_tick(void)
{
  sched_clock_tick();
  if(cpuid() == 0){
    acquire(&tickslock);
    ticks++;
    wakeup(&ticks);
    release(&tickslock);
  }
  lapic_eoi();
}

// Record where a clock interrupt found this CPU: tf's eip and the return
// addresses up the kernel stack (followed only while the frame pointers
// stay inside the running process's kernel stack), so procdump can show
// what a process that never sleeps is doing. Zeros for user mode.
static void
sample_kernel_pcs(struct trapframe *tf, int from_user)
{
  struct cpu *c = mycpu();
  struct proc *p = c->proc;
  uint *ebp = (uint *)tf->ebp, lo, hi;
  int i = 0;

  if(!from_user){
    c->tick_pcs[i++] = tf->eip;
    lo = p ? (uint)p->kstack : 0;
    hi = lo + KSTACKSIZE;
    for(; p && i < NTICKPCS && (uint)ebp >= lo && (uint)ebp + 8 <= hi; ebp = (uint *)ebp[0])
      c->tick_pcs[i++] = ebp[1];
  }
  while(i < NTICKPCS)
    c->tick_pcs[i++] = 0;
}

// Called from trap_entry with the saved state of the interrupted code.
void
trap(struct trapframe *tf)
{
  struct proc *p = myproc();
  int from_user = (tf->cs & 3) == DPL_USER;
  int r;

  if(tf->trapno == T_SYSCALL){
    if(killed(p))
      exit(-1);
    p->tf = tf;
    syscall();
    if(killed(p))
      exit(-1);
    return;
  }

  if(from_user && p)
    p->tf = tf;

  switch(tf->trapno){
  case T_IRQ0 + IRQ_TIMER:
    sample_kernel_pcs(tf, from_user);
    timer_tick();
    break;
  case T_IRQ0 + IRQ_IDE:
    ide_intr();
    lapic_eoi();
    break;
  case T_IRQ0 + IRQ_IDE2:        // second channel: the swap disk
    swapdisk_intr();
    lapic_eoi();
    break;
  case T_IRQ0 + IRQ_KBD:
    kbd_intr();
    lapic_eoi();
    break;
  case T_IRQ0 + IRQ_COM1:
    uart_intr();
    lapic_eoi();
    break;
  case T_IRQ0 + IRQ_SPUR7:
  case T_IRQ0 + IRQ_SPURIOUS:
    // Spurious: no EOI for the LAPIC's own spurious vector.
    break;
  case T_IRQ0 + IRQ_RESCHED:
    sched_resched_intr();
    lapic_eoi();
    break;
  case T_IRQ0 + IRQ_TLB:
    tlb_intr();
    lapic_eoi();
    break;
  case T_IRQ0 + IRQ_TRACE:
    lapic_eoi();
    trace_hold_intr();
    break;
  case T_IRQ0 + IRQ_ERROR:
    printf("cpu %d: local APIC error\n", cpuid());
    lapic_eoi();
    break;
  case T_NMI:
    // Another CPU panicked and wants everyone stopped.
    if(panicked){
      for(;;){
        cli();
        hlt();
      }
    }
    printf("cpu %d: NMI\n", cpuid());
    break;
  case T_PGFLT:
    if(!from_user || p == 0)
      kernel_trap_panic(tf);
    {
      uint va = rcr2();
      r = vm_fault(p, va, tf->err);
      if(r == -ENOMEM && p->pid == 1){
        // init must not die: let the others run (and free memory, or be
        // killed for want of it), then take the fault again.
        yield();
      } else if(r < 0 && !killed(p))   // (killed while it waited: dies for that)
        kill_user(p, fault_cause(r, tf->err), va, tf);
    }
    break;
  default:
    if(tf->trapno >= T_IRQ0){
      // A device interrupt nobody asked for: note it, do not blame anyone.
      printf("cpu %d: unexpected interrupt %d (eip 0x%x)\n",
             cpuid(), tf->trapno, tf->eip);
      lapic_eoi();
      break;
    }
    if(!from_user || p == 0)
      kernel_trap_panic(tf);
    kill_user(p, exception_name(tf->trapno), tf->eip, tf);
    break;
  }

  if(p == 0)
    return;
  if(from_user && killed(p))
    exit(-1);
  // Give up the CPU on a clock tick (only if running a process normally).
  if(p->state == RUNNING && tf->trapno == T_IRQ0 + IRQ_TIMER)
    yield();
  if(from_user && killed(p))
    exit(-1);
}
