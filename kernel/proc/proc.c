// Processes: creation (userinit, fork), termination (exit, wait, kill)
// and waking sleepers. Sleeping, run queues and the per-CPU scheduler loop
// are in sched.c.
//
// Every process is a kmalloc'd struct proc on one list, protected by
// ptable.lock together with each process's state, chan, killed, xstatus
// and parent. A process's kernel stack is an order-1 buddy block. Both are
// freed when the parent reaps the zombie in wait(); the user address space
// and open files are released earlier, in exit().
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "errno.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "arch/trapframe.h"
#include "core/defs.h"
#include "mm/vm.h"
#include "mm/vma.h"
#include "mm/swap.h"
#include "proc/sched.h"
#include "trace/trace.h"

static struct {
  struct spinlock lock;
  struct proc *list;        // all processes, newest first
  int nextpid;
} ptable;

static struct proc *initproc;

// Mark p RUNNABLE and queue it to run (sched.c). Caller holds ptable.lock.
static void
set_runnable(struct proc *p)
{
  sched_make_runnable(p);
}

extern void trapret(void);  // trapasm.S: pop a trapframe and iret
static void forkret(void);

void
proc_init(void)
{
  initlock(&ptable.lock, "ptable");
  sched_init(&ptable.lock);
  ptable.nextpid = 1;
}

// The process running on this CPU, or 0.
struct proc *
myproc(void)
{
  struct proc *p;

  pushcli();
  p = mycpu()->proc;
  popcli();
  return p;
}

// Take p off the process list. Caller holds ptable.lock.
static void
unlink_proc(struct proc *p)
{
  struct proc **pp;

  for(pp = &ptable.list; *pp; pp = &(*pp)->next){
    if(*pp == p){
      *pp = p->next;
      return;
    }
  }
  panic("unlink_proc: not on the list");
}

// Free what remains of a process that is off the list: stack and struct.
static void
proc_free(struct proc *p)
{
  reclaim_local_forget(p);
  page_free(p->kstack, 1);
  kfree(p);
}

// A new EMBRYO process with a pid and a kernel stack arranged so that its
// first swtch() lands in forkret() and then returns through trapret with
// p->tf. Returns 0 when out of memory.
static struct proc *
allocproc(void)
{
  struct proc *p;
  char *sp;

  if((p = kzalloc_wait(sizeof(*p))) == 0)
    return 0;
  if((p->kstack = page_alloc_wait(1)) == 0){
    kfree(p);
    return 0;
  }
  sp = p->kstack + KSTACKSIZE;
  sp -= sizeof(*p->tf);
  p->tf = (struct trapframe *)sp;
  memset(p->tf, 0, sizeof(*p->tf));
  sp -= sizeof(uint);
  *(uint *)sp = (uint)trapret;
  sp -= sizeof(*p->context);
  p->context = (struct context *)sp;
  memset(p->context, 0, sizeof(*p->context));
  p->context->eip = (uint)forkret;

  acquire(&ptable.lock);
  p->pid = ptable.nextpid++;
  p->state = EMBRYO;
  p->next = ptable.list;
  ptable.list = p;
  release(&ptable.lock);
  return p;
}

// Create the first process. It has no address space yet: its first run
// (forkret) mounts the root file system and execs /init.
void
userinit(void)
{
  struct proc *p;

  if((p = allocproc()) == 0)
    panic("userinit: out of memory");
  initproc = p;
  p->tf->cs = SEL_UCODE;
  p->tf->ds = p->tf->es = p->tf->ss = SEL_UDATA;
  p->tf->fs = p->tf->gs = SEL_UDATA;
  p->tf->eflags = FL_IF;
  safestrcpy(p->name, "initcode", sizeof(p->name));
  acquire(&ptable.lock);
  set_runnable(p);
  release(&ptable.lock);
}

