// The user-space interface: system calls and the small C library.
// A program includes "kernel/types.h", "kernel/stat.h", "kernel/fcntl.h"
// and then this file. System calls return -1 and set errno on failure.
#ifndef USER_H
#define USER_H
#include "kernel/errno.h"
#include <stdarg.h>

struct stat;
struct memstat;

// system calls (usys.S)
int   fork(void);
void  exit(int status) __attribute__((noreturn));
int   wait(int *status);            // status may be 0
int   pipe(int fds[2]);
int   write(int fd, const void *buf, int n);
int   read(int fd, void *buf, int n);
int   close(int fd);
int   kill(int pid);
int   exec(const char *path, char **argv);
int   open(const char *path, int flags);
int   mknod(const char *path, short major, short minor);
int   unlink(const char *path);
int   fstat(int fd, struct stat *st);
int   link(const char *oldpath, const char *newpath);
int   mkdir(const char *path);
int   chdir(const char *path);
int   dup(int fd);
int   getpid(void);
char *sbrk(int n);
int   sleep(int ticks);
int   uptime(void);
int   lseek(int fd, int offset, int whence);   // new offset
int   poweroff(void);
int   symlink(const char *target, const char *linkpath);
int   readlink(const char *path, char *buf, int size);
int   memstat(struct memstat *ms);
// address space (helper B2 / issue 5); constants in kernel/mman.h
struct vmstat;
void *mmap(void *addr, uint length, int prot, int flags, int fd, uint offset);  // MAP_FAILED on error
int   munmap(void *addr, uint length);
int   mprotect(void *addr, uint length, int prot);
int   msync(void *addr, uint length, int flags);
int   sysctl(const char *name, int newval);   // old value; newval -1 only reads
int   vmstat(struct vmstat *vs, int size);    // kernel/tracectl.h (trace helper's call)
int   trace(int cmd, int arg, const char *s);   // kernel/tracectl.h: TRACE_* commands
int   kalloctest(int mode, void *uaddr);    // kernel/kalloctest.h: allocator self-tests and benchmark
struct fsstat;
int   fsstat(struct fsstat *st);            // kernel/fsstat.h: free blocks and inodes
int   failnth(int n);                       // fail the nth allocation of the next call; 1 if the last call had one
int   fsync(int fd);                        // write back pages stored to through mappings
int   ftruncate(int fd, uint length);       // set the file's size
int   setframes(int n);                     // hold this process to n frames (0: none; -1: ask); its frame-set faults so far

// library (ulib.c, printf.c, umalloc.c, errno.c)
extern int errno;
char *strcpy(char *dst, const char *src);
char *strncpy(char *dst, const char *src, int n);
int   strcmp(const char *a, const char *b);
int   strncmp(const char *a, const char *b, int n);
int   strlen(const char *s);
char *strchr(const char *s, char c);
char *strstr(const char *hay, const char *needle);
char *strcat(char *dst, const char *src);
void *memset(void *dst, int c, uint n);
void *memmove(void *dst, const void *src, int n);
void *memcpy(void *dst, const void *src, uint n);
int   memcmp(const void *a, const void *b, uint n);
int   atoi(const char *s);
char *gets(char *buf, int max);
int   stat(const char *path, struct stat *st);
int   lstat(const char *path, struct stat *st);   // a symlink itself
char *strrchr(const char *s, char c);
void  printf(const char *fmt, ...);
void  fprintf(int fd, const char *fmt, ...);
void  vfprintf(int fd, const char *fmt, va_list ap);
int   snprintf(char *buf, int size, const char *fmt, ...);   // length it wanted
int   vsnprintf(char *buf, int size, const char *fmt, va_list ap);
void *malloc(uint n);
void  free(void *p);
const char *strerror(int err);
void  perror(const char *what);     // "what: message" on fd 2
#endif
