// Functions the file-system files share among themselves (ide, bio, log,
// fs, inode, namei, file, fd, pipe, sysfile). The ones other subsystems use
// are in defs.h.
#ifndef KFSINT_H
#define KFSINT_H
#include "types.h"

struct inode;
struct superblock;
struct proc;
struct file;
struct fsstat;

// log.c
void  begin_op_n(int n);                  // an operation that may log n blocks
int   end_op_n(int n);                    // ... and its end (0 or -EIO)
int   log_writable(void);                 // 0, or -EIO after a failed disk write
void  begin_op_large(void);               // an operation that owns the whole log
int   log_capacity(void);                 // blocks a large operation may log

// fs.c
extern struct superblock sb;              // the mounted file system's superblock
int   balloc(uint dev, uint *bno);        // 0 or -ENOSPC; the block is zeroed
void  bfree(uint dev, uint bno);
void  fs_reap(void);                      // free unlinked inodes (end_op calls it)
void  fs_reap_add(struct inode *ip);      // queue an unlinked inode for fs_reap
int   fs_stat(uint dev, struct fsstat *st);  // free blocks/inodes (sys_fsstat); 0 or -EIO

// inode.c
void  icache_init(void);
struct inode *iget(uint dev, uint inum);  // 0 when out of memory
uint  icache_count(void);                 // inodes in memory
struct inode *ialloc(uint dev, short type, int *err);
int   iupdate(struct inode *ip);           // 0 or -EIO
void  itrunc(struct inode *ip);
void  ifree_locked(struct inode *ip);     // truncate and mark free on disk
uint  write_span(struct inode *ip, uint off, uint n, int slots);  // bytes an op may write at off
int   itrunc_to(struct inode *ip, uint len);   // shrink to len bytes (large op, ip->lock)

// namei.c
struct inode *dirlookup(struct inode *dp, char *name, uint *poff, int *err);
int   dirlink(struct inode *dp, char *name, uint inum);
int   dir_isempty(struct inode *dp);       // 1, 0 or -EIO
int   ilock_entry(struct inode *ip);      // ilock an inode found by name; 0, -ENOENT or -EIO
int   name_check(char *name);             // 0 or -ENAMETOOLONG/-EINVAL
struct inode *nameiparent_err(char *path, char *name, int *err);

// fscheck.c: the disk is untrusted
struct dinode;
struct logheader;
extern uint fs_datastart;                 // first data block (fs.c)
int   fs_block_ok(uint b);                // b is in the data area
int   fs_inum_ok(uint inum);              // inum names an inode
int   fs_bad(uint inum, const char *field, uint value);  // report once; -EIO
int   fs_ioerr(uint inum, uint bno);  // report a disk error at bno (for inum); -EIO
void  fs_check_init(void);
const char *dinode_check(struct dinode *d, uint *value);  // bad field or 0
const char *sb_check(struct superblock *s, uint disk_blocks);
const char *log_check(struct logheader *lh, uint cap, struct superblock *s);
void  fs_damaged(const char *why) __attribute__((noreturn));

// fd.c
struct file *fd_take(struct proc *p, int fd);  // remove fd from the table; 0 if not open
#endif