// First run of the first process, in its own kernel context (so it may
// sleep): set up the file system, then load /init over the empty process.
static void
start_init(struct proc *p)
{
  char *argv[] = { "init", 0 };
  int r;

  fs_init(ROOTDEV);
  begin_op();
  p->cwd = namei("/");
  end_op();
  if(p->cwd == 0){               // no memory, or the disk failed since fs_init
    printf("cannot open the root directory at boot; switching off\n");
    power_off();
  }
  if((r = exec("/init", argv)) < 0){
    printf("file system damaged: cannot run /init (error %d); run fsck\n", -r);
    power_off();
  }
}

// Where every new process starts running in the kernel (via swtch from
// the scheduler, which still holds ptable.lock). Returns to trapret.
static void
forkret(void)
{
  struct proc *p;

  release(&ptable.lock);
  p = myproc();
  if(p == initproc && p->cwd == 0)
    start_init(p);
}

// Create a child that is a copy of the current process: same mappings
// (present private pages shared copy-on-write, or copied if vm.cow=0;
// MAP_SHARED pages shared; untouched pages stay absent),
// same open files and directory. Returns the child's pid to the parent
// (the child sees 0), or -ENOMEM with everything undone.
int
fork(void)
{
  struct proc *cur = myproc(), *np;
  int pid, r;

  if((np = allocproc()) == 0)
    return -ENOMEM;
  if((np->pgdir = uvm_create()) == 0)
    goto fail;
  proc_vm_enter(cur);         // reclaim keeps out of the parent's tables meanwhile
  r = vma_dup_list(np->pgdir, &np->vmas, cur->pgdir, cur->vmas);
  proc_vm_leave(cur);
  if(r < 0)
    goto fail;
  if(fd_copy_table(np, cur) < 0)
    goto fail;
  np->sz = cur->sz;
  np->heapbase = cur->heapbase;
  *np->tf = *cur->tf;
  np->tf->eax = 0;
  if(cur->cwd)
    np->cwd = idup(cur->cwd);
  safestrcpy(np->name, cur->name, sizeof(np->name));
  pid = np->pid;
  trace_fork_follow(cur->pid, pid);

  acquire(&ptable.lock);
  np->parent = cur;
  set_runnable(np);
  release(&ptable.lock);
  trace_fork(pid, cur->name);
  return pid;

fail:
  if(np->ofile)
    fd_close_all(np);       // whatever fd_copy_table left behind
  vm_space_free(np->pgdir, np->vmas);
  acquire(&ptable.lock);
  unlink_proc(np);
  release(&ptable.lock);
  proc_free(np);
  return -ENOMEM;
}

// Wake processes sleeping on chan. Caller holds ptable.lock.
static void
wakeup_locked(void *chan)
{
  struct proc *p;

  for(p = ptable.list; p; p = p->next)
    if(p->state == SLEEPING && p->chan == chan)
      set_runnable(p);
}

void
wakeup(void *chan)
{
  acquire(&ptable.lock);
  wakeup_locked(chan);
  release(&ptable.lock);
}

// Terminate the current process with status: close its files, drop its
// directory and address space, hand its children to init, and become a
// zombie for the parent's wait(). Does not return.
void
exit(int status)
{
  struct proc *p = myproc(), *q;
  struct vma *vmas;
  pde_t *pgdir;

  if(p == initproc){
    // kill() refuses pid 1 and its out-of-memory faults wait (trap.c), so
    // init ends only by its own bug or a damaged /init on disk.
    printf("init exited (status %d): nothing can run without it; switching off\n", status);
    power_off();
  }
  trace_exit(status, p->name);
  fd_close_all(p);
  if(p->cwd){
    begin_op();
    iput(p->cwd);
    end_op();
    p->cwd = 0;
  }
  proc_vm_enter(p);       // reclaim must not be walking the tables we free, and
  pgdir = p->pgdir;       // the swap audit must know they are still there
  vmas = p->vmas;
  pushcli();
  p->pgdir = 0;           // from now on the process runs on the kernel directory
  p->vmas = 0;
  switchkvm();
  popcli();
  vm_space_free(pgdir, vmas);
  proc_vm_leave(p);

  acquire(&ptable.lock);
  wakeup_locked(p->parent);
  for(q = ptable.list; q; q = q->next){
    if(q->parent == p){
      q->parent = initproc;
      if(q->state == ZOMBIE)
        wakeup_locked(initproc);
    }
  }
  p->xstatus = status;
  p->state = ZOMBIE;
  sched_leave(SCHED_EXITED);
  panic("exit: zombie ran again");
}

