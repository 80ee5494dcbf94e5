// Inodes: the in-memory inode cache, allocation, the block map (direct,
// singly- and doubly-indirect blocks), truncation and file data I/O.
//
// Locking: icache.lock guards ref/dev/inum of every cached inode; an
// inode's sleeplock guards everything else, including its disk copy.
// Functions that change the disk must run inside a log operation.
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
#include "core/defs.h"

// The in-memory inodes: every inode someone holds a reference to, and no
// others. Each is kmalloc'd by iget the first time it is asked for, sits in
// a hash chain keyed by inode number, and is freed when its last reference
// is dropped (the disk copy is always up to date by then, and the buffer
// cache keeps re-reading it cheap). So the number of open distinct files is
// limited by memory only; IHASH is just the number of chains.
#define IHASH 128

static struct {
  struct spinlock lock;
  struct inode *chain[IHASH];  // linked through hnext
  uint count;                  // inodes in memory
  uint hint;                   // no free disk inode below this number
} icache;

static const uchar zeros[BSIZE];   // what holes read as

void
icache_init(void)
{
  initlock(&icache.lock, "icache");
  icache.hint = 1;
}

// The in-memory inode for (dev, inum), or 0. Caller holds icache.lock.
static struct inode *
icache_find(uint dev, uint inum)
{
  struct inode *ip;

  for(ip = icache.chain[inum % IHASH]; ip; ip = ip->hnext)
    if(ip->dev == dev && ip->inum == inum)
      return ip;
  return 0;
}

// The in-memory inode for (dev, inum) with one more reference, not locked
// and maybe not read yet. 0 if there is no memory for it.
struct inode *
iget(uint dev, uint inum)
{
  struct inode *ip, *fresh;

  acquire(&icache.lock);
  if((ip = icache_find(dev, inum)) != 0){
    ip->ref++;
    release(&icache.lock);
    return ip;
  }
  release(&icache.lock);

  if((fresh = kzalloc(sizeof(*fresh))) == 0)
    return 0;
  initsleeplock(&fresh->lock, "inode");
  fresh->dev = dev;
  fresh->inum = inum;
  fresh->ref = 1;

  acquire(&icache.lock);
  if((ip = icache_find(dev, inum)) != 0){   // someone beat us to it
    ip->ref++;
    release(&icache.lock);
    kfree(fresh);
    return ip;
  }
  fresh->hnext = icache.chain[inum % IHASH];
  icache.chain[inum % IHASH] = fresh;
  icache.count++;
  release(&icache.lock);
  return fresh;
}

// Unhook ip (ref 0) from its chain. Caller holds icache.lock.
static void
icache_remove(struct inode *ip)
{
  struct inode **pp;

  for(pp = &icache.chain[ip->inum % IHASH]; *pp; pp = &(*pp)->hnext){
    if(*pp == ip){
      *pp = ip->hnext;
      icache.count--;
      return;
    }
  }
  panic("icache_remove: inode not in the cache");
}

// How many inodes are in memory now (fsstat reports it).
uint
icache_count(void)
{
  uint n;

  acquire(&icache.lock);
  n = icache.count;
  release(&icache.lock);
  return n;
}

// Allocate a disk inode of the given type (nlink 0, empty). Returns it
// referenced but unlocked, or 0 with *err = -ENOSPC (no free inode),
// -ENOMEM (no memory for the in-memory inode) or -EIO (a disk error).
struct inode *
ialloc(uint dev, short type, int *err)
{
  struct buf *b;
  struct dinode *dip;
  struct inode *ip;
  uint inum, start, n;

  acquire(&icache.lock);
  start = icache.hint;
  release(&icache.lock);
  for(n = 0; n < sb.ninodes; n++){
    inum = start + n;
    if(inum >= sb.ninodes)
      inum = inum - sb.ninodes + 1;
    if(inum == 0 || inum >= sb.ninodes)
      continue;
    if((b = bread(dev, IBLOCK(inum, sb))) == 0){
      *err = fs_ioerr(inum, IBLOCK(inum, sb));
      return 0;
    }
    dip = (struct dinode *)b->data + inum % IPB;
    if(dip->type != 0){
      brelse(b);
      continue;
    }
    if((ip = iget(dev, inum)) == 0){
      brelse(b);
      *err = -ENOMEM;
      return 0;
    }
    memset(dip, 0, sizeof(*dip));
    dip->type = type;
    log_write(b);
    brelse(b);
    acquire(&icache.lock);
    icache.hint = inum + 1;
    release(&icache.lock);
    return ip;
  }
  *err = -ENOSPC;
  return 0;
}

