// Compile-time limits. Objects that used to live in fixed tables (files,
// pipes, processes, mappings) are allocated with kmalloc and are limited by
// memory, not by anything here.
#ifndef KPARAM_H
#define KPARAM_H
#define NCPU          8      // most CPUs the kernel will start
#define KSTACKSIZE    8192   // per-process kernel stack (an order-1 buddy block)
#define NDEV          10     // device major numbers
#define ROOTDEV       1      // disk holding the root file system
#define MAXARG        1023   // most exec arguments (argv with its 0 fills a page)
#define ARGMAX        (32 * 1024)  // bytes of exec argument strings plus argv, at most
#define MAXPATH       128    // longest path name
#define MAXOPBLOCKS   10     // most blocks one file-system operation writes
#define WRITEOPBLOCKS 64     // ... except one piece of a write(), which may write this many
#define LOGSIZE       (WRITEOPBLOCKS * 3)  // blocks in the on-disk log (header included)
#define NBUF          (MAXOPBLOCKS * 3)  // buffer-cache working room (the log's pinned blocks come on top)
#define FSSIZE        131072 // file-system size in blocks (128 MiB with 1 KiB blocks)
#define NINODES       1024   // inodes in the file system image
#define MAXSYMLINKS   10     // longest chain of symbolic links open() follows
#endif
