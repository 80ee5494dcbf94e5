// Write-ahead log: makes each file-system operation atomic across crashes.
//
// A system call brackets its disk updates with begin_op()/end_op() and
// writes modified buffers with log_write() instead of bwrite(). Nothing
// reaches its home location until the transaction commits:
//   1. copy every logged block into the log area on disk,
//   2. write the header with the block count (the commit point),
//   3. copy the blocks to their home locations,
//   4. write the header with count 0.
// A crash before 2 loses the transaction; after 2, recovery at boot redoes
// step 3. Several concurrent operations share one transaction (group
// commit): it commits when the last of them ends. Each operation reserves
// log slots up front: MAXOPBLOCKS for begin_op(), n for begin_op_n(n) (a
// piece of a write() takes WRITEOPBLOCKS), and waits until that much room
// is free. begin_op_large() reserves the whole log for one operation
// (truncating a big file), waiting until no other operation is open.
//
// Disk errors: a transaction whose log copy or header cannot be written
// does not commit (its cached blocks are dropped, so the cache agrees with
// the disk again); one whose home blocks cannot all be written stays in
// the log, for the next boot to redo. Either way the log is marked failed:
// no later transaction reaches the disk (it could overwrite a log the next
// boot needs), log_writable() reports -EIO and the calls that change the
// disk fail with it up front: the file system is read-only until reboot.
// Only the operation that commits hears of the failure from end_op.
#include "types.h"
#include "param.h"
#include "errno.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "fs.h"
#include "fs/buf.h"
#include "logfmt.h"
#include "fs/fsint.h"
#include "core/defs.h"

static struct {
  struct spinlock lock;
  uint dev;
  uint start;                // header block; data blocks follow it
  int cap;                   // data blocks the log can hold
  int outstanding;           // operations between begin_op and end_op
  int reserved;              // log slots the open operations reserved
  int large;                 // the open operation owns the whole log
  int large_waiting;         // a large operation waits: hold back others
  int committing;            // commit() running: everyone waits
  int failed;                // a disk write failed: nothing commits again
  struct logheader lh;       // blocks of the open transaction
} log;

static int commit(void);

// Copy the header to/from its disk block. 0 or -EIO.
static int
head_read(void)
{
  struct buf *b = bread(log.dev, log.start);

  if(b == 0)
    return -EIO;
  memmove(&log.lh, b->data, sizeof(log.lh));
  brelse(b);
  return 0;
}

static int
head_write(void)
{
  struct buf *b = bread(log.dev, log.start);
  int r;

  if(b == 0)
    return -EIO;
  memmove(b->data, &log.lh, sizeof(log.lh));
  r = bwrite(b);
  brelse(b);
  return r;
}

// Redo a committed transaction found in the log at boot, after checking
// that it only names blocks a transaction may write.
static void
recover(struct superblock *s)
{
  struct buf *lb, *hb;
  const char *why;
  uint i;

  if(head_read() < 0)
    fs_damaged("disk read error in the log header");
  if((why = log_check(&log.lh, log.cap, s)) != 0)
    fs_damaged(why);
  for(i = 0; i < log.lh.n; i++){
    if((lb = bread(log.dev, log.start + 1 + i)) == 0)
      fs_damaged("disk read error in the log");
    if((hb = bread(log.dev, log.lh.block[i])) == 0)
      fs_damaged("disk read error at a block the log redoes");
    memmove(hb->data, lb->data, BSIZE);
    if(bwrite(hb) < 0)
      fs_damaged("disk write error while redoing the log");
    brelse(hb);
    brelse(lb);
  }
  if(log.lh.n)
    printf("log: recovered %d blocks\n", log.lh.n);
  log.lh.n = 0;
  if(head_write() < 0)
    fs_damaged("disk write error in the log header");
}

// Set up the log described by sb (checked by sb_check) on dev and recover
// it. Called once, by fs_init, before any transaction.
void
log_init(int dev, struct superblock *sb)
{
  if(sizeof(struct logheader) > BSIZE)
    panic("log_init: header too big");
  initlock(&log.lock, "log");
  log.dev = dev;
  log.start = sb->logstart;
  log.cap = sb->nlog - 1;
  if(log.cap > LOGSIZE - 1)
    log.cap = LOGSIZE - 1;
  recover(sb);
}

// Data blocks one begin_op_large() operation may log.
int
log_capacity(void)
{
  return log.cap;
}

// 0, or -EIO once a disk write has failed (nothing commits any more).
int
log_writable(void)
{
  return log.failed ? -EIO : 0;
}

// Open an operation that may log up to n blocks (n <= WRITEOPBLOCKS).
// Sleeps until the transaction has room for it. Close it with end_op_n(n).
void
begin_op_n(int n)
{
  if(n < 1 || n > WRITEOPBLOCKS || n > log.cap)
    panic("begin_op_n: bad reservation");
  alloc_headroom();              // memory for the operation (mm/allocwait.c)
  acquire(&log.lock);
  while(log.committing || log.large || log.large_waiting ||
        log.lh.n + log.reserved + n > log.cap)
    sleep(&log, &log.lock);
  log.outstanding++;
  log.reserved += n;
  release(&log.lock);
  alloc_nowait_begin();        // no waiting for reclaim inside (mm/allocwait.c)
}