// Copy ip's fields to its disk inode (not if it is damaged: that copy
// stays as it is, for fsck). 0, or -EIO if the inode's block cannot be
// read. Caller holds ip->lock.
int
iupdate(struct inode *ip)
{
  struct buf *b;
  struct dinode *dip;

  if(ip->bad)
    return 0;
  if((b = bread(ip->dev, IBLOCK(ip->inum, sb))) == 0)
    return fs_ioerr(ip->inum, IBLOCK(ip->inum, sb));
  dip = (struct dinode *)b->data + ip->inum % IPB;

  dip->type = ip->type;
  dip->major = ip->major;
  dip->minor = ip->minor;
  dip->nlink = ip->nlink;
  dip->size = ip->size;
  memmove(dip->addrs, ip->addrs, sizeof(ip->addrs));
  log_write(b);
  brelse(b);
  return 0;
}

struct inode *
idup(struct inode *ip)
{
  acquire(&icache.lock);
  ip->ref++;
  release(&icache.lock);
  return ip;
}

// Lock ip, reading it from disk the first time. Returns 0, or -EIO if the
// disk inode is damaged (reported once) or its block cannot be read: ip
// is then locked but marked bad, empty (no blocks, size 0) and never
// written back or freed, so a caller that goes on with it does no harm.
// (After a disk error the next iget, once this one is gone, reads again.)
int
ilock(struct inode *ip)
{
  struct buf *b;
  struct dinode *dip;
  const char *field;
  uint value;
  int r;

  if(ip == 0 || ip->ref < 1)
    panic("ilock: not referenced");
  acquiresleep(&ip->lock);
  if(ip->valid)
    return ip->bad ? -EIO : 0;
  if((b = bread(ip->dev, IBLOCK(ip->inum, sb))) == 0){
    r = fs_ioerr(ip->inum, IBLOCK(ip->inum, sb));
    goto bad;
  }
  dip = (struct dinode *)b->data + ip->inum % IPB;
  ip->type = dip->type;
  ip->major = dip->major;
  ip->minor = dip->minor;
  ip->nlink = dip->nlink;
  ip->size = dip->size;
  memmove(ip->addrs, dip->addrs, sizeof(ip->addrs));
  field = dinode_check(dip, &value);
  brelse(b);
  ip->valid = 1;
  ip->bad = 0;
  if(field == 0)
    return 0;
  r = fs_bad(ip->inum, field, value);
bad:
  ip->valid = 1;
  ip->bad = 1;
  ip->size = 0;
  ip->nlink = 1;
  memset(ip->addrs, 0, sizeof(ip->addrs));
  return r;
}

void
iunlock(struct inode *ip)
{
  if(ip == 0 || !holdingsleep(&ip->lock) || ip->ref < 1)
    panic("iunlock: not locked, or no reference");
  releasesleep(&ip->lock);
}

// Does freeing ip touch few enough blocks to fit in any operation?
// (Only direct blocks, at most 4 of them.) ref is 1, so no lock needed.
static int
small_file(struct inode *ip)
{
  int i, n = 0;

  if(ip->addrs[NDIRECT] || ip->addrs[NDIRECT + 1])
    return 0;
  for(i = 0; i < NDIRECT; i++)
    if(ip->addrs[i])
      n++;
  return n <= 4;
}

