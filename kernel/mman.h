// mmap/mprotect/msync constants, with Linux's values.
#ifndef KMMAN_H
#define KMMAN_H
#define PROT_NONE     0
#define PROT_READ     1
#define PROT_WRITE    2
#define PROT_EXEC     4
#define MAP_SHARED    0x01
#define MAP_PRIVATE   0x02
#define MAP_FIXED     0x10
#define MAP_ANONYMOUS 0x20
#define MAP_POPULATE  0x8000
#define MS_ASYNC      1
#define MS_INVALIDATE 2
#define MS_SYNC       4
#define MAP_FAILED    ((void *)-1)
#endif
