// The disk is untrusted input: checks of what the file system reads from
// it, and the reports of what was found wrong.
//
// At mount, fs_init runs sb_check and log_check; a damaged root file
// system stops the boot (fs_damaged). At run time every block number,
// inode number and disk inode is checked before use (fs_block_ok,
// fs_inum_ok, dinode_check); a bad one makes the system call fail with
// -EIO and is reported once by fs_bad, naming the inode and the field.
#include "types.h"
#include "param.h"
#include "errno.h"
#include "stat.h"
#include "core/spinlock.h"
#include "fs.h"
#include "logfmt.h"
#include "fs/fsint.h"
#include "core/defs.h"

#define NREPORTED 64             // damage reports remembered (to say each once)

static struct {
  struct spinlock lock;
  int init;
  uint n;                        // reports made (the table wraps)
  struct { uint inum; const char *field; } seen[NREPORTED];
} reports;

// Is b a block an inode may own: inside the data area of the disk?
int
fs_block_ok(uint b)
{
  return b >= fs_datastart && b < sb.size;
}

// Is inum an inode number a directory entry may name?
int
fs_inum_ok(uint inum)
{
  return inum >= 1 && inum < sb.ninodes;
}

// Report that field of inode inum (0: of no inode in particular) holds the
// bad value, once per (inode, field) while it is among the last NREPORTED
// reports. Returns -EIO, what the caller's system call should fail with.
int
fs_bad(uint inum, const char *field, uint value)
{
  uint i;

  acquire(&reports.lock);
  for(i = 0; i < NREPORTED && i < reports.n; i++)
    if(reports.seen[i].inum == inum && reports.seen[i].field == field){
      release(&reports.lock);
      return -EIO;
    }
  reports.seen[reports.n % NREPORTED].inum = inum;
  reports.seen[reports.n % NREPORTED].field = field;
  reports.n++;
  release(&reports.lock);
  if(inum)
    printf("fs: damaged: inode %d: bad %s %d (0x%x); run fsck\n", inum, field, value, value);
  else
    printf("fs: damaged: bad %s %d (0x%x); run fsck\n", field, value, value);
  return -EIO;
}

void
fs_check_init(void)
{
  initlock(&reports.lock, "fsdamage");
}

// The field of disk inode d that is out of range (its value goes to
// *value), or 0 if the inode is usable. A free inode (type 0) is not
// usable either: nothing should lead to one.
const char *
dinode_check(struct dinode *d, uint *value)
{
  int i;

  *value = d->type;
  if(d->type < T_DIR || d->type > T_SYMLINK)
    return "type";
  *value = d->nlink;
  if(d->nlink < 0)
    return "link count";
  *value = d->size;
  if(d->size > MAXFILESIZE)
    return "size";
  if(d->type == T_DIR && d->size % sizeof(struct dirent) != 0)
    return "directory size";
  // (An empty symlink is one being created; following it gives ENOENT.)
  if(d->type == T_SYMLINK && d->size >= MAXPATH)
    return "symlink size";
  for(i = 0; i < NDIRECT + 2; i++){
    *value = d->addrs[i];
    if(d->addrs[i] != 0 && !fs_block_ok(d->addrs[i]))
      return "block number";
  }
  return 0;
}

// What is wrong with superblock s on a disk of disk_blocks blocks (0 if
// unknown), or 0 if the layout is sound: every region in order, inside
// the disk, and a log big enough for the largest operation.
const char *
sb_check(struct superblock *s, uint disk_blocks)
{
  uint ninodeblocks, nbitmap;

  if(s->magic != FSMAGIC)
    return "bad magic number in the superblock";
  if(s->size < 8 || (disk_blocks && s->size > disk_blocks))
    return "superblock size is not the disk's";
  if(s->ninodes < 2 || s->ninodes > 65536)
    return "superblock inode count out of range";
  ninodeblocks = (s->ninodes + IPB - 1) / IPB;
  nbitmap = (s->size + BPB - 1) / BPB;
  if(s->nlog < 2 || s->nlog > LOGSIZE || s->logstart != 2)
    return "superblock log region out of range";
  if(s->nlog - 1 < WRITEOPBLOCKS + MAXOPBLOCKS || s->nlog - 1 < nbitmap + 4)
    return "log too small for the largest operation";
  if(s->inodestart != s->logstart + s->nlog ||
     s->bmapstart != s->inodestart + ninodeblocks)
    return "superblock regions overlap or leave gaps";
  if(s->bmapstart >= s->size || s->size - s->bmapstart <= nbitmap)
    return "superblock regions run past the disk";
  if(s->nblocks != s->size - s->bmapstart - nbitmap)
    return "superblock data block count disagrees with the layout";
  return 0;
}

// What is wrong with log header lh of a log holding cap blocks, or 0.
// A committed transaction may only name inode, bitmap and data blocks:
// never the boot block, the superblock or the log itself.
const char *
log_check(struct logheader *lh, uint cap, struct superblock *s)
{
  uint i;

  if(lh->n > cap)
    return "log header block count larger than the log";
  for(i = 0; i < lh->n; i++)
    if(lh->block[i] < s->inodestart || lh->block[i] >= s->size)
      return "log entry names a block outside the inode, bitmap and data areas";
  return 0;
}

// Report that the disk could not read or write block bno (of inode inum,
// or of the file system's own metadata if inum is 0; the driver has said
// which transfer failed). Returns -EIO for the caller's system call.
int
fs_ioerr(uint inum, uint bno)
{
  if(inum)
    printf("fs: inode %d: disk error at block %d\n", inum, bno);
  else
    printf("fs: disk error at block %d\n", bno);
  return -EIO;
}

// The root file system cannot be used: say why and switch the machine off.
void
fs_damaged(const char *why)
{
  printf("file system damaged: %s; run fsck\n", why);
  power_off();
}