// Drop a reference. The last reference to an inode with no links frees
// it on disk: at once if small, else via the reaper after this operation.
// The last reference frees the in-memory inode too. Must run inside an
// operation; caller does not hold ip->lock.
void
iput(struct inode *ip)
{
  acquire(&icache.lock);
  if(ip->ref == 1 && ip->valid && ip->nlink == 0){
    release(&icache.lock);
    if(!small_file(ip)){
      fs_reap_add(ip);
      return;
    }
    acquiresleep(&ip->lock);
    ifree_locked(ip);
    releasesleep(&ip->lock);
    acquire(&icache.lock);
  }
  // ialloc may have picked a freed inode's number again meanwhile: then
  // ref is above 1 here and the inode lives on for its new user.
  if(--ip->ref > 0){
    release(&icache.lock);
    return;
  }
  icache_remove(ip);
  release(&icache.lock);
  kfree(ip);
}

void
iunlockput(struct inode *ip)
{
  iunlock(ip);
  iput(ip);
}

// Free every block of ip and the inode itself on disk. Caller holds
// ip->lock and an operation big enough for it.
void
ifree_locked(struct inode *ip)
{
  if(ip->bad)
    return;
  itrunc(ip);
  ip->type = 0;
  iupdate(ip);
  ip->valid = 0;
}

// ---- the block map ---------------------------------------------------------

// Return the block number in *slot (an inode address field), allocating
// it first if it is 0 and alloc is set. >0, 0 (hole), -ENOSPC, or -EIO
// if the number read from disk is outside the data area.
static int
slot_block(struct inode *ip, uint *slot, int alloc)
{
  uint b;
  int r;

  if(*slot == 0 && alloc){
    if((r = balloc(ip->dev, &b)) < 0)
      return r;
    *slot = b;
  }
  if(*slot != 0 && !fs_block_ok(*slot))
    return fs_bad(ip->inum, "block number", *slot);
  return *slot;
}

// Same, for entry idx of index block ind of ip (logged when it changes).
// An entry naming ind itself is damage too.
static int
index_block(struct inode *ip, uint ind, uint idx, int alloc)
{
  struct buf *bp = bread(ip->dev, ind);
  uint *a, b;
  int r;

  if(bp == 0)
    return fs_ioerr(ip->inum, ind);
  a = (uint *)bp->data;
  b = a[idx];
  if(b == 0 && alloc){
    if((r = balloc(ip->dev, &b)) < 0){
      brelse(bp);
      return r;
    }
    a[idx] = b;
    log_write(bp);
  }
  brelse(bp);
  if(b != 0 && (!fs_block_ok(b) || b == ind))
    return fs_bad(ip->inum, "indirect block entry", b);
  return b;
}

// Disk block holding file block bn of ip: >0; 0 for a hole when !alloc;
// or -ENOSPC / -EFBIG / -EIO (a damaged block number, a disk error). Caller holds
// ip->lock (and an operation if alloc); the caller writes the inode back
// when its addrs change.
static int
bmap(struct inode *ip, uint bn, int alloc)
{
  int ind;

  if(ip->bad)
    return -EIO;
  if(bn < NDIRECT)
    return slot_block(ip, &ip->addrs[bn], alloc);
  bn -= NDIRECT;
  if(bn < NINDIRECT){
    if((ind = slot_block(ip, &ip->addrs[NDIRECT], alloc)) <= 0)
      return ind;
    return index_block(ip, ind, bn, alloc);
  }
  bn -= NINDIRECT;
  if(bn < NDINDIRECT){
    if((ind = slot_block(ip, &ip->addrs[NDIRECT + 1], alloc)) <= 0)
      return ind;
    if((ind = index_block(ip, ind, bn / NINDIRECT, alloc)) <= 0)
      return ind;
    return index_block(ip, ind, bn % NINDIRECT, alloc);
  }
  return -EFBIG;
}

