# System-call stubs. Arguments are already on the stack where the kernel
# expects them (cdecl); the number goes in %eax. A result in [-4095, -1] is
# a negated errno: store it in errno and return -1 instead.
#include "kernel/syscall.h"

#define T_SYSCALL 64

.text
syscall_error:
  negl %eax
  movl %eax, errno
  movl $-1, %eax
  ret

#define SYSCALL(name)          \
  .globl name;                 \
  name:                        \
    movl $SYS_ ## name, %eax;  \
    int $T_SYSCALL;            \
    cmpl $-4095, %eax;         \
    jae syscall_error;         \
    ret

SYSCALL(fork)
SYSCALL(exit)
SYSCALL(wait)
SYSCALL(pipe)
SYSCALL(read)
SYSCALL(kill)
SYSCALL(exec)
SYSCALL(fstat)
SYSCALL(chdir)
SYSCALL(dup)
SYSCALL(getpid)
SYSCALL(sbrk)
SYSCALL(sleep)
SYSCALL(uptime)
SYSCALL(open)
SYSCALL(write)
SYSCALL(mknod)
SYSCALL(unlink)
SYSCALL(link)
SYSCALL(mkdir)
SYSCALL(close)
SYSCALL(lseek)
SYSCALL(poweroff)
SYSCALL(symlink)
SYSCALL(readlink)
SYSCALL(memstat)
SYSCALL(mmap)
SYSCALL(munmap)
SYSCALL(mprotect)
SYSCALL(msync)
SYSCALL(sysctl)
SYSCALL(trace)
SYSCALL(vmstat)
SYSCALL(kalloctest)
SYSCALL(fsstat)
SYSCALL(failnth)
SYSCALL(fsync)
SYSCALL(ftruncate)
SYSCALL(setframes)