// Wait for a child to exit. Stores its exit status at user address
// status_uva unless that is 0, frees the child and returns its pid.
// -ECHILD if there are no children, -EFAULT for a bad status pointer,
// -EINTR if the caller is killed while waiting.
int
wait(uint status_uva)
{
  struct proc *p = myproc(), *q;
  int havekids, pid, status, r;

  acquire(&ptable.lock);
  for(;;){
    havekids = 0;
    for(q = ptable.list; q; q = q->next){
      if(q->parent != p)
        continue;
      havekids = 1;
      if(q->state == ZOMBIE)
        break;
    }
    if(q){
      pid = q->pid;
      status = q->xstatus;
      if(status_uva){
        // Only this process reaps its children, so q stays put meanwhile.
        release(&ptable.lock);
        if((r = copyout(p, status_uva, &status, sizeof(status))) < 0)
          return r;              // -EFAULT or -ENOMEM; q is still there
        acquire(&ptable.lock);
      }
      unlink_proc(q);
      release(&ptable.lock);
      proc_free(q);
      return pid;
    }
    if(!havekids){
      release(&ptable.lock);
      return -ECHILD;
    }
    if(p->killed){
      release(&ptable.lock);
      return -EINTR;
    }
    sleep(p, &ptable.lock);
  }
}

// Mark process pid killed; it exits (status -1) when it next returns to
// user mode, and a sleeping victim is woken to get there. 0, -ESRCH, or
// -EPERM for init (pid 1), which must never exit.
int
kill(int pid)
{
  struct proc *p;

  acquire(&ptable.lock);
  for(p = ptable.list; p; p = p->next){
    if(p->pid == pid && p->state != EMBRYO){
      if(p == initproc){     // init must outlive everyone: refuse, don't panic later
        release(&ptable.lock);
        return -EPERM;
      }
      p->killed = 1;
      if(p->state == SLEEPING)
        set_runnable(p);
      release(&ptable.lock);
      return 0;
    }
  }
  release(&ptable.lock);
  return -ESRCH;
}

int
killed(struct proc *p)
{
  int k;

  acquire(&ptable.lock);
  k = p->killed;
  release(&ptable.lock);
  return k;
}

void
setkilled(struct proc *p)
{
  acquire(&ptable.lock);
  p->killed = 1;
  release(&ptable.lock);
}

// Print a line per process on the console, for ^P: pid, state, name,
// wait channel, killed flag, and the system call in progress (or "user"
// and the user eip of its last trap).
void
procdump(void)
{
  static const char *names[] = {
    [UNUSED] "unused", [EMBRYO] "embryo", [SLEEPING] "sleep",
    [RUNNABLE] "runble", [RUNNING] "run", [ZOMBIE] "zombie"
  };
  struct proc *p;
  const char *st;
  int i, j;

  acquire(&ptable.lock);
  for(p = ptable.list; p; p = p->next){
    st = (uint)p->state < NELEM(names) && names[p->state] ? names[p->state] : "???";
    printf("%d %s %s chan 0x%x killed %d", p->pid, st, p->name, (uint)p->chan, p->killed);
    if(p->insys)
      printf(" in syscall %d\n", p->insys - 1);
    else
      printf(" user eip 0x%x\n", p->tf ? p->tf->eip : 0);
  }
  for(i = 0; i < ncpu; i++){
    if(cpus[i].tick_pcs[0] == 0)
      continue;
    printf("cpu %d (pid %d) in the kernel at the last tick:", i,
           cpus[i].proc ? cpus[i].proc->pid : 0);
    for(j = 0; j < NTICKPCS && cpus[i].tick_pcs[j]; j++)
      printf(" 0x%x", cpus[i].tick_pcs[j]);
    printf("\n");
  }
  release(&ptable.lock);
}