// Free index block ind of ip and everything below it (depth 1: it lists
// data blocks; depth 2: index blocks of depth 1). Entries outside the data
// area, or naming ind itself (a cycle), are reported and skipped; bfree
// refuses a block already freed, so a block listed twice is freed once.
// An index block the disk cannot read is kept, with what it lists (fsck
// finds them).
static void
free_tree(struct inode *ip, uint ind, int depth)
{
  struct buf *bp = bread(ip->dev, ind);
  uint *a;
  uint i;

  if(bp == 0){
    fs_ioerr(ip->inum, ind);
    return;
  }
  a = (uint *)bp->data;
  for(i = 0; i < NINDIRECT; i++){
    if(a[i] == 0)
      continue;
    if(!fs_block_ok(a[i]) || a[i] == ind)
      fs_bad(ip->inum, "indirect block entry", a[i]);
    else if(depth > 1)
      free_tree(ip, a[i], depth - 1);
    else
      bfree(ip->dev, a[i]);
  }
  brelse(bp);
  bfree(ip->dev, ind);
}

// Free all of ip's blocks and make it empty. Caller holds ip->lock and an
// operation with room for every bitmap block plus the inode. A damaged
// inode (ip->bad) owns nothing: it is left alone.
void
itrunc(struct inode *ip)
{
  int i;

  if(ip->bad)
    return;
  pcache_truncate(ip, ip->size, 0);       // cached pages and their mappings go too
  for(i = 0; i < NDIRECT; i++){
    if(ip->addrs[i])
      bfree(ip->dev, ip->addrs[i]);
    ip->addrs[i] = 0;
  }
  if(ip->addrs[NDIRECT])
    free_tree(ip, ip->addrs[NDIRECT], 1);
  if(ip->addrs[NDIRECT + 1])
    free_tree(ip, ip->addrs[NDIRECT + 1], 2);
  ip->addrs[NDIRECT] = ip->addrs[NDIRECT + 1] = 0;
  ip->size = 0;
  iupdate(ip);
}

// Most bytes (at least one block's worth, at most n) that one operation
// holding `slots` log slots may write to ip starting at offset off, so
// that every block it changes fits. Counted pessimistically: the inode 1;
// each data block 1; each index block on the way the first time it is met
// 1; and for every block that must be allocated (data or index, an index
// block counted as new whenever it might be), a bitmap block, but never
// more bitmap blocks than the file system has. So an in-place rewrite of
// up to slots-1 blocks is one transaction. Caller holds ip->lock.
uint
write_span(struct inode *ip, uint off, uint n, int slots)
{
  uint nbitmap = (sb.size + BPB - 1) / BPB;
  uint first2 = NDIRECT + NINDIRECT;       // first doubly-indirect block
  uint seen_l2[2] = { ~0u, ~0u };          // (a span meets at most 2 of them)
  uint bn, end, l2, logged = 1, fresh = 0, done = 0, m;
  uint add_logged, add_fresh, bitmaps;
  int seen_single = 0, seen_double = 0;

  if(slots < 2 || slots > (int)(2 * NINDIRECT))
    panic("write_span: bad slot count");
  end = (off + n - 1) / BSIZE;             // last block touched (n > 0)
  for(bn = off / BSIZE; bn <= end && bn < MAXFILE; bn++){
    add_logged = 1;
    add_fresh = 0;
    if(bmap(ip, bn, 0) <= 0){
      add_fresh = 1;
      if(bn >= NDIRECT && bn < first2 && !seen_single){
        seen_single = 1;
        add_logged++;
        add_fresh += ip->addrs[NDIRECT] == 0;
      } else if(bn >= first2){
        if(!seen_double){
          seen_double = 1;
          add_logged++;
          add_fresh += ip->addrs[NDIRECT + 1] == 0;
        }
        l2 = (bn - first2) / NINDIRECT;
        if(l2 != seen_l2[0] && l2 != seen_l2[1]){
          add_logged++;                    // the second-level block, maybe new
          add_fresh++;
          seen_l2[seen_l2[0] == ~0u ? 0 : 1] = l2;
        }
      }
    }
    bitmaps = fresh + add_fresh < nbitmap ? fresh + add_fresh : nbitmap;
    if(done > 0 && logged + add_logged + bitmaps > (uint)slots)
      break;
    logged += add_logged;
    fresh += add_fresh;
    m = BSIZE - (off + done) % BSIZE;
    if(m > n - done)
      m = n - done;
    done += m;
  }
  return done > 0 ? done : (n < BSIZE ? n : BSIZE);
}