// Open an operation that may log up to MAXOPBLOCKS blocks.
void
begin_op(void)
{
  begin_op_n(MAXOPBLOCKS);
}

// Open an operation that owns the whole log (log_capacity() blocks).
void
begin_op_large(void)
{
  alloc_headroom();
  acquire(&log.lock);
  while(log.large_waiting)
    sleep(&log, &log.lock);
  log.large_waiting = 1;
  while(log.committing || log.outstanding > 0)
    sleep(&log, &log.lock);
  log.large_waiting = 0;
  log.large = 1;
  log.outstanding = 1;
  log.reserved = log.cap;
  release(&log.lock);
  alloc_nowait_begin();
}

// Close the caller's operation, opened by begin_op_n(n) (or by
// begin_op_large(), whose reservation goes whatever n is); the last one
// out commits. Then free any unlinked inodes whose last reference went
// away (they need their own transactions). Caller holds no sleeplocks of
// the file system. Returns 0, or -EIO if this operation committed the
// transaction and that failed (see the top of the file).
int
end_op_n(int n)
{
  int docommit = 0, r = 0;

  acquire(&log.lock);
  if(log.outstanding <= 0 || log.committing)
    panic("end_op: no open operation");
  log.outstanding--;
  log.reserved -= log.large ? log.reserved : n;
  log.large = 0;
  if(log.reserved < 0)
    panic("end_op: reservations do not add up");
  if(log.outstanding == 0){
    log.committing = 1;
    docommit = 1;
  }
  wakeup(&log);                  // room may have been freed
  release(&log.lock);

  if(docommit){
    r = commit();
    acquire(&log.lock);
    log.committing = 0;
    wakeup(&log);
    release(&log.lock);
  }
  alloc_nowait_end();
  fs_reap();
  return r;
}

// Close an operation opened by begin_op() or begin_op_large().
int
end_op(void)
{
  return end_op_n(MAXOPBLOCKS);
}

// Copy each block of the transaction from the cache into the log area.
// 0 or -EIO. (The blocks are pinned, so reading them needs no disk.)
static int
log_copy_out(void)
{
  struct buf *from, *to;
  uint i;
  int r = 0;

  for(i = 0; i < log.lh.n && r == 0; i++){
    if((from = bread(log.dev, log.lh.block[i])) == 0)
      return -EIO;
    if((to = bread(log.dev, log.start + 1 + i)) == 0){
      brelse(from);
      return -EIO;
    }
    memmove(to->data, from->data, BSIZE);
    r = bwrite(to);
    brelse(to);
    brelse(from);
  }
  return r;
}

// Write the (pinned, still cached) blocks to their home locations.
// 0, or -EIO at the first that fails.
static int
install(void)
{
  struct buf *b;
  uint i;
  int r = 0;

  for(i = 0; i < log.lh.n && r == 0; i++){
    if((b = bread(log.dev, log.lh.block[i])) == 0)
      return -EIO;
    r = bwrite(b);
    brelse(b);
  }
  return r;
}

// Unpin the transaction's n blocks; forget their data too if forget (the
// transaction did not commit, so the disk has the older data).
static void
unpin_all(uint n, int forget)
{
  struct buf *b;
  uint i;

  for(i = 0; i < n; i++){
    if((b = bread(log.dev, log.lh.block[i])) == 0)
      continue;                  // (unreachable: pinned blocks stay valid)
    if(forget)
      binval(b);
    bunpin(b);
    brelse(b);
  }
}

// Commit the transaction. Called with no lock held, with committing set,
// so no operation is open and none can begin. 0, or -EIO if a disk write
// failed now or before (then the log is failed: see the top of the file).
static int
commit(void)
{
  uint n = log.lh.n;
  int r = 0, committed = 0;

  if(n == 0)
    return 0;
  if(!log.failed && log_copy_out() == 0 && head_write() == 0){
    committed = 1;               // the commit point is on the disk
    if(install() < 0)
      r = -EIO;                  // the header stays: the next boot redoes it
    else {
      log.lh.n = 0;
      r = head_write();          // the log is empty again
    }
  } else
    r = -EIO;
  if(r < 0 && !log.failed){
    log.failed = 1;
    printf("log: disk write failed; %s; the file system is read-only now\n",
           committed ? "the change is kept in the log for the next boot"
                     : "the last change is lost");
  }
  unpin_all(n, !committed);
  log.lh.n = 0;
  return r;
}

// Record that b (locked by the caller, modified) belongs to the open
// transaction. Writing a block twice in one transaction uses one slot.
void
log_write(struct buf *b)
{
  uint i;

  acquire(&log.lock);
  if(log.outstanding < 1)
    panic("log_write: outside of an operation");
  for(i = 0; i < log.lh.n; i++)
    if(log.lh.block[i] == b->blockno)
      break;
  if(i == log.lh.n){
    // (Unreachable: operations reserve their slots in begin_op_n and
    // log at most that many blocks; a damaged disk cannot add any, since
    // freeing touches only bitmap blocks, which sb_check makes fit.)
    if(log.lh.n >= (uint)log.cap)
      panic("log_write: transaction too big");
    log.lh.block[i] = b->blockno;
    log.lh.n++;
    bpin(b);
  }
  release(&log.lock);
}
