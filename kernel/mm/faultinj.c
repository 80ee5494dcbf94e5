// Fault injection: make one kernel allocation fail on purpose, to test the
// error paths (in the spirit of Linux's fail_nth).
//
// failnth(n), n >= 1, arms the calling process: during its next system
// call, the nth allocation attempt (each call of page_alloc or kmalloc; a
// kmalloc that needs a new slab or big block counts twice) fails as if
// memory had run out, and later ones succeed. failnth returns 1 if the
// system call before it had an allocation failed this way, else 0; so
// failnth(n); call(); hit = failnth(0); tells whether call() met the
// failure. Only the process's own system calls count (and page faults
// taken inside them); the state is private to the process, so no lock.
#include "types.h"
#include "param.h"
#include "errno.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"

// Called by page_alloc and kmalloc: 1 if this allocation must fail.
int
fault_inject(void)
{
  struct proc *p = myproc();

  if(p == 0 || p->fail_count == 0)
    return 0;
  if(--p->fail_count > 0)
    return 0;
  p->fail_hit = 1;
  return 1;
}

// A system call starts (syscall()): the armed count becomes live, and
// the previous call's result is kept for failnth to report.
void
fault_syscall_begin(struct proc *p)
{
  p->fail_last = p->fail_hit;
  p->fail_hit = 0;
  p->fail_count = p->fail_next;
  p->fail_next = 0;
}

// A system call ends: an injection not reached by then is dropped.
void
fault_syscall_end(struct proc *p)
{
  p->fail_count = 0;
}

// failnth(n): arm the next system call (n >= 1) or not (n == 0). Returns
// 1 if the previous system call had an allocation failed by injection,
// else 0; -EINVAL for n < 0.
int
sys_failnth(void)
{
  struct proc *p = myproc();
  int n;

  if(argint(0, &n) < 0)
    return -EFAULT;
  if(n < 0)
    return -EINVAL;
  p->fail_next = n;
  return p->fail_last;
}