// ---- data ----------------------------------------------------------------

void
stati(struct inode *ip, struct stat *st)
{
  st->dev = ip->dev;
  st->ino = ip->inum;
  st->type = ip->type;
  st->nlink = ip->nlink;
  st->size = ip->size;
}

// Copy up to n bytes at offset off of ip to dst (a user address when
// user_dst). Holes read as zeros. Returns bytes copied (0 at or past the
// end) or -EFAULT / -ENOMEM (user page) / -EIO (a damaged block number,
// a disk error). Caller holds ip->lock.
int
readi(struct inode *ip, int user_dst, uint dst, uint off, uint n)
{
  uint done, m;
  int b;
  struct buf *bp;
  int r;

  if(ip->bad)
    return -EIO;
  if(off >= ip->size)
    return 0;
  if(n > ip->size - off)
    n = ip->size - off;
  for(done = 0; done < n; done += m, off += m, dst += m){
    m = BSIZE - off % BSIZE;
    if(m > n - done)
      m = n - done;
    if((b = bmap(ip, off / BSIZE, 0)) == 0 && ip->type == T_DIR)
      b = fs_bad(ip->inum, "directory hole at block", off / BSIZE);  // never written so
    if(b < 0)
      return done > 0 ? (int)done : b;
    if(b == 0){
      r = either_copyout(user_dst, dst, zeros, m);
    } else if((bp = bread(ip->dev, b)) == 0){
      r = fs_ioerr(ip->inum, b);
    } else {
      r = either_copyout(user_dst, dst, bp->data + off % BSIZE, m);
      brelse(bp);
    }
    if(r < 0)                  // -EFAULT, -ENOMEM for the user page, -EIO
      return done > 0 ? (int)done : r;
  }
  return done;
}

// Copy n bytes from src (a user address when user_src) to offset off of
// ip, growing the file; writing past the end leaves a hole. Returns the
// bytes written, or -EFBIG / -ENOSPC / -EFAULT / -ENOMEM / -EIO if none
// were.
// Caller holds ip->lock and an operation; n should respect write_span().
int
writei(struct inode *ip, int user_src, uint src, uint off, uint n)
{
  uint done, m;
  int b, r = 0;
  struct buf *bp;
  char *bounce = 0;

  if(off >= MAXFILESIZE)
    return n == 0 ? 0 : -EFBIG;
  if(n > MAXFILESIZE - off)
    n = MAXFILESIZE - off;
  if(n == 0)
    return 0;
  if(ip->bad)
    return -EIO;
  // User bytes go through a bounce buffer (fetched before any block is
  // allocated); kernel bytes are copied directly, so in-kernel writes
  // (directory entries) need no memory.
  if(user_src && (bounce = kmalloc(BSIZE)) == 0)
    return -ENOMEM;
  for(done = 0; done < n; done += m, off += m, src += m){
    m = BSIZE - off % BSIZE;
    if(m > n - done)
      m = n - done;
    // Fetch the bytes first, so a bad address allocates nothing.
    if(user_src && (r = either_copyin(bounce, user_src, src, m)) < 0)
      break;                   // -EFAULT, or -ENOMEM for the user page
    if((b = bmap(ip, off / BSIZE, 1)) < 0){
      r = b;
      break;
    }
    if((bp = bread(ip->dev, b)) == 0){
      r = fs_ioerr(ip->inum, b);
      break;
    }
    memmove(bp->data + off % BSIZE, user_src ? bounce : (char *)src, m);
    log_write(bp);
    brelse(bp);
  }
  if(user_src)
    kfree(bounce);
  if(off > ip->size)
    ip->size = off;
  if(iupdate(ip) < 0)        // size and maybe new block addresses
    return -EIO;
  return done > 0 ? (int)done : r;
}

