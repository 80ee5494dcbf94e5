// bigfiletest: the largest file (direct + singly- + doubly-indirect
// blocks), EFBIG past it, holes, truncation, and many open files.
//   bigfiletest [BLOCKS] [NAME...]
// BLOCKS (a number) shrinks the big file for quick runs; without it the
// file has MAXFILE blocks (what `make test` runs). NAMEs pick tests.
// The big-file tests share the file /big and run in table order.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/fs.h"
#include "kernel/fsstat.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define BIG "/big"
#define CHUNK 64                     // blocks per write()/read() call
#define WPB (BSIZE / 4)              // words per block
#define DIND_START (NDIRECT + NINDIRECT)   // first block behind the doubly-indirect block

static uint nblocks = MAXFILE;       // blocks in the big file
static uint buf[CHUNK * WPB];

// Word i of file block bn, as the tests write it.
static uint
stamp(uint bn, uint i)
{
  return i == 0 ? bn : (bn * 2654435761u) ^ (i * 40503u) ^ 0xB16F11E5u;
}

// Fill n blocks of buf with the stamps of file blocks first.. .
static void
fill(uint *p, uint first, uint n)
{
  for (uint b = 0; b < n; b++)
    for (uint i = 0; i < WPB; i++)
      p[b * WPB + i] = stamp(first + b, i);
}

// Fail unless n blocks at p carry the stamps of file blocks first.. .
static void
verify(uint *p, uint first, uint n)
{
  for (uint b = 0; b < n; b++)
    for (uint i = 0; i < WPB; i++)
      if (p[b * WPB + i] != stamp(first + b, i))
        test_fail("block %d word %d: got 0x%x, want 0x%x", first + b, i,
                  p[b * WPB + i], stamp(first + b, i));
}

static struct fsstat
fs(void)
{
  struct fsstat st;
  if (fsstat(&st) < 0)
    test_fail("fsstat: %s", strerror(errno));
  return st;
}

// Disk blocks (data + index) a file of n blocks without holes uses.
static uint
footprint(uint n)
{
  uint total = n;
  if (n > NDIRECT)
    total++;                                   // the singly-indirect block
  if (n > DIND_START)
    total += 1 + (n - DIND_START + NINDIRECT - 1) / NINDIRECT;
  return total;
}

// Fail unless the file at fd reads as zeros over [off, off+len).
static void
check_zeros(int fd, uint off, uint len)
{
  static char z[4096];
  CHECK_EQ(lseek(fd, off, SEEK_SET), off);
  while (len > 0) {
    uint m = len < sizeof(z) ? len : sizeof(z);
    memset(z, 0x77, m);
    CHECK_EQ(read(fd, z, m), m);
    for (uint i = 0; i < m; i++)
      if (z[i] != 0)
        test_fail("byte %d of a hole reads 0x%x", off + i, z[i] & 0xFF);
    off += m;
    len -= m;
  }
}

// Write blocks [first, first+n) of fd with their stamps.
static void
write_blocks(int fd, uint first, uint n)
{
  CHECK_EQ(lseek(fd, first * BSIZE, SEEK_SET), first * BSIZE);
  for (uint bn = first; bn < first + n; bn += CHUNK) {
    uint m = first + n - bn < CHUNK ? first + n - bn : CHUNK;
    fill(buf, bn, m);
    int r = write(fd, buf, m * BSIZE);
    if (r != (int)(m * BSIZE))
      test_fail("write of blocks %d..%d returned %d: %s", bn, bn + m - 1, r,
                strerror(errno));
  }
}

// Read blocks [first, first+n) of fd and check their stamps.
static void
read_blocks(int fd, uint first, uint n)
{
  CHECK_EQ(lseek(fd, first * BSIZE, SEEK_SET), first * BSIZE);
  for (uint bn = first; bn < first + n; bn += CHUNK) {
    uint m = first + n - bn < CHUNK ? first + n - bn : CHUNK;
    int r = read(fd, buf, m * BSIZE);
    if (r != (int)(m * BSIZE))
      test_fail("read of blocks %d..%d returned %d: %s", bn, bn + m - 1, r,
                strerror(errno));
    verify(buf, bn, m);
  }
}

// ---- the biggest file ---------------------------------------------------

// Write the big file block by block; it takes exactly its blocks plus
// its index blocks from the free count.
static void
write_max(void)
{
  unlink(BIG);
  int fd = open(BIG, O_CREATE | O_RDWR);
  CHECK(fd >= 0);
  struct fsstat before = fs();
  int t0 = uptime();
  write_blocks(fd, 0, nblocks);
  int t1 = uptime();
  struct fsstat after = fs();
  struct stat st;
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, nblocks * BSIZE);
  close(fd);
  printf("bigfile: wrote %d blocks (%d KiB) in %d ticks\n", nblocks, nblocks, t1 - t0);
  if (before.free_blocks - after.free_blocks != footprint(nblocks))
    test_fail("file of %d blocks took %d blocks, want %d", nblocks,
              before.free_blocks - after.free_blocks, footprint(nblocks));
}

