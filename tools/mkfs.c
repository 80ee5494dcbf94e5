// mkfs: build a file-system image for the kernel (host tool).
//
//   mkfs IMG [--size BLOCKS] [--runcmd "TEXT"] FILES...
//
// Makes an image of FSSIZE blocks (or BLOCKS: tests that fill the disk use a
// small one) with an empty log, a root directory holding "." and "..", and
// one regular file per FILES argument, named after its last path component
// with a leading '_' removed. --runcmd stores TEXT as the file /runcmd.
// Only used blocks are written, so the image is sparse.
// Prints nothing on success; exits 1 with a message on failure.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include "kernel/types.h"
#include "kernel/param.h"
#define stat kernel_stat          // the kernel's struct stat, renamed
#include "kernel/stat.h"
#undef stat
#include "kernel/fs.h"

static int img;                       // image file descriptor
static struct superblock sb;
static uint next_block;               // next free data block
static uint next_inum = ROOTINO;      // next free inode
static struct dinode *inodes;         // all inodes, written at the end
static uint ndirents;
static struct dirent *rootdir;        // root directory contents

static void
die(const char *msg, const char *arg)
{
  fprintf(stderr, "mkfs: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
  exit(1);
}

static void
put_block(uint bno, const void *data)
{
  if(pwrite(img, data, BSIZE, (off_t)bno * BSIZE) != BSIZE)
    die("write failed", 0);
}

static uint
new_block(void)
{
  if(next_block >= sb.size)
    die("image full", 0);
  return next_block++;
}

// Write len bytes as the contents of inode inum, allocating its blocks
// (direct, then singly-, then doubly-indirect).
static void
put_data(uint inum, const char *data, uint len)
{
  struct dinode *d = &inodes[inum];
  uint nb = (len + BSIZE - 1) / BSIZE, i, rel;
  uint single[NINDIRECT], dbl[NINDIRECT], level2[NINDIRECT];
  uint l2no = 0, cur2 = (uint)-1;
  char blk[BSIZE];

  if(nb > MAXFILE)
    die("file too big", 0);
  memset(single, 0, sizeof(single));
  memset(dbl, 0, sizeof(dbl));
  for(i = 0; i < nb; i++){
    uint b = new_block();
    uint n = len - i * BSIZE < BSIZE ? len - i * BSIZE : BSIZE;
    memset(blk, 0, BSIZE);
    memcpy(blk, data + i * BSIZE, n);
    put_block(b, blk);
    if(i < NDIRECT){
      d->addrs[i] = b;
    } else if(i < NDIRECT + NINDIRECT){
      single[i - NDIRECT] = b;
    } else {
      rel = i - NDIRECT - NINDIRECT;
      if(rel / NINDIRECT != cur2){
        if(cur2 != (uint)-1)
          put_block(l2no, level2);
        cur2 = rel / NINDIRECT;
        l2no = new_block();
        dbl[cur2] = l2no;
        memset(level2, 0, sizeof(level2));
      }
      level2[rel % NINDIRECT] = b;
    }
  }
  if(nb > NDIRECT){
    d->addrs[NDIRECT] = new_block();
    put_block(d->addrs[NDIRECT], single);
  }
  if(nb > NDIRECT + NINDIRECT){
    put_block(l2no, level2);
    d->addrs[NDIRECT + 1] = new_block();
    put_block(d->addrs[NDIRECT + 1], dbl);
  }
  d->size = len;
}

static uint
new_inode(short type)
{
  if(next_inum >= sb.ninodes)
    die("out of inodes", 0);
  inodes[next_inum].type = type;
  inodes[next_inum].nlink = 1;
  return next_inum++;
}

static void
add_entry(const char *name, uint inum)
{
  uint i;

  if(strlen(name) == 0 || strlen(name) > DIRSIZ)
    die("bad file name (empty or longer than DIRSIZ)", name);
  for(i = 0; i < ndirents; i++)
    if(strncmp(rootdir[i].name, name, DIRSIZ) == 0)
      die("duplicate file name", name);
  rootdir = realloc(rootdir, (ndirents + 1) * sizeof(*rootdir));
  if(rootdir == 0)
    die("out of memory", 0);
  memset(&rootdir[ndirents], 0, sizeof(*rootdir));
  rootdir[ndirents].inum = inum;
  memcpy(rootdir[ndirents].name, name, strlen(name));   // NUL-padded by memset
  ndirents++;
}

// Read a whole host file into memory; *len gets its size.
static char *
slurp(const char *path, uint *len)
{
  struct stat st;
  char *buf;
  int fd = open(path, O_RDONLY);

  if(fd < 0 || fstat(fd, &st) < 0)
    die("cannot open", path);
  if((buf = malloc(st.st_size + 1)) == 0)
    die("out of memory", 0);
  if(read(fd, buf, st.st_size) != st.st_size)
    die("cannot read", path);
  close(fd);
  *len = st.st_size;
  return buf;
}

static void
add_file(const char *name, const char *data, uint len)
{
  uint inum = new_inode(T_FILE);

  add_entry(name, inum);
  put_data(inum, data, len);
}

// Largest --size: block numbers times sectors per block must fit the
// driver's 28-bit sector addresses.
#define MAXSIZE ((1u << 28) / (BSIZE / 512))

int
main(int argc, char *argv[])
{
  uint nbitmap, ninodeblocks, i, len, b, size = FSSIZE, nfiles = 0;
  const char *runcmd = 0, *name, **files;
  char *data, *end, blk[BSIZE];
  int argi;

  if(argc < 2)
    die("usage: mkfs IMG [--size BLOCKS] [--runcmd TEXT] FILES...", 0);
  if((files = calloc(argc, sizeof(*files))) == 0)
    die("out of memory", 0);
  for(argi = 2; argi < argc; argi++){
    int is_runcmd = strcmp(argv[argi], "--runcmd") == 0;
    int is_size = strcmp(argv[argi], "--size") == 0;
    if(!is_runcmd && !is_size){
      files[nfiles++] = argv[argi];
      continue;
    }
    if(++argi >= argc)
      die("option needs an argument", argv[argi - 1]);
    if(is_runcmd){
      runcmd = argv[argi];
    } else {
      size = strtoul(argv[argi], &end, 10);
      if(*end || size == 0 || size > MAXSIZE)
        die("--size: not a block count in range", argv[argi]);
    }
  }
  ninodeblocks = (NINODES + IPB - 1) / IPB;
  nbitmap = (size + BPB - 1) / BPB;
  sb.magic = FSMAGIC;
  sb.size = size;
  sb.ninodes = NINODES;
  sb.nlog = LOGSIZE;
  sb.logstart = 2;
  sb.inodestart = sb.logstart + sb.nlog;
  sb.bmapstart = sb.inodestart + ninodeblocks;
  next_block = sb.bmapstart + nbitmap;
  if(next_block >= size)
    die("--size: too small for the log, inodes and bitmap", 0);
  sb.nblocks = size - next_block;

  img = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0666);
  if(img < 0)
    die("cannot create", argv[1]);
  if(ftruncate(img, (off_t)size * BSIZE) < 0)
    die("cannot size the image", argv[1]);
  if((inodes = calloc(NINODES, sizeof(*inodes))) == 0)
    die("out of memory", 0);

  // Zeroed boot block, log and bitmap are already there (sparse zeros).
  memset(blk, 0, BSIZE);
  memcpy(blk, &sb, sizeof(sb));
  put_block(1, blk);

  if(new_inode(T_DIR) != ROOTINO)
    die("root is not inode 1", 0);
  add_entry(".", ROOTINO);
  add_entry("..", ROOTINO);

  for(i = 0; i < nfiles; i++){
    name = strrchr(files[i], '/');
    name = name ? name + 1 : files[i];
    if(name[0] == '_')
      name++;
    data = slurp(files[i], &len);
    add_file(name, data, len);
    free(data);
  }
  if(runcmd)
    add_file("runcmd", runcmd, strlen(runcmd));

  put_data(ROOTINO, (char *)rootdir, ndirents * sizeof(*rootdir));

  // Inode blocks.
  for(i = 0; i < ninodeblocks; i++)
    put_block(sb.inodestart + i, (char *)inodes + i * BSIZE);

  // Bitmap: every block below next_block is in use.
  for(i = 0; i < nbitmap; i++){
    memset(blk, 0, BSIZE);
    for(b = i * BPB; b < next_block && b < (i + 1) * BPB; b++)
      blk[(b % BPB) / 8] |= 1 << (b % 8);
    put_block(sb.bmapstart + i, blk);
  }
  if(close(img) < 0)
    die("close failed", argv[1]);
  return 0;
}
