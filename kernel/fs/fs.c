// The mounted file system: superblock, free-block bitmap, start-up
// (log recovery, freeing orphaned inodes) and the reaper that frees
// unlinked files in transactions of their own.
//
// Everything here that changes the disk runs inside a log operation.
#include "types.h"
#include "param.h"
#include "errno.h"
#include "stat.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "fs.h"
#include "fs/buf.h"
#include "fs/file.h"
#include "fs/fsint.h"
#include "fsstat.h"
#include "core/defs.h"

struct superblock sb;
uint fs_datastart;           // first data block (after the bitmap)

static struct {
  struct spinlock lock;
  uint hint;                 // no block below this is known to be free
} bmap_alloc;

static struct {
  struct spinlock lock;
  struct inode *list;        // unlinked inodes whose last reference went
  int busy;                  // a process is freeing them
} reap;

// Fill a fresh block with zeros (inside the caller's operation).
// 0 or -EIO.
static int
bzero(uint dev, uint bno)
{
  struct buf *b = bread(dev, bno);

  if(b == 0)
    return fs_ioerr(0, bno);
  memset(b->data, 0, BSIZE);
  log_write(b);
  brelse(b);
  return 0;
}

// Look for a clear bit in bitmap blocks for [from, to); set it and return
// the block number, 0 if there is none, or -EIO if a bitmap block cannot
// be read (as a block number, a value above any fs_datastart).
static int
bitmap_take(uint dev, uint from, uint to)
{
  struct buf *b;
  uint base, i, bno;
  int bit;

  for(base = from - from % BPB; base < to; base += BPB){
    if((b = bread(dev, BBLOCK(base, sb))) == 0)
      return fs_ioerr(0, BBLOCK(base, sb));
    for(i = (from > base ? from - base : 0) / 8; i < BSIZE; i++){
      if(b->data[i] == 0xFF)
        continue;
      for(bit = 0; bit < 8; bit++){
        bno = base + i * 8 + bit;
        if(bno < from || bno >= to || (b->data[i] & (1 << bit)))
          continue;
        b->data[i] |= 1 << bit;
        log_write(b);
        brelse(b);
        return bno;
      }
      if(base + i * 8 + 8 >= to)
        break;
    }
    brelse(b);
  }
  return 0;
}

// Allocate a zeroed disk block; *bno gets its number. Returns 0, -ENOSPC
// or -EIO.
int
balloc(uint dev, uint *bno)
{
  uint hint;
  int b;

  acquire(&bmap_alloc.lock);
  hint = bmap_alloc.hint;
  release(&bmap_alloc.lock);

  if(hint < fs_datastart)
    hint = fs_datastart;
  b = bitmap_take(dev, hint, sb.size);
  if(b == 0 && hint > fs_datastart)
    b = bitmap_take(dev, fs_datastart, hint);
  if(b <= 0)
    return b < 0 ? b : -ENOSPC;
  acquire(&bmap_alloc.lock);
  if(bmap_alloc.hint <= hint)
    bmap_alloc.hint = b + 1;
  release(&bmap_alloc.lock);
  if(bzero(dev, b) < 0)
    return -EIO;               // (the block stays taken: fsck sees it)
  *bno = b;
  return 0;
}

// Mark block bno free. A block outside the data area, or one already
// free, means the disk is damaged (an inode named it wrongly): it is
// reported and left alone.
void
bfree(uint dev, uint bno)
{
  struct buf *b;
  uint i = bno % BPB;

  if(!fs_block_ok(bno)){
    fs_bad(0, "block to free", bno);
    return;
  }
  if((b = bread(dev, BBLOCK(bno, sb))) == 0){
    fs_ioerr(0, BBLOCK(bno, sb));
    return;
  }
  if((b->data[i / 8] & (1 << (i % 8))) == 0){
    brelse(b);
    fs_bad(0, "block freed twice", bno);
    return;
  }
  b->data[i / 8] &= ~(1 << (i % 8));
  log_write(b);
  brelse(b);
  acquire(&bmap_alloc.lock);
  if(bno < bmap_alloc.hint)
    bmap_alloc.hint = bno;
  release(&bmap_alloc.lock);
}

// Count the clear bits of the bitmap for blocks [0, sb.size) into *n.
// 0 or -EIO.
static int
count_free_blocks(uint dev, uint *n)
{
  struct buf *b;
  uint base, bno;

  *n = 0;
  for(base = 0; base < sb.size; base += BPB){
    if((b = bread(dev, BBLOCK(base, sb))) == 0)
      return fs_ioerr(0, BBLOCK(base, sb));
    for(bno = base; bno < base + BPB && bno < sb.size; bno++)
      if((b->data[(bno - base) / 8] & (1 << (bno % 8))) == 0)
        (*n)++;
    brelse(b);
  }
  return 0;
}