// One byte more than MAXFILE blocks fails with EFBIG and changes nothing;
// a write across the limit is cut short at it.
static void
efbig(void)
{
  if (nblocks != MAXFILE) {
    printf("bigfile: efbig skipped (file of %d blocks, not MAXFILE)\n", nblocks);
    return;
  }
  int fd = open(BIG, O_RDWR);
  CHECK(fd >= 0);
  struct fsstat before = fs();
  CHECK_EQ(lseek(fd, 0, SEEK_END), MAXFILESIZE);
  CHECK_ERR(write(fd, "x", 1), EFBIG);
  fill(buf, MAXFILE, 1);
  CHECK_ERR(write(fd, buf, BSIZE), EFBIG);
  CHECK_EQ(lseek(fd, MAXFILESIZE + 5000, SEEK_SET), MAXFILESIZE + 5000);
  CHECK_ERR(write(fd, "x", 1), EFBIG);
  // The last 100 bytes again (same contents) and 100 more: 100 written.
  fill(buf, MAXFILE - 1, 1);
  char *tail = (char *)buf + BSIZE - 100;
  CHECK_EQ(lseek(fd, MAXFILESIZE - 100, SEEK_SET), MAXFILESIZE - 100);
  CHECK_EQ(write(fd, tail, 200), 100);
  CHECK_ERR(write(fd, tail, 1), EFBIG);
  struct stat st;
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, MAXFILESIZE);
  close(fd);
  struct fsstat after = fs();
  CHECK_EQ(after.free_blocks, before.free_blocks);
}

// Read the big file back; every block carries its own stamp.
static void
read_max(void)
{
  int fd = open(BIG, O_RDONLY);
  CHECK(fd >= 0);
  int t0 = uptime();
  read_blocks(fd, 0, nblocks);
  int t1 = uptime();
  CHECK_EQ(read(fd, buf, BSIZE), 0);
  close(fd);
  printf("bigfile: read and checked %d blocks in %d ticks\n", nblocks, t1 - t0);
}

// Deleting the big file gives back every block of every level.
static void
unlink_max(void)
{
  struct fsstat before = fs();
  int t0 = uptime();
  CHECK(unlink(BIG) == 0);
  int t1 = uptime();
  struct fsstat after = fs();
  printf("bigfile: unlinked in %d ticks\n", t1 - t0);
  if (after.free_blocks - before.free_blocks != footprint(nblocks))
    test_fail("unlink freed %d blocks, want %d", after.free_blocks - before.free_blocks,
              footprint(nblocks));
  CHECK_EQ(after.free_inodes, before.free_inodes + 1);
  CHECK(open(BIG, O_RDONLY) < 0);
}

// ---- holes and truncation ------------------------------------------------

// lseek past the end, then write: the gap reads as zeros and takes no
// blocks, in the direct, indirect and doubly-indirect ranges.
static void
holes(void)
{
  struct fsstat s0 = fs();
  int fd = open("h", O_CREATE | O_RDWR);
  CHECK(fd >= 0);
  struct fsstat s1 = fs();
  // lseek alone does not grow the file.
  CHECK_EQ(lseek(fd, 5 * BSIZE, SEEK_SET), 5 * BSIZE);
  struct stat st;
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, 0);
  // direct range: block 5 written, 0..4 a hole.
  write_blocks(fd, 5, 1);
  check_zeros(fd, 0, 5 * BSIZE);
  CHECK_EQ(s1.free_blocks - fs().free_blocks, 1);
  // indirect range: block 100.
  write_blocks(fd, 100, 1);
  CHECK_EQ(s1.free_blocks - fs().free_blocks, 1 + 2);
  // doubly-indirect range, 40 MiB in: data + doubly-indirect + one index.
  uint far = 40 * 1024;
  write_blocks(fd, far, 1);
  CHECK_EQ(s1.free_blocks - fs().free_blocks, 3 + 3);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, (far + 1) * BSIZE);
  // A write in the middle of a block past the end: the rest of that
  // block before it, and the blocks between, read as zeros.
  CHECK_EQ(lseek(fd, (far + 3) * BSIZE + 500, SEEK_SET), (far + 3) * BSIZE + 500);
  CHECK_EQ(write(fd, "end", 3), 3);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, (far + 3) * BSIZE + 503);
  check_zeros(fd, (far + 1) * BSIZE, 2 * BSIZE + 500);
  check_zeros(fd, 6 * BSIZE, 94 * BSIZE);
  check_zeros(fd, 101 * BSIZE, 64 * BSIZE);
  check_zeros(fd, DIND_START * BSIZE - 3000, 6000);
  check_zeros(fd, (far - 70) * BSIZE, 70 * BSIZE);
  read_blocks(fd, 5, 1);
  read_blocks(fd, 100, 1);
  read_blocks(fd, far, 1);
  char e[4];
  CHECK_EQ(lseek(fd, (far + 3) * BSIZE + 500, SEEK_SET), (far + 3) * BSIZE + 500);
  CHECK_EQ(read(fd, e, 4), 3);
  CHECK(memcmp(e, "end", 3) == 0);
  close(fd);
  CHECK(unlink("h") == 0);
  CHECK_EQ(fs().free_blocks, s0.free_blocks);
}

