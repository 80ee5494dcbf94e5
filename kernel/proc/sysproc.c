// Process and memory system calls: fetch and check the user arguments,
// then call into proc.c, exec.c, vma.c, buddy.c and kmalloc.c.
#include "types.h"
#include "param.h"
#include "arch/mmu.h"
#include "errno.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "memstat.h"
#include "mm/vma.h"
#include "mm/swap.h"

// fork(): out of memory, wait for reclaim to free some (swap) and try
// again, a few times, while it makes progress (reclaim_wait says when to
// give up: no swap, memory and swap full, an injected failure, killed).
int
sys_fork(void)
{
  int r, tries;

  for(tries = 0; (r = fork()) == -ENOMEM && tries < 8 && reclaim_wait() == 0; tries++)
    ;
  return r;
}

int
sys_exit(void)
{
  int status;

  if(argint(0, &status) < 0)
    status = -1;
  exit(status);
}

int
sys_wait(void)
{
  uint uva;

  if(arguint(0, &uva) < 0)
    return -EFAULT;
  return wait(uva);
}

int
sys_kill(void)
{
  int pid;

  if(argint(0, &pid) < 0)
    return -EFAULT;
  return kill(pid);
}

int
sys_getpid(void)
{
  return myproc()->pid;
}

// sbrk(n): move the break; returns the old one. Memory is reserved only:
// pages are zero-filled when first touched.
int
sys_sbrk(void)
{
  int n;
  int r;

  if(argint(0, &n) < 0)
    return -EFAULT;
  proc_vm_enter(myproc());      // the heap mapping changes: reclaim keeps out
  r = vma_brk(myproc(), n);
  proc_vm_leave(myproc());
  return r;
}

// sleep(n): wait n clock ticks. -EINTR if killed meanwhile.
int
sys_sleep(void)
{
  int n;
  uint t0;

  if(argint(0, &n) < 0)
    return -EFAULT;
  if(n < 0)
    return -EINVAL;
  acquire(&tickslock);
  t0 = ticks;
  while(ticks - t0 < (uint)n){
    if(killed(myproc())){
      release(&tickslock);
      return -EINTR;
    }
    sleep(&ticks, &tickslock);
  }
  release(&tickslock);
  return 0;
}

int
sys_uptime(void)
{
  uint t;

  acquire(&tickslock);
  t = ticks;
  release(&tickslock);
  return t;
}

int
sys_poweroff(void)
{
  power_off();
}

int
sys_memstat(void)
{
  struct memstat ms;
  uint uva;

  if(arguint(0, &uva) < 0)
    return -EFAULT;
  memset(&ms, 0, sizeof(ms));
  buddy_stat(&ms);
  kmalloc_stat(&ms);
  swap_memstat(&ms);
  return copyout(myproc(), uva, &ms, sizeof(ms));     // 0, -EFAULT or -ENOMEM
}

// kalloctest(mode, uaddr): the allocators' self-tests and benchmark
// (kalloctest.c; modes in kalloctest.h).
int
sys_kalloctest(void)
{
  int mode;
  uint uva;

  if(argint(0, &mode) < 0 || arguint(1, &uva) < 0)
    return -EFAULT;
  return kalloc_test(mode, uva);
}

// exec(path, argv): copy the argument strings into one kernel buffer
// (ARGMAX bytes) and their pointers into another (MAXARG + 1 entries), then
// load the program. Returns only on failure (-E2BIG past either limit,
// -EFAULT, -ENOMEM, or exec's errors); on success the process continues
// in the new program.
int
sys_exec(void)
{
  char path[MAXPATH], *buf, **argv;
  uint uargv, uarg, used = 0;
  int i, r;

  if((r = argstr(0, path, sizeof(path))) < 0)
    return r;
  if((r = arguint(1, &uargv)) < 0)
    return r;
  buf = kmalloc_wait(ARGMAX);
  argv = kmalloc_wait((MAXARG + 1) * sizeof(char *));
  if(buf == 0 || argv == 0){
    r = -ENOMEM;
    goto out;
  }
  for(i = 0; ; i++){
    if(i > MAXARG){
      r = -E2BIG;
      goto out;
    }
    if((r = copyin(myproc(), &uarg, uargv + 4 * i, sizeof(uarg))) < 0)
      goto out;                  // -EFAULT or -ENOMEM
    if(uarg == 0){
      argv[i] = 0;
      break;
    }
    r = copyinstr(myproc(), buf + used, uarg, ARGMAX - used);
    if(r < 0){
      r = r == -ENAMETOOLONG ? -E2BIG : r;   // or -EFAULT, -ENOMEM
      goto out;
    }
    argv[i] = buf + used;
    used += r + 1;
  }
  r = exec(path, argv);
out:
  kfree(buf);
  kfree(argv);
  return r;
}