// Count the disk inodes of type 0 (inode 0 is never used) into *n.
// 0 or -EIO.
static int
count_free_inodes(uint dev, uint *n)
{
  struct buf *b = 0;
  struct dinode *dip;
  uint inum;

  *n = 0;
  for(inum = 1; inum < sb.ninodes; inum++){
    if(b == 0 || inum % IPB == 0){
      if(b)
        brelse(b);
      if((b = bread(dev, IBLOCK(inum, sb))) == 0)
        return fs_ioerr(0, IBLOCK(inum, sb));
    }
    dip = (struct dinode *)b->data + inum % IPB;
    if(dip->type == 0)
      (*n)++;
  }
  if(b)
    brelse(b);
  return 0;
}

// Fill *st for the file system on dev. The counts are a snapshot: they
// include the changes of operations that have not committed yet.
// 0, or -EIO if the disk could not be read.
int
fs_stat(uint dev, struct fsstat *st)
{
  memset(st, 0, sizeof(*st));
  st->bsize = BSIZE;
  st->size = sb.size;
  st->nblocks = sb.nblocks;
  st->ninodes = sb.ninodes;
  st->maxfile = MAXFILE;
  st->mem_inodes = icache_count();
  if(count_free_blocks(dev, &st->free_blocks) < 0 ||
     count_free_inodes(dev, &st->free_inodes) < 0)
    return -EIO;
  return 0;
}

// Hand an unlinked inode (ref 1, nlink 0) to the reaper; the reference
// goes with it. Its blocks are freed at the end of the current operation.
void
fs_reap_add(struct inode *ip)
{
  acquire(&reap.lock);
  ip->reapnext = reap.list;
  reap.list = ip;
  release(&reap.lock);
}

// Free the queued inodes, each in a transaction that owns the whole log,
// so that any file can be truncated at once. Called outside operations.
void
fs_reap(void)
{
  struct inode *ip;

  acquire(&reap.lock);
  if(reap.busy || reap.list == 0){
    release(&reap.lock);
    return;
  }
  reap.busy = 1;
  while((ip = reap.list) != 0){
    reap.list = ip->reapnext;
    release(&reap.lock);
    begin_op_large();
    ilock(ip);
    ifree_locked(ip);
    iunlock(ip);
    end_op();
    iput(ip);                  // no longer valid: just drops the reference
    acquire(&reap.lock);
  }
  reap.busy = 0;
  release(&reap.lock);
}

// Queue every inode that is allocated but has no links: a crash came
// between an unlink and the freeing of the file.
static void
find_orphans(uint dev)
{
  struct buf *b;
  struct dinode *dip;
  struct inode *ip;
  const char *field;
  uint inum, value;

  for(inum = 1; inum < sb.ninodes; inum++){
    if((b = bread(dev, IBLOCK(inum, sb))) == 0){
      fs_ioerr(inum, IBLOCK(inum, sb));   // (fsck finds any orphan there)
      continue;
    }
    dip = (struct dinode *)b->data + inum % IPB;
    if(dip->type != 0 && dip->nlink == 0){
      if((field = dinode_check(dip, &value)) != 0){  // damaged: leave it to fsck
        fs_bad(inum, field, value);
        brelse(b);
        continue;
      }
      brelse(b);
      if((ip = iget(dev, inum)) == 0)
        break;
      printf("fs: freeing orphaned inode %d\n", inum);
      fs_reap_add(ip);
      continue;
    }
    brelse(b);
  }
}

// Mount the file system on dev: read and check the superblock, replay
// the log, check the root directory, free orphans. A damaged file system
// stops the machine (fs_damaged) rather than being used. Called once by
// the first process (it may sleep).
void
fs_init(int dev)
{
  struct buf *b;
  struct inode *root;
  const char *why;

  initlock(&bmap_alloc.lock, "balloc");
  initlock(&reap.lock, "reap");
  fs_check_init();
  icache_init();
  if((b = bread(dev, 1)) == 0)
    fs_damaged("disk read error in the superblock");
  memmove(&sb, b->data, sizeof(sb));
  brelse(b);
  if((why = sb_check(&sb, ide_blocks(dev))) != 0)
    fs_damaged(why);
  fs_datastart = sb.bmapstart + (sb.size + BPB - 1) / BPB;
  log_init(dev, &sb);
  bmap_alloc.hint = fs_datastart;
  if((b = bread(dev, IBLOCK(ROOTINO, sb))) == 0)   // (ilock would call it damage)
    fs_damaged("disk read error in the root inode");
  brelse(b);
  if((root = iget(dev, ROOTINO)) == 0)
    panic("fs_init: no memory for the root inode");   // at boot: cannot be
  if(ilock(root) < 0 || root->type != T_DIR || root->nlink < 1)
    fs_damaged("the root inode is not a directory");
  iunlock(root);
  begin_op();
  iput(root);
  end_op();
  find_orphans(dev);
  fs_reap();
}
