// Per-CPU state and processes.
#ifndef KPROC_H
#define KPROC_H
#include "types.h"
#include "param.h"
#include "core/spinlock.h"
#include "arch/seg.h"        // struct segdesc, struct taskstate, NSEGS (owned by seg.c)

// Callee-saved registers saved by swtch(); %eip is the return address swtch
// pushed. Segment registers and caller-saved registers need no saving.
struct context {
  uint edi;
  uint esi;
  uint ebx;
  uint ebp;
  uint eip;
};

#define NTICKPCS 8

struct cpu {
  uchar apicid;                // local APIC id
  struct context *scheduler;   // swtch() here to enter the scheduler
  struct taskstate ts;         // tells the CPU the kernel stack for traps from user mode
  struct segdesc gdt[NSEGS];   // this CPU's GDT
  volatile uint started;       // set when the CPU has started
  int ncli;                    // depth of pushcli nesting
  int intena;                  // were interrupts enabled before the first pushcli?
  struct proc *proc;           // process running on this CPU, or 0
  // run queue (sched.c); the ptable lock must be held when using these:
  struct proc *rq_head;        // runnable processes waiting for this CPU, oldest first
  struct proc *rq_tail;
  int rq_len;                  // processes on the queue
  volatile int halted;         // 1 while idle (about to halt or halted): wake it with an IPI
  uint nticks;                 // clock interrupts this CPU has taken
  uint tick_pcs[NTICKPCS];     // where the last clock interrupt found the kernel
                               // (eip, then return addresses), 0s if in user mode
};
extern struct cpu cpus[NCPU];
extern int ncpu;
extern int sched_steal_wait;   // sysctl sched.steal_wait (sched.c)

enum procstate { UNUSED, EMBRYO, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };

struct vma;   // a mapping in an address space (vma.h)

// A process. Allocated with kmalloc; all processes are on one list.
struct proc {
  // ptable lock must be held when using these:
  enum procstate state;
  void *chan;                  // sleeping on chan if non-zero
  int killed;                  // if non-zero, exit at the next return to user mode
  int xstatus;                 // exit status for the parent's wait
  int pid;
  struct proc *parent;
  struct proc *next;           // the list of all processes
  int cpu;                     // CPU it last ran on (whose queue it joins when runnable)
  struct proc *rq_next;        // next on that CPU's run queue
  uint rq_tick;                // ticks when it joined the queue
  int leave_why;               // why it last left its CPU (SCHED_BLOCKED ...)
  struct cpu *ipi_cpu;         // woken with an IPI to this CPU, not run yet (else 0)
  uint ipi_ticks;              // ipi_cpu->nticks at that wake-up

  // private to the process (no lock needed by the process itself):
  uint sz;                     // top of the heap (the program break)
  uint heapbase;               // start of the heap (page after the program's data)
  pde_t *pgdir;                // page directory
  struct vma *vmas;            // sorted list of mappings (address space)
  char *kstack;                // bottom of the kernel stack
  struct trapframe *tf;        // trap frame of the current system call or trap
  struct context *context;     // swtch() here to run the process
  struct file **ofile;         // open files, indexed by fd; grows on demand (fd.c)
  int nofile;                  // slots in ofile
  int fdfree;                  // every fd below this is in use (fd_alloc starts here)
  struct inode *cwd;           // current directory
  char name[16];               // program name, for debugging and kill messages
  int insys;                   // system call in progress + 1, 0 when none (procdump)
  int fail_next;               // fault injection (mm/faultinj.c): armed for the next call
  int fail_count;              // ... allocations left before the one that fails
  int fail_hit;                // ... this call had an allocation failed
  int fail_last;               // ... the previous call had one
  int vmhold;                  // mm/reclaim.c: >0 the process is in a VM critical section
                               // (so many deep), -1 reclaim is walking its page tables
                               // (changed with atomic compare-and-swap; proc_vm_* in proc.c)
  struct frameset *frames;     // mm/reclaim_local.c: setframes' frame set, or 0
  int allocnowait;             // mm/allocwait.c: >0 allocations must not wait for reclaim
};
#endif
