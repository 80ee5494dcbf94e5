// System call numbers: the user stubs put one in %eax and trap with int $T_SYSCALL.
#ifndef KSYSCALL_H
#define KSYSCALL_H
#define SYS_fork      1
#define SYS_exit      2
#define SYS_wait      3
#define SYS_pipe      4
#define SYS_read      5
#define SYS_kill      6
#define SYS_exec      7
#define SYS_fstat     8
#define SYS_chdir     9
#define SYS_dup      10
#define SYS_getpid   11
#define SYS_sbrk     12
#define SYS_sleep    13
#define SYS_uptime   14
#define SYS_open     15
#define SYS_write    16
#define SYS_mknod    17
#define SYS_unlink   18
#define SYS_link     19
#define SYS_mkdir    20
#define SYS_close    21
#define SYS_lseek    22
#define SYS_poweroff 23
#define SYS_symlink  24
#define SYS_readlink 25
#define SYS_memstat  26
#define SYS_mmap     27
#define SYS_munmap   28
#define SYS_mprotect 29
#define SYS_msync    30
#define SYS_sysctl   31
#define SYS_trace    32
#define SYS_vmstat   33
#define SYS_kalloctest 34
#define SYS_fsstat   35
#define SYS_failnth  36
#define SYS_fsync    37
#define SYS_ftruncate 38
#define SYS_setframes 39
#endif
