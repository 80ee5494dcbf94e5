// System-call dispatch and argument fetching.
//
// A user stub loads the call number into %eax and executes int $T_SYSCALL
// with the arguments on its stack: argument n is the word at esp + 4 + 4n
// (esp + 0 holds the stub's return address). Arguments are read with
// copyin, so a bad user stack pointer yields -EFAULT, never a kernel fault.
#include "types.h"
#include "param.h"
#include "errno.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "arch/trapframe.h"
#include "syscall.h"
#include "core/defs.h"
#include "trace/trace.h"

// Fetch the n-th word-sized argument. 0, -EFAULT, or -ENOMEM (its page is
// in swap and memory and swap are full).
int
arguint(int n, uint *ip)
{
  struct proc *p = myproc();
  uint addr = p->tf->esp + 4 + 4 * n;

  if(n < 0 || addr < p->tf->esp)
    return -EFAULT;
  return copyin(p, ip, addr, sizeof(*ip));   // 0, -EFAULT or -ENOMEM
}

int
argint(int n, int *ip)
{
  return arguint(n, (uint *)ip);
}

// Copy the NUL-terminated string that argument n points to into buf
// (max bytes, NUL included). Returns its length, -EFAULT, -ENAMETOOLONG or
// -ENOMEM (memory and swap full).
int
argstr(int n, char *buf, int max)
{
  uint addr;
  int r;

  if((r = arguint(n, &addr)) < 0)
    return r;
  return copyinstr(myproc(), buf, addr, max);
}

// Implemented in sysproc.c.
int sys_fork(void);
int sys_exit(void);
int sys_wait(void);
int sys_kill(void);
int sys_exec(void);
int sys_getpid(void);
int sys_sbrk(void);
int sys_sleep(void);
int sys_uptime(void);
int sys_poweroff(void);
int sys_memstat(void);
int sys_kalloctest(void);
// Implemented in sysmm.c, sysctl.c and systrace.c (trace).
int sys_mmap(void);
int sys_munmap(void);
int sys_mprotect(void);
int sys_msync(void);
int sys_vmstat(void);
int sys_sysctl(void);
int sys_fsync(void);
int sys_ftruncate(void);
int sys_setframes(void);
int sys_trace(void);
// Implemented in sysfile.c (fs).
int sys_pipe(void);
int sys_read(void);
int sys_write(void);
int sys_open(void);
int sys_close(void);
int sys_dup(void);
int sys_fstat(void);
int sys_chdir(void);
int sys_mknod(void);
int sys_unlink(void);
int sys_link(void);
int sys_mkdir(void);
int sys_lseek(void);
int sys_symlink(void);
int sys_readlink(void);
int sys_fsstat(void);
// Implemented in faultinj.c (mm).
int sys_failnth(void);

// Numbers without an entry return -ENOSYS.
static int (*const syscalls[])(void) = {
  [SYS_fork]       = sys_fork,
  [SYS_exit]       = sys_exit,
  [SYS_wait]       = sys_wait,
  [SYS_pipe]       = sys_pipe,
  [SYS_read]       = sys_read,
  [SYS_kill]       = sys_kill,
  [SYS_exec]       = sys_exec,
  [SYS_fstat]      = sys_fstat,
  [SYS_chdir]      = sys_chdir,
  [SYS_dup]        = sys_dup,
  [SYS_getpid]     = sys_getpid,
  [SYS_sbrk]       = sys_sbrk,
  [SYS_sleep]      = sys_sleep,
  [SYS_uptime]     = sys_uptime,
  [SYS_open]       = sys_open,
  [SYS_write]      = sys_write,
  [SYS_mknod]      = sys_mknod,
  [SYS_unlink]     = sys_unlink,
  [SYS_link]       = sys_link,
  [SYS_mkdir]      = sys_mkdir,
  [SYS_close]      = sys_close,
  [SYS_lseek]      = sys_lseek,
  [SYS_poweroff]   = sys_poweroff,
  [SYS_symlink]    = sys_symlink,
  [SYS_readlink]   = sys_readlink,
  [SYS_memstat]    = sys_memstat,
  [SYS_kalloctest] = sys_kalloctest,
  [SYS_mmap]       = sys_mmap,
  [SYS_munmap]     = sys_munmap,
  [SYS_mprotect]   = sys_mprotect,
  [SYS_msync]      = sys_msync,
  [SYS_sysctl]     = sys_sysctl,
  [SYS_trace]      = sys_trace,
  [SYS_vmstat]     = sys_vmstat,
  [SYS_fsstat]     = sys_fsstat,
  [SYS_failnth]    = sys_failnth,
  [SYS_fsync]      = sys_fsync,
  [SYS_ftruncate]  = sys_ftruncate,
  [SYS_setframes]  = sys_setframes,
};

// Run the system call named by the trap frame's %eax and leave its result
// (a value, or -errno) in %eax for the return to user mode.
void
syscall(void)
{
  struct proc *p = myproc();
  uint num = p->tf->eax;
  uint64 t0 = trace_sys_enter(num);

  fault_syscall_begin(p);
  p->insys = num + 1;
  if(num < NELEM(syscalls) && syscalls[num])
    p->tf->eax = syscalls[num]();
  else
    p->tf->eax = -ENOSYS;
  p->insys = 0;
  fault_syscall_end(p);
  trace_sys_exit(num, p->tf->eax, t0);
}
