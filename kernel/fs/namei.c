// Directories and path names, including symbolic links.
//
// A directory is a file of struct dirent; inum 0 marks a free slot.
// Path lookup walks one component at a time, holding at most one inode
// lock at once (so "..", which points up, cannot deadlock). A symbolic
// link met on the way is replaced in the path by its target: an absolute
// target restarts at "/", a relative one continues from the directory
// that holds the link. More than MAXSYMLINKS links in one lookup: -ELOOP.
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

#define PATHBUF 2048             // room for a path with links expanded
#define DIRBATCH 16              // entries read at a time

// 0 if name fits in a directory entry, else -ENAMETOOLONG (-ENOENT if empty).
int
name_check(char *name)
{
  int n = strlen(name);

  if(n == 0)
    return -ENOENT;
  return n > DIRSIZ ? -ENAMETOOLONG : 0;
}

// Is entry de, found in directory dp, usable? It must name an inode, and
// not dp itself unless it is "." (or ".." of the root). 0 or -EIO.
static int
dirent_check(struct inode *dp, struct dirent *de)
{
  if(!fs_inum_ok(de->inum))
    return fs_bad(dp->inum, "directory entry inode number", de->inum);
  if(de->inum == dp->inum && strncmp(de->name, ".", DIRSIZ) != 0 &&
     !(dp->inum == ROOTINO && strncmp(de->name, "..", DIRSIZ) == 0))
    return fs_bad(dp->inum, "directory entry naming its own directory", de->inum);
  return 0;
}

// Find name in directory dp (locked). Returns its inode, referenced and
// unlocked, and its entry's offset in *poff (if poff); or 0 with *err
// (if err) = -ENOENT, -ENOMEM when there is no memory for the inode, or
// -EIO when the directory is damaged.
struct inode *
dirlookup(struct inode *dp, char *name, uint *poff, int *err)
{
  struct dirent de[DIRBATCH];
  struct inode *ip;
  uint off;
  int n, i, r = -ENOENT;

  // (Unreachable from a system call: every caller has checked dp->type
  // under this lock, and a locked valid inode's type does not change.)
  if(dp->type != T_DIR)
    panic("dirlookup: not a directory");
  for(off = 0; off < dp->size; off += n * sizeof(de[0])){
    n = readi(dp, 0, (uint)de, off, sizeof(de));
    if(n < 0){
      r = n;
      break;
    }
    n /= sizeof(de[0]);
    if(n <= 0)
      break;
    for(i = 0; i < n; i++){
      if(de[i].inum == 0 || strncmp(name, de[i].name, DIRSIZ) != 0)
        continue;
      if((r = dirent_check(dp, &de[i])) < 0)
        goto fail;
      if(poff)
        *poff = off + i * sizeof(de[0]);
      ip = iget(dp->dev, de[i].inum);
      if(ip == 0 && err)
        *err = -ENOMEM;
      return ip;
    }
  }
fail:
  if(err)
    *err = r;
  return 0;
}

// Lock ip, found through a directory entry: it must be sound. A link count
// of 0 means the entry was unlinked after the lookup let go of the
// directory (a race, not damage: an orphan on disk is freed at boot, so it
// shows as type 0): -ENOENT. 0, or -ENOENT / -EIO with ip unlocked.
int
ilock_entry(struct inode *ip)
{
  int r;

  if((r = ilock(ip)) == 0 && ip->nlink < 1)
    r = -ENOENT;
  if(r < 0)
    iunlock(ip);
  return r;
}

// Add an entry name -> inum to directory dp (locked), reusing a free slot.
// 0, or -EEXIST / -ENAMETOOLONG / -ENOSPC / -EFBIG / -ENOMEM / -EIO.
int
dirlink(struct inode *dp, char *name, uint inum)
{
  struct dirent de;
  struct inode *ip;
  uint off;
  int r;

  if((r = name_check(name)) < 0)
    return r;
  if((ip = dirlookup(dp, name, 0, &r)) != 0){
    iput(ip);
    return -EEXIST;
  }
  if(r != -ENOENT)
    return r;
  for(off = 0; off < dp->size; off += sizeof(de)){
    if((r = readi(dp, 0, (uint)&de, off, sizeof(de))) != sizeof(de))
      return r < 0 ? r : -EIO;
    if(de.inum == 0)
      break;
  }
  memset(&de, 0, sizeof(de));
  strncpy(de.name, name, DIRSIZ);
  de.inum = inum;
  r = writei(dp, 0, (uint)&de, off, sizeof(de));
  if(r == sizeof(de))
    return 0;
  return r < 0 ? r : -ENOSPC;
}