// ---- truncation to a length ----------------------------------------------

// Free the blocks that index block ind (depth 1: it lists data blocks;
// depth 2: it lists index blocks of depth 1) holds for file blocks from
// `from` on, counted from the first block it covers. Returns 1 if it is
// left empty (the caller frees it); an unreadable one is left as it is.
// Caller holds the inode lock and a large operation.
static int
trunc_index(uint dev, uint ind, uint from, int depth)
{
  struct buf *bp = bread(dev, ind);
  uint *a, i, first = depth > 1 ? from / NINDIRECT : from;
  int changed = 0, empty;

  if(bp == 0){
    fs_ioerr(0, ind);
    return 0;
  }
  a = (uint *)bp->data;
  for(i = first; i < NINDIRECT; i++){
    if(a[i] == 0)
      continue;
    if(depth > 1 && !trunc_index(dev, a[i], i == first ? from % NINDIRECT : 0, 1))
      continue;             // the first index block keeps some entries
    bfree(dev, a[i]);
    a[i] = 0;
    changed = 1;
  }
  for(i = 0; i < NINDIRECT && a[i] == 0; i++)
    ;
  empty = i == NINDIRECT;
  if(changed && !empty)
    log_write(bp);
  brelse(bp);
  return empty;
}

// Make ip exactly len bytes long (len at most its size): blocks wholly past
// len are freed, the bytes of the last block past len are zeroed on disk,
// and the cache drops what lies past the new end. Caller holds ip->lock
// and a large operation (begin_op_large). 0, or -EFBIG if len is too big,
// or -EIO if the last block could not be read to zero its tail.
int
itrunc_to(struct inode *ip, uint len)
{
  uint fb = (len + BSIZE - 1) / BSIZE, i;
  int b, r = 0;
  struct buf *bp;

  if(len == 0){
    itrunc(ip);
    return 0;
  }
  if(len > ip->size)
    return -EFBIG;
  pcache_truncate(ip, ip->size, len);
  for(i = fb; i < NDIRECT; i++){
    if(ip->addrs[i])
      bfree(ip->dev, ip->addrs[i]);
    ip->addrs[i] = 0;
  }
  if(ip->addrs[NDIRECT] &&
     trunc_index(ip->dev, ip->addrs[NDIRECT], fb > NDIRECT ? fb - NDIRECT : 0, 1)){
    bfree(ip->dev, ip->addrs[NDIRECT]);
    ip->addrs[NDIRECT] = 0;
  }
  if(ip->addrs[NDIRECT + 1] &&
     trunc_index(ip->dev, ip->addrs[NDIRECT + 1],
                 fb > NDIRECT + NINDIRECT ? fb - NDIRECT - NINDIRECT : 0, 2)){
    bfree(ip->dev, ip->addrs[NDIRECT + 1]);
    ip->addrs[NDIRECT + 1] = 0;
  }
  if(len % BSIZE && (b = bmap(ip, len / BSIZE, 0)) > 0){
    if((bp = bread(ip->dev, b)) == 0)
      r = fs_ioerr(ip->inum, b);
    else {
      memset(bp->data + len % BSIZE, 0, BSIZE - len % BSIZE);
      log_write(bp);
      brelse(bp);
    }
  }
  ip->size = len;
  if(iupdate(ip) < 0)
    r = -EIO;
  return r;
}
