// filepagetest: file pages under memory pressure, with no swap disk. A
// file mapping larger than the guest's memory works: reclaim takes mapped
// file pages out of every page table, drops the clean ones (the next
// touch reads them back from the file) and writes the dirty ones back to
// their file first. Counts are checked against the kernel's counters
// (reclaim_file_clean, reclaim_file_dirty, writeback_evict); a failed
// write-back keeps its page. Runs in a 32 MiB guest without swap, on a
// 40 MiB disk (tests/run_all.py); swaptest has the same with swap.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/mman.h"
#include "kernel/memstat.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define PG 4096
#define CHUNK 16                        // pages per write() or read()

static uint buf[CHUNK * PG / 4];

// Pages of guest memory the buddy allocator manages.
static uint
total_pages(void)
{
  return test_memstat().total_pages;
}

// A file mapping of this many pages does not fit in memory.
static uint
too_big(void)
{
  return total_pages() * 9 / 8;
}

// Does page i (at w) hold the pattern (and zeros elsewhere if sparse)?
static int
page_ok(uint *w, uint tag, uint i, int sparse)
{
  uint k;

  if(w[0] != test_pattern(tag, i, 0) || w[512] != test_pattern(tag, i, 512) ||
     w[1023] != test_pattern(tag, i, 1023))
    return 0;
  if(sparse)
    for(k = 1; k < 1023; k++)
      if(k != 512 && w[k] != 0)
        return 0;
  return 1;
}

// Check the file with read(): every page holds the pattern, and zeros
// elsewhere if sparse (written only through a mapping).
static void
check_read(const char *path, uint npages, uint tag, int sparse)
{
  uint i, k, n;
  int fd;

  if((fd = open(path, O_RDONLY)) < 0)
    test_fail("open %s: %s", path, strerror(errno));
  for(i = 0; i < npages; i += n){
    n = npages - i < CHUNK ? npages - i : CHUNK;
    if(read(fd, buf, n * PG) != (int)(n * PG))
      test_fail("read of pages %d..%d: %s", i, i + n, strerror(errno));
    for(k = 0; k < n; k++)
      if(!page_ok(buf + k * PG / 4, tag, i + k, sparse))
        test_fail("read(): page %d of %d holds 0x%x, want 0x%x", i + k, npages,
                  buf[k * PG / 4], test_pattern(tag, i + k, 0));
  }
  close(fd);
}

// Make path a file of npages pages holding the pattern (with write()).
static void
make_file(const char *path, uint npages, uint tag)
{
  uint i, k, n;
  int fd;

  if((fd = open(path, O_CREATE | O_RDWR)) < 0)
    test_fail("create %s: %s", path, strerror(errno));
  memset(buf, 0, sizeof(buf));
  for(i = 0; i < npages; i += n){
    n = npages - i < CHUNK ? npages - i : CHUNK;
    for(k = 0; k < n; k++){
      buf[k * PG / 4] = test_pattern(tag, i + k, 0);
      buf[k * PG / 4 + 512] = test_pattern(tag, i + k, 512);
      buf[k * PG / 4 + 1023] = test_pattern(tag, i + k, 1023);
    }
    if(write(fd, buf, n * PG) != (int)(n * PG))
      test_fail("write of pages %d..%d: %s", i, i + n, strerror(errno));
  }
  close(fd);
}

// Map npages of path with prot and flags; fails the test if mmap does.
static char *
map(const char *path, uint npages, int prot, int flags, int omode)
{
  char *p;
  int fd;

  if((fd = open(path, omode)) < 0)
    test_fail("open %s: %s", path, strerror(errno));
  p = mmap(0, npages * PG, prot, flags, fd, 0);
  if(p == MAP_FAILED)
    test_fail("mmap of %d pages: %s", npages, strerror(errno));
  close(fd);
  return p;
}

// A shared writable mapping of a file larger than memory is written
// through: the dirty pages reclaim takes are written back to the file
// (writeback_evict, reclaim_file_dirty), and read() sees every store.
// A second pass stores again while reclaim writes pages back (a page
// stored to during its write-back must keep the new store).
static void
shared_dirty(void)
{
  uint n = too_big(), dirty0, wb0, wb;
  int fd, err0 = sysctl("vm.reclaim_errors", -1);
  char *p;

  if((fd = open("big", O_CREATE | O_RDWR)) < 0 || ftruncate(fd, n * PG) < 0)
    test_fail("make a file of %d pages: %s", n, strerror(errno));
  close(fd);
  dirty0 = test_vmcounter(VM_RECLAIM_FILE_DIRTY);
  wb0 = test_vmcounter(VM_WB_EVICT);
  p = map("big", n, PROT_READ | PROT_WRITE, MAP_SHARED, O_RDWR);
  test_fill_pages(p, n, 1);
  wb = test_vmcounter(VM_WB_EVICT) - wb0;
  if(wb < n - total_pages())
    test_fail("%d pages stored, %d written back by reclaim, want at least %d", n, wb,
              n - total_pages());
  CHECK(test_vmcounter(VM_RECLAIM_FILE_DIRTY) - dirty0 >= n - total_pages());
  check_read("big", n, 1, 1);            // pages in the cache or on disk: the file
  test_verify_pages(p, n, 1, "read back through the mapping");
  test_fill_pages(p, n, 5);
  check_read("big", n, 5, 1);
  CHECK_EQ(munmap(p, n * PG), 0);
  CHECK_EQ(sysctl("vm.drop_caches", 1) >= 0, 1);
  check_read("big", n, 5, 1);            // from the disk now
  CHECK_EQ(sysctl("vm.reclaim_errors", -1), err0);
  CHECK_EQ(unlink("big"), 0);
}

