// fsck: check a file-system image's consistency (host tool).
//
//   fsck IMG              check; print problems and exit 1 if any, else
//                         print "fsck: ok, N inodes, N blocks used"
//   fsck IMG --dump PATH  print the contents of the file at PATH to stdout
//
// A committed transaction still in the log is checked and replayed first,
// in memory only (the kernel would redo it at boot); a note goes to
// stderr. Only then is the superblock checked (the log may rewrite it, so
// a log entry naming the superblock or the log itself is a problem). The
// image file itself is never changed. Every problem found is named.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "kernel/types.h"
#include "kernel/param.h"
#define stat kernel_stat          // the kernel's struct stat, renamed
#include "kernel/stat.h"
#undef stat
#include "kernel/fs.h"
#include "kernel/logfmt.h"

static uchar *img;                // the image, mapped copy-on-write
static uint nblocks_img;          // blocks in the image file
static struct superblock sb;
static uint datastart;            // first data block
static int problems;

static void
problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#include <stdarg.h>
static void
problem(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  printf("fsck: ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
  problems++;
}

static uchar *
block(uint b)
{
  return img + (size_t)b * BSIZE;
}

static struct dinode *
dinode(uint inum)
{
  return (struct dinode *)block(IBLOCK(inum, sb)) + inum % IPB;
}

// Check the superblock's layout. Returns 0 if it is usable.
static int
check_super(void)
{
  uint ninodeblocks, nbitmap;

  memcpy(&sb, block(1), sizeof(sb));
  if(sb.magic != FSMAGIC){
    problem("bad magic 0x%x in superblock", sb.magic);
    return -1;
  }
  if(sb.size > nblocks_img || sb.size < 8){
    problem("superblock size %u, image has %u blocks", sb.size, nblocks_img);
    return -1;
  }
  ninodeblocks = (sb.ninodes + IPB - 1) / IPB;
  nbitmap = (sb.size + BPB - 1) / BPB;
  if(sb.ninodes > 65536)
    problem("superblock inode count %u: directory entries name at most 65535", sb.ninodes);
  if(sb.nlog - 1 < WRITEOPBLOCKS + MAXOPBLOCKS || sb.nlog - 1 < nbitmap + 4)
    problem("log of %u blocks too small for the largest operation", sb.nlog);
  if(sb.nlog < 2 || sb.nlog > LOGSIZE || sb.logstart < 2 ||
     sb.inodestart != sb.logstart + sb.nlog ||
     sb.bmapstart != sb.inodestart + ninodeblocks ||
     sb.ninodes < 2 || sb.bmapstart + nbitmap >= sb.size){
    problem("superblock layout is inconsistent");
    return -1;
  }
  datastart = sb.bmapstart + nbitmap;
  if(sb.nblocks != sb.size - datastart)
    problem("superblock nblocks %u, layout says %u", sb.nblocks, sb.size - datastart);
  return 0;
}

// Find the log through the superblock (only its magic and log fields are
// trusted yet), check the header and redo a committed transaction, in
// memory. A transaction may write inode, bitmap and data blocks only; the
// kernel refuses to boot a log that names anything else, so such entries
// are problems and are not replayed. Returns 0, or -1 if there is no
// usable log (nothing else can be trusted then).
static int
replay_log(void)
{
  struct superblock s;
  struct logheader *lh;
  uint i, first;
  int bad = 0;

  memcpy(&s, block(1), sizeof(s));
  if(s.magic != FSMAGIC){
    problem("bad magic 0x%x in superblock", s.magic);
    return -1;
  }
  if(s.logstart != 2 || s.nlog < 2 || s.nlog > LOGSIZE || s.logstart + s.nlog > nblocks_img){
    problem("superblock log region (start %u, %u blocks) is out of range", s.logstart, s.nlog);
    return -1;
  }
  lh = (struct logheader *)block(s.logstart);
  if(lh->n == 0)
    return 0;
  if(lh->n > s.nlog - 1){
    problem("log header claims %u blocks, log holds %u", lh->n, s.nlog - 1);
    return 0;
  }
  first = s.logstart + s.nlog;
  for(i = 0; i < lh->n; i++){
    if(lh->block[i] < first || lh->block[i] >= nblocks_img || lh->block[i] >= s.size){
      problem("log entry %u names block %u, %s", i, lh->block[i],
              lh->block[i] == 1 ? "the superblock" :
              lh->block[i] < first ? "the boot block or the log itself" :
              "past the end of the file system");
      bad = 1;
    }
  }
  if(bad)
    return 0;
  fprintf(stderr, "fsck: replaying a committed log transaction (%u blocks)\n", lh->n);
  for(i = 0; i < lh->n; i++)
    memcpy(block(lh->block[i]), block(s.logstart + 1 + i), BSIZE);
  return 0;
}

// ---- walking an inode's blocks -------------------------------------------

// Called for each block of an inode: bn is the file block number for
// data blocks, or -1 for index blocks.
typedef void (*blockfn)(uint inum, uint b, long bn, void *arg);

static int
valid_block(uint inum, uint b)
{
  if(b < datastart || b >= sb.size){
    problem("inode %u: block %u outside the data area", inum, b);
    return 0;
  }
  return 1;
}

static void
walk_index(uint inum, uint ind, int depth, long base, long span, blockfn fn, void *arg)
{
  uint *a, i;

  if(!valid_block(inum, ind))
    return;
  fn(inum, ind, -1, arg);
  a = (uint *)block(ind);
  for(i = 0; i < NINDIRECT; i++){
    if(a[i] == 0)
      continue;
    if(a[i] == ind){
      problem("inode %u: indirect block %u lists itself", inum, ind);
      continue;
    }
    if(depth > 1)
      walk_index(inum, a[i], depth - 1, base + i * span, span / NINDIRECT, fn, arg);
    else if(valid_block(inum, a[i]))
      fn(inum, a[i], base + i, arg);
  }
}

static void
walk_blocks(uint inum, struct dinode *d, blockfn fn, void *arg)
{
  uint i;

  for(i = 0; i < NDIRECT; i++)
    if(d->addrs[i] && valid_block(inum, d->addrs[i]))
      fn(inum, d->addrs[i], i, arg);
  if(d->addrs[NDIRECT])
    walk_index(inum, d->addrs[NDIRECT], 1, NDIRECT, 1, fn, arg);
  if(d->addrs[NDIRECT + 1])
    walk_index(inum, d->addrs[NDIRECT + 1], 2, NDIRECT + NINDIRECT, NINDIRECT, fn, arg);
}

// Disk block of file block bn, 0 for a hole.
static uint
file_block(struct dinode *d, uint bn)
{
  uint b;

  if(bn < NDIRECT)
    return d->addrs[bn];
  bn -= NDIRECT;
  if(bn < NINDIRECT){
    b = d->addrs[NDIRECT];
    return b && b < sb.size ? ((uint *)block(b))[bn] : 0;
  }
  bn -= NINDIRECT;
  if(bn >= NDINDIRECT || (b = d->addrs[NDIRECT + 1]) == 0 || b >= sb.size)
    return 0;
  b = ((uint *)block(b))[bn / NINDIRECT];
  return b && b < sb.size ? ((uint *)block(b))[bn % NINDIRECT] : 0;
}

// Copy len bytes at offset off of the inode into buf (holes are zeros).
static void
read_file(struct dinode *d, uint off, void *buf, uint len)
{
  uint m, b;
  char *dst = buf;

  while(len > 0){
    m = BSIZE - off % BSIZE;
    if(m > len)
      m = len;
    b = file_block(d, off / BSIZE);
    if(b && b < sb.size)
      memcpy(dst, block(b) + off % BSIZE, m);
    else
      memset(dst, 0, m);
    off += m;
    dst += m;
    len -= m;
  }
}

// ---- the checks ----------------------------------------------------------

static uchar *refs;               // references to each block
static int *links;                // directory entries naming each inode
static uint *parent;              // the directory holding each directory

static void
count_block(uint inum, uint b, long bn, void *arg)
{
  struct dinode *d = arg;

  if(refs[b]++ == 1)
    problem("block %u referenced more than once (again by inode %u)", b, inum);
  if(bn >= 0 && (uint)bn >= (d->size + BSIZE - 1) / BSIZE)
    problem("inode %u: data block %u (file block %ld) beyond its size %u",
            inum, b, bn, d->size);
}

static void
check_inodes(uint *ninodes_used)
{
  struct dinode *d;
  uint inum;

  for(inum = 1; inum < sb.ninodes; inum++){
    d = dinode(inum);
    if(d->type == 0)
      continue;
    (*ninodes_used)++;
    if(d->type < T_DIR || d->type > T_SYMLINK){
      problem("inode %u: bad type %d", inum, d->type);
      continue;
    }
    if(d->nlink < 0)
      problem("inode %u: negative link count %d", inum, d->nlink);
    if(d->size > MAXFILESIZE)
      problem("inode %u: size %u larger than MAXFILESIZE", inum, d->size);
    if(d->type == T_DIR && d->size % sizeof(struct dirent))
      problem("inode %u: directory size %u not a multiple of an entry", inum, d->size);
    if(d->type == T_SYMLINK && (d->size == 0 || d->size >= MAXPATH))
      problem("inode %u: symlink target length %u", inum, d->size);
    walk_blocks(inum, d, count_block, d);
  }
}

static void
check_bitmap(uint *nused)
{
  uint b, marked, used;

  for(b = 0; b < sb.size; b++){
    marked = (block(BBLOCK(b, sb))[(b % BPB) / 8] >> (b % 8)) & 1;
    used = b < datastart || refs[b] > 0;
    if(marked)
      (*nused)++;
    if(marked && !used)
      problem("block %u marked in use but not referenced", b);
    if(!marked && used)
      problem("block %u in use but marked free", b);
  }
}

static void
check_dir(uint inum, struct dinode *d)
{
  struct dirent de;
  uint off, n = d->size / sizeof(de), bn;
  char name[DIRSIZ + 1];
  int seen_dot = 0, seen_dotdot = 0;

  // Directories grow an entry at a time: a hole means damage (and the
  // kernel refuses to read past one).
  for(bn = 0; bn < (d->size + BSIZE - 1) / BSIZE; bn++){
    if(file_block(d, bn) == 0){
      problem("directory %u: hole at block %u of its %u bytes", inum, bn, d->size);
      n = bn * BSIZE / sizeof(de);
      break;
    }
  }

  for(off = 0; off < n; off++){
    read_file(d, off * sizeof(de), &de, sizeof(de));
    if(de.inum == 0)
      continue;
    memcpy(name, de.name, DIRSIZ);
    name[DIRSIZ] = 0;
    if(de.inum >= sb.ninodes || dinode(de.inum)->type == 0){
      problem("directory %u: entry \"%s\" names free or bad inode %u", inum, name, de.inum);
      continue;
    }
    if(de.inum == inum && strcmp(name, ".") != 0 && !(inum == ROOTINO && strcmp(name, "..") == 0)){
      problem("directory %u: entry \"%s\" names the directory itself", inum, name);
      continue;
    }
    if(strcmp(name, ".") == 0){
      seen_dot = 1;
      if(de.inum != inum || off != 0)
        problem("directory %u: bad \".\" entry", inum);
      continue;                   // "." is not counted in nlink
    }
    links[de.inum]++;
    if(strcmp(name, "..") == 0){
      seen_dotdot = 1;
      if(off != 1)
        problem("directory %u: \"..\" is not the second entry", inum);
      continue;
    }
    if(dinode(de.inum)->type == T_DIR){
      if(de.inum == ROOTINO || parent[de.inum])
        problem("directory %u has more than one parent (also %u)", de.inum, inum);
      else
        parent[de.inum] = inum;
    }
  }
  if(!seen_dot || !seen_dotdot)
    problem("directory %u: missing \".\" or \"..\"", inum);
}

static uint
dotdot(struct dinode *d)
{
  struct dirent de;

  if(d->size < 2 * sizeof(de))
    return 0;
  read_file(d, sizeof(de), &de, sizeof(de));
  return de.inum;
}

// Does following parent[] up from directory inum reach the root? A walk
// longer than the number of inodes is a cycle.
static int
reaches_root(uint inum)
{
  uint steps;

  for(steps = 0; steps < sb.ninodes; steps++){
    if(inum == ROOTINO)
      return 1;
    if(inum == 0 || inum >= sb.ninodes)
      return 0;
    inum = parent[inum];
  }
  return 0;
}

static void
check_tree(void)
{
  struct dinode *d;
  uint inum;

  if(dinode(ROOTINO)->type != T_DIR){
    problem("root inode is not a directory");
    return;
  }
  for(inum = 1; inum < sb.ninodes; inum++)
    if(dinode(inum)->type == T_DIR)
      check_dir(inum, dinode(inum));
  for(inum = 1; inum < sb.ninodes; inum++){
    d = dinode(inum);
    if(d->type == 0)
      continue;
    if(d->type == T_DIR && d->nlink > 0){
      uint want = inum == ROOTINO ? ROOTINO : parent[inum];
      if(want == 0)
        problem("directory %u is in no directory", inum);
      else if(dotdot(d) != want)
        problem("directory %u: \"..\" is %u, should be %u", inum, dotdot(d), want);
      else if(!reaches_root(inum))
        problem("directory %u is in a cycle of directories, not under the root", inum);
    }
    if(d->nlink == 0 && links[inum] == 0){
      fprintf(stderr, "fsck: note: inode %u has no links (freed at next boot)\n", inum);
      continue;
    }
    if(d->nlink != links[inum])
      problem("inode %u: nlink %d but %d directory entries", inum, d->nlink, links[inum]);
  }
}

// ---- --dump ----------------------------------------------------------------

// Find name in directory d; 0 if absent.
static uint
lookup(struct dinode *d, const char *name)
{
  struct dirent de;
  uint off;

  for(off = 0; off + sizeof(de) <= d->size; off += sizeof(de)){
    read_file(d, off, &de, sizeof(de));
    if(de.inum && strncmp(de.name, name, DIRSIZ) == 0)
      return de.inum;
  }
  return 0;
}

// Inode named by an absolute path (symlinks are not followed); 0 if none.
static uint
resolve(const char *path)
{
  char name[DIRSIZ + 1];
  uint inum = ROOTINO, len;

  for(;;){
    while(*path == '/')
      path++;
    if(*path == 0)
      return inum;
    for(len = 0; path[len] && path[len] != '/'; len++)
      ;
    if(len > DIRSIZ || dinode(inum)->type != T_DIR)
      return 0;
    memcpy(name, path, len);
    name[len] = 0;
    path += len;
    if((inum = lookup(dinode(inum), name)) == 0 || inum >= sb.ninodes)
      return 0;
  }
}

static int
dump(const char *path)
{
  uint inum = resolve(path), off, m;
  struct dinode *d;
  char buf[BSIZE];

  if(inum == 0 || dinode(inum)->type == 0){
    fprintf(stderr, "fsck: %s: no such file\n", path);
    return 2;
  }
  d = dinode(inum);
  for(off = 0; off < d->size; off += m){
    m = d->size - off < BSIZE ? d->size - off : BSIZE;
    read_file(d, off, buf, m);
    if(fwrite(buf, 1, m, stdout) != m)
      return 1;
  }
  return 0;
}

int
main(int argc, char *argv[])
{
  struct stat st;
  uint ninodes_used = 0, nused = 0;
  const char *dumppath = 0;
  int fd;

  if(argc == 4 && strcmp(argv[2], "--dump") == 0)
    dumppath = argv[3];
  else if(argc == 4 && strcmp(argv[1], "--dump") == 0){
    dumppath = argv[2];
    argv[1] = argv[3];
  } else if(argc != 2){
    fprintf(stderr, "usage: fsck IMG [--dump PATH]\n");
    return 2;
  }
  if((fd = open(argv[1], O_RDONLY)) < 0 || fstat(fd, &st) < 0){
    perror(argv[1]);
    return 2;
  }
  nblocks_img = st.st_size / BSIZE;
  if(nblocks_img < 2){
    printf("fsck: image too small\n");
    return 1;
  }
  img = mmap(0, (size_t)nblocks_img * BSIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if(img == MAP_FAILED){
    perror("mmap");
    return 2;
  }
  if(replay_log() < 0 || check_super() < 0){
    printf("fsck: %d problem%s found\n", problems, problems == 1 ? "" : "s");
    return 1;
  }
  if(dumppath)
    return dump(dumppath);

  refs = calloc(sb.size, 1);
  links = calloc(sb.ninodes, sizeof(*links));
  parent = calloc(sb.ninodes, sizeof(*parent));
  if(!refs || !links || !parent){
    fprintf(stderr, "fsck: out of memory\n");
    return 2;
  }
  check_inodes(&ninodes_used);
  check_bitmap(&nused);
  check_tree();
  if(problems){
    printf("fsck: %d problem%s found\n", problems, problems == 1 ? "" : "s");
    return 1;
  }
  printf("fsck: ok, %u inodes, %u blocks used\n", ninodes_used, nused);
  return 0;
}