// ---- kernel threads and address-space holds (page reclaim) ---------------------

// First run of a kernel thread: like forkret, but the word above the
// context is the thread's function, so returning lands there.
static void
kthread_first(void)
{
  release(&ptable.lock);
}

// Start a kernel thread named name running fn (which never returns): a
// process with no address space that lives in the kernel. 0 or -ENOMEM.
int
kthread_start(const char *name, void (*fn)(void))
{
  struct proc *p;

  if((p = allocproc()) == 0)
    return -ENOMEM;
  *(uint *)(p->context + 1) = (uint)fn;     // where kthread_first returns
  p->context->eip = (uint)kthread_first;
  safestrcpy(p->name, name, sizeof(p->name));
  acquire(&ptable.lock);
  p->parent = initproc;
  set_runnable(p);
  release(&ptable.lock);
  return 0;
}

// Enter a VM critical section of p's address space (a fault, a copy to or
// from user memory, fork, mprotect, exec or exit replacing the space):
// reclaim leaves its page tables alone until the matching proc_vm_leave.
// Waits (briefly: reclaim holds a space only while it rewrites PTEs) if
// reclaim is walking it. Sections nest. Caller holds no spinlock.
void
proc_vm_enter(struct proc *p)
{
  int v;

  for(;;){
    v = p->vmhold;
    if(v >= 0 && __sync_bool_compare_and_swap(&p->vmhold, v, v + 1))
      return;
    acquire(&ptable.lock);
    if(p->vmhold < 0)
      sleep(&p->vmhold, &ptable.lock);
    release(&ptable.lock);
  }
}

void
proc_vm_leave(struct proc *p)
{
  if(__sync_fetch_and_sub(&p->vmhold, 1) <= 0)
    panic("proc_vm_leave: not entered");
}

// For reclaim: the process with the lowest pid above after that has an
// address space nobody is changing, with that space held (its vmhold -1),
// or 0 if there is none. Release it with proc_vm_unhold.
struct proc *
proc_vm_hold_next(int after)
{
  struct proc *p, *best = 0;

  acquire(&ptable.lock);
  for(;;){
    best = 0;
    for(p = ptable.list; p; p = p->next)
      if(p->pid > after && p->pgdir && p->state != EMBRYO && p->state != ZOMBIE &&
         p->vmhold == 0 && (best == 0 || p->pid < best->pid))
        best = p;
    if(best == 0 || __sync_bool_compare_and_swap(&best->vmhold, 0, -1))
      break;
    after = best->pid;          // it just became busy: skip it
  }
  release(&ptable.lock);
  return best;
}

void
proc_vm_unhold(struct proc *p)
{
  acquire(&ptable.lock);
  p->vmhold = 0;
  wakeup_locked(&p->vmhold);
  release(&ptable.lock);
}

// Processes whose address space a VM critical section holds right now
// (their pages cannot go to swap until it ends).
int
proc_vm_busy_spaces(void)
{
  struct proc *p;
  int n = 0;

  acquire(&ptable.lock);
  for(p = ptable.list; p; p = p->next)
    if(p->vmhold > 0)
      n++;
  release(&ptable.lock);
  return n;
}

// For the swap audit, holding spaces: processes with page tables it did
// not hold (their vmhold is not -1) and so cannot see now: in a VM
// critical section when it came by (being changed, or being freed by exit
// or exec), or left out for any other reason (fork still building them).
int
proc_vm_unheld_spaces(void)
{
  struct proc *p;
  int n = 0;

  acquire(&ptable.lock);
  for(p = ptable.list; p; p = p->next)
    if(p->vmhold != -1 && (p->vmhold > 0 || p->pgdir))
      n++;
  release(&ptable.lock);
  return n;
}