// O_TRUNC frees the blocks of every level (direct, indirect, doubly
// indirect with several index blocks); the file then reads as new.
static void
trunc(void)
{
  uint n = DIND_START + 3 * NINDIRECT + 10;   // four second-level index blocks
  int fd = open("t", O_CREATE | O_RDWR);
  CHECK(fd >= 0);
  struct fsstat s0 = fs();
  write_blocks(fd, 0, n);
  CHECK_EQ(s0.free_blocks - fs().free_blocks, footprint(n));
  close(fd);
  fd = open("t", O_RDWR | O_TRUNC);
  CHECK(fd >= 0);
  CHECK_EQ(fs().free_blocks, s0.free_blocks);
  struct stat st;
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, 0);
  CHECK_EQ(read(fd, buf, BSIZE), 0);
  // Old contents must not come back: grow it again with a hole.
  CHECK_EQ(lseek(fd, DIND_START * BSIZE + 10, SEEK_SET), DIND_START * BSIZE + 10);
  CHECK_EQ(write(fd, "x", 1), 1);
  check_zeros(fd, 0, DIND_START * BSIZE + 10);
  close(fd);
  // O_TRUNC on a read-only open leaves the file alone.
  fd = open("t", O_RDONLY | O_TRUNC);
  CHECK(fd >= 0);
  CHECK(fstat(fd, &st) == 0);
  CHECK_EQ(st.size, DIND_START * BSIZE + 11);
  close(fd);
  CHECK(unlink("t") == 0);
  CHECK_EQ(fs().free_blocks, s0.free_blocks);
}

// Several writers grow files in the doubly-indirect range at once; each
// file comes back intact and the space returns after they are removed.
static void
concurrent(void)
{
  enum { NPROC = 3, N = DIND_START + 300 };
  struct fsstat s0 = fs();
  int pids[NPROC];
  for (int k = 0; k < NPROC; k++) {
    if ((pids[k] = test_fork()) == 0) {
      char name[8] = "c0";
      name[1] = '0' + k;
      int fd = open(name, O_CREATE | O_RDWR);
      CHECK(fd >= 0);
      write_blocks(fd, 0, N);
      read_blocks(fd, 0, N);
      close(fd);
      exit(0);
    }
  }
  for (int k = 0; k < NPROC; k++)
    CHECK_EQ(test_wait(pids[k]), 0);
  CHECK_EQ(s0.free_blocks - fs().free_blocks, NPROC * footprint(N));
  CHECK(unlink("c0") == 0 && unlink("c1") == 0 && unlink("c2") == 0);
  CHECK_EQ(fs().free_blocks, s0.free_blocks);
}

// ---- many open files -----------------------------------------------------

// Hold 500 distinct files open at once (the in-memory inode cache used to
// be a fixed table of 64); the in-memory inodes go away when closed.
static void
open_many(void)
{
  enum { N = 500 };
  static int fds[N];
  char name[16];
  int base = fs().mem_inodes;
  for (int i = 0; i < N; i++) {
    snprintf(name, sizeof(name), "f%d", i);
    if ((fds[i] = open(name, O_CREATE | O_RDWR)) < 0)
      test_fail("open of distinct file %d: %s", i, strerror(errno));
    CHECK_EQ(write(fds[i], name, strlen(name)), strlen(name));
  }
  struct fsstat st = fs();
  if ((int)st.mem_inodes < base + N)
    test_fail("%d inodes in memory with %d files open, want >= %d", st.mem_inodes, N,
              base + N);
  for (int i = 0; i < N; i++) {
    char got[16];
    snprintf(name, sizeof(name), "f%d", i);
    CHECK_EQ(lseek(fds[i], 0, SEEK_SET), 0);
    CHECK_EQ(read(fds[i], got, sizeof(got)), strlen(name));
    CHECK(memcmp(got, name, strlen(name)) == 0);
  }
  for (int i = 0; i < N; i++)
    close(fds[i]);
  CHECK_EQ(fs().mem_inodes, base);
  for (int i = 0; i < N; i++) {
    snprintf(name, sizeof(name), "f%d", i);
    CHECK(unlink(name) == 0);
  }
}

static struct test tests[] = {
  TEST(write_max),
  TEST(efbig),
  TEST(read_max),
  TEST(unlink_max),
  TEST(holes),
  TEST(trunc),
  TEST(concurrent),
  TEST(open_many),
};

int
main(int argc, char **argv)
{
  char *names[16];
  int n = 0;
  names[n++] = argv[0];
  for (int i = 1; i < argc && n < 16; i++) {
    if (argv[i][0] >= '0' && argv[i][0] <= '9') {
      nblocks = atoi(argv[i]);
      if (nblocks < 1 || nblocks > MAXFILE) {
        fprintf(2, "bigfiletest: BLOCKS must be 1..%d\n", MAXFILE);
        return 2;
      }
    } else {
      names[n++] = argv[i];
    }
  }
  names[n] = 0;
  test_set_timeout(60000);           // 10 minutes per test
  return test_run("bigfile", tests, sizeof(tests) / sizeof(tests[0]), n, names);
}
