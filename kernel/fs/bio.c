// Buffer cache: a fixed set of block buffers kept in LRU order.
//
// bread() returns a locked buffer holding a block; the caller changes
// b->data, then (inside a transaction) hands it to log_write(), and calls
// brelse() when done. Only one process holds a given buffer at a time.
// The log pins the buffers of a transaction (bpin) until it is installed.
#include "types.h"
#include "param.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "fs/buf.h"
#include "core/defs.h"

// The log may pin up to LOGSIZE blocks; NBUF more are working room.
#define NCACHE (NBUF + LOGSIZE)

static struct {
  struct spinlock lock;      // guards refcnt, dev/blockno and the list
  struct buf bufs[NCACHE];
  struct buf lru;            // list head: lru.next most, lru.prev least recent
  int waiting;               // processes sleeping for a free buffer
} bcache;

static void
list_remove(struct buf *b)
{
  b->prev->next = b->next;
  b->next->prev = b->prev;
}

static void
list_push_front(struct buf *b)
{
  b->next = bcache.lru.next;
  b->prev = &bcache.lru;
  bcache.lru.next->prev = b;
  bcache.lru.next = b;
}

void
binit(void)
{
  struct buf *b;

  initlock(&bcache.lock, "bcache");
  bcache.lru.next = bcache.lru.prev = &bcache.lru;
  for(b = bcache.bufs; b < bcache.bufs + NCACHE; b++){
    initsleeplock(&b->lock, "buf");
    list_push_front(b);
  }
}

// Find the buffer for (dev, blockno), or recycle the least recently used
// idle one for it. Returns it locked. Sleeps while every buffer is busy.
static struct buf *
bget(uint dev, uint blockno)
{
  struct buf *b;

  acquire(&bcache.lock);
  for(;;){
    for(b = bcache.lru.next; b != &bcache.lru; b = b->next)
      if(b->dev == dev && b->blockno == blockno){
        b->refcnt++;
        release(&bcache.lock);
        acquiresleep(&b->lock);
        return b;
      }
    for(b = bcache.lru.prev; b != &bcache.lru; b = b->prev)
      if(b->refcnt == 0 && !b->dirty){
        b->dev = dev;
        b->blockno = blockno;
        b->valid = 0;
        b->refcnt = 1;
        release(&bcache.lock);
        acquiresleep(&b->lock);
        return b;
      }
    bcache.waiting++;
    sleep(&bcache.waiting, &bcache.lock);
    bcache.waiting--;
  }
}

// A locked buffer with the current contents of the block, or 0 if the
// disk could not read it (the driver reports it; a later bread tries
// again). Callers turn 0 into -EIO.
struct buf *
bread(uint dev, uint blockno)
{
  struct buf *b = bget(dev, blockno);

  if(!b->valid && ide_rw(b) < 0){
    brelse(b);
    return 0;
  }
  return b;
}

// Write b's data to disk now. 0, or -EIO if the disk refused it (b keeps
// its data, newer than the disk's). Caller holds b->lock.
int
bwrite(struct buf *b)
{
  if(!holdingsleep(&b->lock))
    panic("bwrite: buf not locked");
  b->dirty = 1;
  return ide_rw(b);
}

// Forget b's data: the next bread reads the disk again (the log drops a
// transaction that never reached the disk). Caller holds b->lock.
void
binval(struct buf *b)
{
  if(!holdingsleep(&b->lock))
    panic("binval: buf not locked");
  b->valid = 0;
}

// Unlock b and drop this reference; an idle buffer becomes most recent.
void
brelse(struct buf *b)
{
  if(!holdingsleep(&b->lock))
    panic("brelse: buf not locked");
  releasesleep(&b->lock);
  acquire(&bcache.lock);
  if(--b->refcnt == 0){
    list_remove(b);
    list_push_front(b);
    if(bcache.waiting)
      wakeup(&bcache.waiting);
  }
  release(&bcache.lock);
}

// Keep b in the cache until bunpin (the log holds it until installed).
void
bpin(struct buf *b)
{
  acquire(&bcache.lock);
  b->refcnt++;
  release(&bcache.lock);
}

void
bunpin(struct buf *b)
{
  acquire(&bcache.lock);
  if(--b->refcnt == 0 && bcache.waiting)
    wakeup(&bcache.waiting);
  release(&bcache.lock);
}
