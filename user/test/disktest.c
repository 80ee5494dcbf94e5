// disktest: running out of disk space. Writers fill the disk until write()
// fails with ENOSPC; after the files are deleted, the same amount fits
// again (no blocks were lost), and fsstat() counts every block and inode
// free again. This takes as long as writing the whole file system twice,
// hence its own suite, which make test runs on a 16 MiB disk
// (SUITE_DISK_BLOCKS in tests/run_all.py); it works on any size.
//   disktest [NAME...]   run all tests, or only the named ones
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/fs.h"
#include "kernel/fsstat.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define NWRITERS 4                 // the log commits concurrent writes together
#define FILEMAX (1024 * 1024)      // bytes per file before a writer starts another
#define CHUNK 16384

static char buf[CHUNK];

// Writer k: files dk_0, dk_1, ... until the disk is full. Reports the
// bytes written through fd out; exits 0, or 1 after an unexpected error.
static void
writer(int k, int out)
{
  memset(buf, 'a' + k, sizeof(buf));
  uint total = 0;
  for (int f = 0;; f++) {
    char name[16];
    snprintf(name, sizeof(name), "d%d_%d", k, f);
    int fd = open(name, O_CREATE | O_WRONLY);
    if (fd < 0) {
      if (errno != ENOSPC)
        test_fail("create %s: %s", name, strerror(errno));
      break;
    }
    uint size = 0;
    int err = 0;
    while (size < FILEMAX) {
      int n = write(fd, buf, sizeof(buf));
      if (n < 0) {
        err = errno;
        break;
      }
      size += n;
    }
    close(fd);
    total += size;
    if (err == ENOSPC)
      break;
    if (err)
      test_fail("write %s: %s after %d bytes", name, strerror(err), size);
  }
  write(out, &total, sizeof(total));
  exit(0);
}

// Fill the disk with NWRITERS writers at once; the bytes they wrote.
static uint
fill(void)
{
  int p[2];
  CHECK(pipe(p) == 0);
  for (int k = 0; k < NWRITERS; k++)
    if (test_fork() == 0)
      writer(k, p[1]);
  close(p[1]);
  uint sum = 0, part;
  int got = 0;
  while (read(p[0], &part, sizeof(part)) == sizeof(part)) {
    sum += part;
    got++;
  }
  close(p[0]);
  for (int k = 0; k < NWRITERS; k++)
    CHECK_EQ(test_wait(0), 0);
  CHECK_EQ(got, NWRITERS);
  return sum;
}

// Delete every file the writers made.
static void
unfill(void)
{
  for (int k = 0; k < NWRITERS; k++) {
    for (int f = 0;; f++) {
      char name[16];
      snprintf(name, sizeof(name), "d%d_%d", k, f);
      if (unlink(name) < 0)
        break;
    }
  }
}

static struct fsstat
fs_now(void)
{
  struct fsstat fs;
  if (fsstat(&fs) < 0)
    test_fail("fsstat: %s", strerror(errno));
  return fs;
}

static void
out_of_disk(void)
{
  struct fsstat empty = fs_now();
  uint first = fill();
  if (first < 1024 * 1024)
    test_fail("only %d bytes fit on the disk", first);
  struct fsstat full = fs_now();
  if (full.free_blocks != 0)
    test_fail("ENOSPC with %d blocks still free", full.free_blocks);
  if (first / BSIZE > empty.free_blocks)
    test_fail("wrote %d blocks of data, but only %d were free", first / BSIZE,
              empty.free_blocks);
  // full: another file cannot get a block either
  int fd = open("more", O_CREATE | O_WRONLY);
  if (fd >= 0) {
    CHECK_ERR(write(fd, buf, sizeof(buf)), ENOSPC);
    close(fd);
    CHECK(unlink("more") == 0);
  } else {
    CHECK_EQ(errno, ENOSPC);
  }
  unfill();
  // every block and inode is free again
  struct fsstat after = fs_now();
  CHECK_EQ(after.free_blocks, empty.free_blocks);
  CHECK_EQ(after.free_inodes, empty.free_inodes);
  uint second = fill();
  unfill();
  after = fs_now();
  CHECK_EQ(after.free_blocks, empty.free_blocks);
  CHECK_EQ(after.free_inodes, empty.free_inodes);
  // Writers race for the last blocks, so the files (and the indirect blocks
  // they need) may split a little differently: allow 2 blocks per writer.
  int slack = 2 * NWRITERS * BSIZE;
  if (second + slack < first || second > first + slack)
    test_fail("the first fill took %d bytes, the second %d: space was lost",
              first, second);
}

static struct test tests[] = {
  TEST(out_of_disk),
};

int
main(int argc, char **argv)
{
  test_set_timeout(60000);
  return test_run("disktest", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
