// A block in the buffer cache (bio.c). The sleeplock guards data, valid
// and dirty; refcnt and the list links belong to the cache's spinlock.
#ifndef KBUF_H
#define KBUF_H
#include "types.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "fs.h"

struct buf {
  int valid;               // data holds the block as it is on disk
  int dirty;               // data is newer than the disk: ide_rw writes it
  uint dev;                // disk number (ROOTDEV is disk 1)
  uint blockno;
  struct sleeplock lock;
  uint refcnt;             // users + log pins; 0 means the slot may be reused
  struct buf *prev;        // LRU list: head->next is the most recently used
  struct buf *next;
  struct buf *qnext;       // IDE request queue
  int inflight;            // queued for the disk (ide.lock)
  int ioerr;               // the last transfer failed (ide.lock)
  uchar data[BSIZE];
};
#endif