// Does directory dp (locked) hold nothing but "." and ".."? 1 or 0, or
// -EIO if it cannot be read.
int
dir_isempty(struct inode *dp)
{
  struct dirent de;
  uint off;
  int r;

  for(off = 2 * sizeof(de); off < dp->size; off += sizeof(de)){
    if((r = readi(dp, 0, (uint)&de, off, sizeof(de))) != sizeof(de))
      return r < 0 ? r : -EIO;
    if(de.inum != 0)
      return 0;
  }
  return 1;
}

// Replace the link component in buf by the target of symlink lp (locked):
// buf becomes target + "/" + rest, where rest points into buf.
// 0, or -ENOENT (empty target) / -ENAMETOOLONG.
static int
splice_link(struct inode *lp, char *buf, char *rest)
{
  uint tlen = lp->size, rlen = strlen(rest);

  if(tlen == 0)
    return -ENOENT;
  if(tlen >= PATHBUF || rlen >= PATHBUF || tlen + 1 + rlen + 1 > PATHBUF)
    return -ENAMETOOLONG;      // (each term alone first: the sum may wrap)
  memmove(buf + tlen + 1, rest, rlen + 1);
  if(readi(lp, 0, (uint)buf, 0, tlen) != (int)tlen)
    return -EIO;
  buf[tlen] = rlen ? '/' : 0;
  return 0;
}

// Resolve path. If parent, stop at the directory that would hold the last
// component and copy that component to name (DIRSIZ+1 bytes); else return
// the inode the path names, following a final symlink only if follow.
// Returns a referenced, unlocked inode, or 0 with *err set. Must run
// inside an operation (dropping a reference may free an inode).
static struct inode *
walk(char *path, int parent, int follow, char *name, int *err)
{
  char *buf, *p, *comp, *rest;
  char elem[DIRSIZ + 1];
  struct inode *ip, *next;
  int len, nlinks = 0, r;

  if(name == 0)
    name = elem;
  if(*path == 0){
    *err = -ENOENT;
    return 0;
  }
  if(strlen(path) >= PATHBUF){
    *err = -ENAMETOOLONG;
    return 0;
  }
  if((buf = kmalloc(PATHBUF)) == 0){
    *err = -ENOMEM;
    return 0;
  }
  safestrcpy(buf, path, PATHBUF);
  ip = buf[0] == '/' ? iget(ROOTDEV, ROOTINO) : idup(myproc()->cwd);
  if(ip == 0){
    kfree(buf);
    *err = -ENOMEM;
    return 0;
  }
  p = buf;
  for(;;){
    while(*p == '/')
      p++;
    if(*p == 0)
      break;
    for(comp = p; *p && *p != '/'; p++)
      ;
    len = p - comp;
    for(rest = p; *rest == '/'; rest++)
      ;
    if(len > DIRSIZ){
      r = -ENAMETOOLONG;
      goto fail;
    }
    memmove(name, comp, len);
    name[len] = 0;
    if((r = ilock(ip)) < 0){
      iunlock(ip);
      goto fail;
    }
    if(ip->type != T_DIR){
      iunlock(ip);
      r = -ENOTDIR;
      goto fail;
    }
    if(parent && *rest == 0){
      iunlock(ip);
      kfree(buf);
      return ip;
    }
    next = dirlookup(ip, name, 0, &r);
    iunlock(ip);
    if(next == 0)
      goto fail;
    if((r = ilock_entry(next)) < 0){
      iput(next);
      goto fail;
    }
    if(next->type == T_SYMLINK && (*rest != 0 || follow)){
      if(++nlinks > MAXSYMLINKS)
        r = -ELOOP;
      else
        r = splice_link(next, buf, rest);
      iunlockput(next);
      if(r < 0)
        goto fail;
      p = buf;
      if(buf[0] == '/'){
        iput(ip);
        if((ip = iget(ROOTDEV, ROOTINO)) == 0){
          kfree(buf);
          *err = -ENOMEM;
          return 0;
        }
      }
      continue;
    }
    iunlock(next);
    iput(ip);
    ip = next;
    p = rest;
  }
  if(parent){                    // the path named "/" itself
    r = -EEXIST;
    goto fail;
  }
  kfree(buf);
  return ip;

fail:
  iput(ip);
  kfree(buf);
  *err = r;
  return 0;
}

// The inode path names (following symlinks), or 0.
struct inode *
namei(char *path)
{
  int err;

  return walk(path, 0, 1, 0, &err);
}

// The inode path names, or 0 with *err = -ENOENT, -ENOTDIR, -ELOOP,
// -ENAMETOOLONG or -ENOMEM. A final symlink is followed if follow.
struct inode *
namei_err(char *path, int follow, int *err)
{
  return walk(path, 0, follow, 0, err);
}

// The directory that holds path's last component, whose name goes to
// name (DIRSIZ+1 bytes). 0 if there is none.
struct inode *
nameiparent(char *path, char *name)
{
  int err;

  return walk(path, 1, 0, name, &err);
}

struct inode *
nameiparent_err(char *path, char *name, int *err)
{
  return walk(path, 1, 0, name, err);
}
