// pressuretest: allocations made for a process wait for reclaim. With
// memory kept full by a process whose pages reclaim can send to swap,
// mmap (page tables, mapping records, MAP_POPULATE), pipes, files, fork
// and exec all succeed; with memory and swap both full they fail cleanly
// with ENOMEM, and every page and swap slot comes back afterwards. Runs
// in a 32 MiB guest with 64 MiB of swap (tests/run_all.py), like swaptest.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/mman.h"
#include "kernel/memstat.h"
#include "kernel/fcntl.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define PG 4096
#define MiB (1024 * 1024)
#define RW (PROT_READ | PROT_WRITE)

static uint
total_pages(void)
{
  return test_memstat().total_pages;
}

// A child that keeps memory full for the test: round and round a region
// of n pages, it replaces one page at a time with a fresh one made at
// once (MAP_FIXED | MAP_POPULATE), retrying at once when that fails, so
// it grabs every page that comes free and holds n pages at most (reclaim
// sends the older ones to swap). It counts the pages it made in
// *hog_made (a shared page) until it is killed. Returns its pid once it
// has made n pages.
static volatile uint *hog_made;

static int
hog_start(uint n)
{
  int p[2], pid;
  char c;

  hog_made = mmap(0, PG, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if(hog_made == MAP_FAILED)
    test_fail("mmap: %s", strerror(errno));
  if(pipe(p) < 0)
    test_fail("pipe: %s", strerror(errno));
  if((pid = test_fork()) == 0){
    char *m = mmap(0, n * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *q;
    uint i;
    close(p[0]);
    if(m == MAP_FAILED)
      exit(2);
    for(i = 0; ; i = (i + 1) % n){
      while((q = mmap(m + i * PG, PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE,
                      -1, 0)) == MAP_FAILED)
        ;
      *q = i;
      if(++*hog_made == n)
        close(p[1]);
    }
  }
  close(p[1]);
  if(read(p[0], &c, 1) != 0)
    test_fail("hog: unexpected byte");
  close(p[0]);
  return pid;
}

// The hog must still be at work (memory stayed full all along); stop it.
static void
hog_stop(int pid)
{
  uint made = *hog_made;
  int st, t;

  for(t = 0; t < 500 && *hog_made == made; t++)
    sleep(1);
  if(*hog_made == made)
    test_fail("the memory hog stopped early (after %d pages)", made);
  kill(pid);
  CHECK(wait(&st) == pid);
  CHECK_EQ(munmap((void *)hog_made, PG), 0);
  CHECK_EQ(test_swap_audit(), 0);
}

#define NREGIONS 96

// With memory kept full by a hog whose pages reclaim can swap, mappings
// that need kernel memory (a mapping record, page tables for sparse
// touches, pages made at once by MAP_POPULATE) all succeed: the
// allocations wait for reclaim instead of failing.
static void
pressure_mmap(void)
{
  uint n = total_pages(), half = n / 2, i;
  char *sparse[NREGIONS], *pop[NREGIONS], *big;
  int hog;

  test_need_swap();
  hog = hog_start(n * 9 / 8);
  big = mmap(0, half * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if(big == MAP_FAILED)
    test_fail("mmap of %d pages with MAP_POPULATE, memory full: %s", half, strerror(errno));
  test_fill_pages(big, half, 21);
  for(i = 0; i < NREGIONS; i++){
    sparse[i] = mmap(0, 4 * MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if(sparse[i] == MAP_FAILED)
      test_fail("mmap %d of 4 MiB, memory full: %s", i, strerror(errno));
    test_fill_pages(sparse[i], 1, 100 + i);                        // one page table each
    test_fill_pages(sparse[i] + 2 * MiB + 5 * PG, 1, 300 + i);
    pop[i] = mmap(0, 2 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if(pop[i] == MAP_FAILED)
      test_fail("mmap %d of 2 pages with MAP_POPULATE, memory full: %s", i, strerror(errno));
    test_fill_pages(pop[i], 2, 500 + i);
  }
  for(i = 0; i < NREGIONS; i++){
    test_verify_pages(sparse[i], 1, 100 + i, "sparse region");
    test_verify_pages(sparse[i] + 2 * MiB + 5 * PG, 1, 300 + i, "sparse region, second page");
    test_verify_pages(pop[i], 2, 500 + i, "populated region");
    CHECK_EQ(munmap(sparse[i], 4 * MiB), 0);
    CHECK_EQ(munmap(pop[i], 2 * PG), 0);
  }
  test_verify_pages(big, half, 21, "populated under pressure");
  CHECK_EQ(munmap(big, half * PG), 0);
  hog_stop(hog);
}

// With memory kept full by a hog whose pages reclaim can swap, pipes,
// files and a shell that forks and execs all work.
static void
pressure_calls(void)
{
  char name[16], buf[16], out[64];
  int i, fds[2], fd, hog;

  test_need_swap();
  hog = hog_start(total_pages() * 9 / 8);
  for(i = 0; i < 32; i++){
    if(pipe(fds) < 0)
      test_fail("pipe %d, memory full: %s", i, strerror(errno));
    CHECK_EQ(write(fds[1], "pressure", 8), 8);
    CHECK_EQ(read(fds[0], buf, 8), 8);
    CHECK(memcmp(buf, "pressure", 8) == 0);
    close(fds[0]);
    close(fds[1]);
    snprintf(name, sizeof(name), "f%d", i);
    if((fd = open(name, O_CREATE | O_RDWR)) < 0)
      test_fail("open %s, memory full: %s", name, strerror(errno));
    if(write(fd, name, 3) != 3)
      test_fail("write %s, memory full: %s", name, strerror(errno));
    close(fd);
    if((fd = open(name, O_RDONLY)) < 0)
      test_fail("open %s again, memory full: %s", name, strerror(errno));
    if(read(fd, buf, 3) != 3 || memcmp(buf, name, 3) != 0)
      test_fail("read %s, memory full: %s", name, strerror(errno));
    close(fd);
    if(i % 4 == 0){
      if(test_sh("echo ok", out, sizeof(out), 1) != 0 || strcmp(out, "ok\n") != 0)
        test_fail("sh -c 'echo ok' %d, memory full: printed '%s'", i, out);
    }
  }
  hog_stop(hog);
}

// What the child of full_calls reports (its exit status).
static const char *full_why[] = {
  "ok", "mmap of 1 MiB failed, not with ENOMEM", "mmap of a page failed, not with ENOMEM",
  "swap not nearly full when memory ran out", "mmap of 1024 pages in full memory: not ENOMEM",
  "pipe in full memory: not ENOMEM", "open in full memory: not ENOMEM",
  "fork in full memory: not ENOMEM", "memstat failed",
};

// The child of full_calls: fill memory and swap with MAP_POPULATE (it
// waits for reclaim until swap is full too), then try the calls; exit
// with the index of what went wrong in full_why.
static void
full_child(void)
{
  struct memstat ms;
  int i, fds[2], fd, pid, st;

  while(mmap(0, MiB, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0) != MAP_FAILED)
    ;
  if(errno != ENOMEM)
    exit(1);
  for(i = 0; i < 4096 && mmap(0, PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0) != MAP_FAILED; i++)
    ;
  if(errno != ENOMEM)
    exit(2);
  if(memstat(&ms) < 0)
    exit(8);
  if(ms.swap_used < ms.swap_pages * 7 / 8)
    exit(3);
  if(mmap(0, 1024 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0) != MAP_FAILED ||
     errno != ENOMEM)
    exit(4);
  for(i = 0; i < 4; i++){
    if(pipe(fds) == 0){
      close(fds[0]);
      close(fds[1]);
    } else if(errno != ENOMEM)
      exit(5);
  }
  if((fd = open("full", O_CREATE | O_RDWR)) >= 0)
    close(fd);
  else if(errno != ENOMEM)
    exit(60 + errno);
  if((pid = fork()) == 0)
    exit(0);
  if(pid > 0)
    wait(&st);
  else if(errno != ENOMEM)
    exit(7);
  exit(0);
}

// Memory and swap both full (reached by allocations that wait for
// reclaim): mmap, pipe, open and fork either work or fail with ENOMEM,
// nothing panics, and every page and swap slot comes back afterwards.
static void
full_calls(void)
{
  struct memstat before = test_memstat(), after;
  int pid, st, tries;

  test_need_swap();
  if((pid = test_fork()) == 0)
    full_child();
  CHECK(wait(&st) == pid);
  if(st != 0)
    test_fail("memory and swap full: %s (status %d)",
              st > 0 && st < (int)(sizeof(full_why) / sizeof(full_why[0])) ? full_why[st] :
              "killed", st);
  after = test_memstat();
  for(tries = 0; after.swap_used > before.swap_used && tries < 20; tries++){
    sleep(1);
    after = test_memstat();
  }
  CHECK(after.swap_used < after.swap_pages / 8);
  CHECK_EQ(test_swap_audit(), 0);
  char out[64];
  CHECK_EQ(test_sh("echo ok", out, sizeof(out), 1), 0);
  CHECK(strcmp(out, "ok\n") == 0);
}

int
main(int argc, char **argv)
{
  static struct test tests[] = {
    TEST(pressure_mmap), TEST(pressure_calls), TEST(full_calls),
  };

  test_set_timeout(30000);
  return test_run("pressuretest", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
