// Open files and character devices.
#ifndef KFILE_H
#define KFILE_H
#include "types.h"
#include "param.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "fs.h"

enum filetype { FD_NONE, FD_PIPE, FD_INODE, FD_DEVICE };

// An open file: shared by every descriptor dup'd or inherited from the
// same open(). kmalloc'd by file_alloc, kfree'd when ref drops to 0.
struct file {
  enum filetype type;
  int ref;                 // guarded by the file lock in file.c
  char readable;
  char writable;
  char append;             // O_APPEND: every write goes to the end
  struct pipe *pipe;       // FD_PIPE
  struct inode *ip;        // FD_INODE and FD_DEVICE
  uint off;                // FD_INODE; guarded by ip's lock
  short major;             // FD_DEVICE
};

// An inode in memory (the inode cache in inode.c), kmalloc'd while it is
// referenced. ref, dev, inum and hnext belong to the cache lock; the rest
// is guarded by lock and is a copy of the disk inode once valid is set.
struct inode {
  uint dev;
  uint inum;
  int ref;                 // in-memory references (open files, cwd, lookups)
  struct inode *hnext;     // next inode in the same hash chain
  struct sleeplock lock;
  int valid;               // the fields below have been read from disk
  short type;
  short major;
  short minor;
  short nlink;
  uint size;
  uint addrs[NDIRECT + 2];
  struct inode *reapnext;  // list of unlinked inodes waiting to be freed
  int bad;                 // the disk copy is damaged: no I/O, never written back
};

// Device drivers, indexed by major number. user_dst/user_src say whether
// the address is a user virtual address of the current process.
struct devsw {
  int (*read)(int user_dst, uint dst, int n);
  int (*write)(int user_src, uint src, int n);
};
extern struct devsw devsw[NDEV];

#define CONSOLE 1
#endif