// A read-only mapping of a file larger than memory, read twice: the
// clean pages reclaim drops (reclaim_file_clean) are read back from the
// file the second time, with the right data, each a major fault
// (fault_file_major). Then a private mapping
// (MAP_PRIVATE) of it: the cache pages it maps read-only come and go the
// same way; the pages it stores to are its own copies (kept: no swap,
// so only a few), and the file does not change.
static void
readonly_twice(void)
{
  uint n = too_big(), clean0, miss0, major0, i;
  char *p;

  make_file("ro", n, 2);
  CHECK_EQ(sysctl("vm.drop_caches", 1) >= 0, 1);
  clean0 = test_vmcounter(VM_RECLAIM_FILE_CLEAN);
  miss0 = test_vmcounter(VM_PCACHE_MISSES);
  major0 = test_vmcounter(VM_FAULT_FILE_MAJOR);
  p = map("ro", n, PROT_READ, MAP_SHARED, O_RDONLY);
  test_verify_pages(p, n, 2, "first pass");
  test_verify_pages(p, n, 2, "second pass");
  if(test_vmcounter(VM_RECLAIM_FILE_CLEAN) - clean0 < n - total_pages())
    test_fail("only %d clean file pages reclaimed", test_vmcounter(VM_RECLAIM_FILE_CLEAN) - clean0);
  CHECK(test_vmcounter(VM_PCACHE_MISSES) - miss0 >= n + n - total_pages());  // read back
  if(test_vmcounter(VM_FAULT_FILE_MAJOR) - major0 < n + n - total_pages())
    test_fail("%d major file faults reading %d pages twice, want at least %d",
              test_vmcounter(VM_FAULT_FILE_MAJOR) - major0, n, n + n - total_pages());
  CHECK_EQ(munmap(p, n * PG), 0);

  p = map("ro", n, PROT_READ | PROT_WRITE, MAP_PRIVATE, O_RDONLY);
  for(i = 0; i < 64; i++)
    ((uint *)(p + i * PG))[0] = 0xdeadbeef;
  for(i = 64; i < n; i++)
    if(!page_ok((uint *)(p + i * PG), 2, i, 0))
      test_fail("private mapping: page %d of %d holds 0x%x", i, n, *(uint *)(p + i * PG));
  for(i = 0; i < 64; i++)
    CHECK_EQ(((uint *)(p + i * PG))[0], 0xdeadbeef);
  CHECK_EQ(munmap(p, n * PG), 0);
  check_read("ro", 64, 2, 0);           // the private stores did not reach the file
  CHECK_EQ(unlink("ro"), 0);
}

// Write 64 KiB pieces to path until the disk is full (ENOSPC).
static void
fill_disk(const char *path)
{
  int fd, r;

  if((fd = open(path, O_CREATE | O_RDWR)) < 0)
    test_fail("create %s: %s", path, strerror(errno));
  memset(buf, 0x77, sizeof(buf));
  while((r = write(fd, buf, sizeof(buf))) > 0)
    ;
  if(errno != ENOSPC)
    test_fail("filling the disk: %s, want ENOSPC", strerror(errno));
  close(fd);
}

// A write-back by reclaim that fails (here the disk is full, so the pages
// of a sparse file get no blocks) keeps the page in memory, dirty, and is
// counted (vm.reclaim_errors); nothing is lost: once there is room, msync
// writes the pages and read() sees them.
static void
writeback_error(void)
{
  uint n = 64, err0;
  int fd, pid, st;
  char *p;

  if((fd = open("sparse", O_CREATE | O_RDWR)) < 0 || ftruncate(fd, n * PG) < 0)
    test_fail("make a sparse file: %s", strerror(errno));
  p = mmap(0, n * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if(p == MAP_FAILED)
    test_fail("mmap: %s", strerror(errno));
  test_fill_pages(p, n, 4);
  fill_disk("filler");
  err0 = sysctl("vm.reclaim_errors", -1);
  if((pid = fork()) < 0)
    test_fail("fork: %s", strerror(errno));
  if(pid == 0){                         // fill memory: reclaim tries the dirty pages
    uint i;
    for(i = 0; ; i++){
      char *q = sbrk(PG);
      if(q == (char *)-1)
        exit(2);
      q[0] = i;
    }
  }
  CHECK(wait(&st) == pid);
  if(st != -1)
    test_fail("the hog ended with status %d, want -1 (killed: out of memory)", st);
  if(sysctl("vm.reclaim_errors", -1) == (int)err0)
    test_fail("no failed write-back counted with the disk full");
  test_verify_pages(p, n, 4, "pages whose write-back failed");
  CHECK_EQ(unlink("filler"), 0);
  CHECK_EQ(msync(p, n * PG, MS_SYNC), 0);
  CHECK_EQ(munmap(p, n * PG), 0);
  close(fd);
  CHECK_EQ(sysctl("vm.drop_caches", 1) >= 0, 1);
  check_read("sparse", n, 4, 1);
  CHECK_EQ(unlink("sparse"), 0);
}

int
main(int argc, char **argv)
{
  static struct test tests[] = {
    TEST(shared_dirty), TEST(readonly_twice), TEST(writeback_error),
  };

  test_set_timeout(30000);
  return test_run("filepagetest", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
