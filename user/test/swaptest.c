// swaptest: memory pressure. Pages go to the swap disk and come back with
// the right contents: a working set twice the guest's memory, fork of a
// process whose pages are in swap, every replacement policy, the
// dirty-bit saving, a clean failure when memory and swap are both full
// (every page and swap slot comes back afterwards), and a shared file
// mapping larger than memory (its pages go back to the file, not to swap). Counts are
// checked against the kernel's counters (vmstat). Runs in a 32 MiB guest
// with 64 MiB of swap (tests/run_all.py).
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/mman.h"
#include "kernel/memstat.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define PG 4096
#define MiB (1024 * 1024)
#define RW (PROT_READ | PROT_WRITE)

// Heap pages for n pages; fails the test if sbrk does.
static char *
grab(uint npages)
{
  char *p = sbrk(npages * PG);

  if(p == (char *)-1)
    test_fail("sbrk(%d pages): %s", npages, strerror(errno));
  return p;
}

// Words 0, 512 and 1023 of file page i, with read() (fd's offset moves).
static int
pread_words(int fd, uint i, uint *word)
{
  static uint pg[PG / 4];

  if(lseek(fd, i * PG, 0) < 0 || read(fd, pg, PG) != PG)
    return -1;
  word[0] = pg[0];
  word[1] = pg[512];
  word[2] = pg[1023];
  return 0;
}

// Pages of guest memory the buddy allocator manages.
static uint
total_pages(void)
{
  return test_memstat().total_pages;
}

// A working set of 64 MiB (twice a 32 MiB guest's memory, and more than
// all of it in any case) is written, then read back twice: every byte
// checked comes back, through major faults counted by the kernel.
static void
twice_memory(void)
{
  uint n = 64 * MiB / PG, out0, in0, major0;
  char *p;

  test_need_swap();
  if(n < 2 * total_pages())
    n = 2 * total_pages();
  out0 = test_vmcounter(VM_SWAP_OUT);
  in0 = test_vmcounter(VM_SWAP_IN);
  major0 = test_vmcounter(VM_FAULT_SWAP);
  p = grab(n);
  test_fill_pages(p, n, 1);
  test_verify_pages(p, n, 1, "first pass");
  test_verify_pages(p, n, 1, "second pass");
  CHECK(test_vmcounter(VM_SWAP_OUT) - out0 >= n - total_pages());
  CHECK(test_vmcounter(VM_SWAP_IN) - in0 >= n - total_pages());
  CHECK_EQ(test_vmcounter(VM_FAULT_SWAP) - major0, test_vmcounter(VM_SWAP_IN) - in0);
  CHECK_EQ(test_swap_audit(), 0);
}

// A process whose pages are mostly in swap forks: the child sees every
// page (read back from the slots the parent's entries share), changes
// them, and the parent still sees its own.
static void
fork_swapped(void)
{
  uint n = total_pages() * 5 / 4;       // twice that once both have their own: fits

  char *p;
  int pid, st;

  test_need_swap();
  p = grab(n);
  test_fill_pages(p, n, 2);
  if((pid = fork()) < 0)
    test_fail("fork: %s", strerror(errno));
  if(pid == 0){
    test_verify_pages(p, n, 2, "child");
    test_fill_pages(p, n, 3);
    test_verify_pages(p, n, 3, "child after its stores");
    exit(0);
  }
  CHECK(wait(&st) == pid);
  CHECK_EQ(st, 0);
  test_verify_pages(p, n, 2, "parent after the child");
  CHECK_EQ(test_swap_audit(), 0);
}

// Shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS) larger than memory:
// its pages go to swap out of the shared object and come back into it, so
// a child's stores to swapped-out pages reach the parent.
static void
shared_swapped(void)
{
  uint n = total_pages() * 5 / 4, out0, major0;
  char *p;
  int pid, st;

  test_need_swap();
  p = mmap(0, n * PG, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if(p == MAP_FAILED)
    test_fail("mmap: %s", strerror(errno));
  out0 = test_vmcounter(VM_SWAP_OUT);
  test_fill_pages(p, n, 7);
  major0 = test_vmcounter(VM_FAULT_SWAP);
  test_verify_pages(p, n, 7, "shared, read back");
  if(test_vmcounter(VM_SWAP_OUT) - out0 < n - total_pages())
    test_fail("only %d pages went to swap", test_vmcounter(VM_SWAP_OUT) - out0);
  if(test_vmcounter(VM_FAULT_SWAP) == major0)   // shared pages read back are major faults too
    test_fail("no swap fault counted reading back %d shared pages", n);
  if((pid = fork()) < 0)
    test_fail("fork: %s", strerror(errno));
  if(pid == 0){
    test_verify_pages(p, n, 7, "child");
    test_fill_pages(p, n, 8);
    exit(0);
  }
  CHECK(wait(&st) == pid);
  CHECK_EQ(st, 0);
  test_verify_pages(p, n, 8, "parent sees the child's stores");
  CHECK_EQ(test_swap_audit(), 0);
  CHECK_EQ(munmap(p, n * PG), 0);
  CHECK_EQ(test_swap_audit(), 0);
}

// The same workload under each policy completes with the right data, and
// each one evicts (the counts differ; bench/swap compares them).
static void
policies(void)
{
  static const char *names[] = { "fifo", "clock", "random", "lru" };
  uint n = total_pages() * 9 / 8, out0, pol;
  char *p;
  int old;

  test_need_swap();
  old = sysctl("vm.policy", -1);
  p = grab(n);
  for(pol = 0; pol < 4; pol++){
    CHECK(sysctl("vm.policy", pol) >= 0);
    out0 = test_vmcounter(VM_SWAP_OUT);
    test_fill_pages(p, n, 10 + pol);
    test_verify_pages(p, n, 10 + pol, names[pol]);
    if(test_vmcounter(VM_SWAP_OUT) == out0)
      test_fail("policy %s: no page went to swap", names[pol]);
  }
  sysctl("vm.policy", old);
  CHECK_ERR(sysctl("vm.policy", 4), EINVAL);
}

// Pages read back from swap and only read again are not written again:
// the second eviction of an unchanged page saves its write (counted in
// swap_writes_saved); with vm.swap_dirtybit=0 every eviction writes.
static void
dirty_bit(void)
{
  uint n = total_pages() * 9 / 8, saved0, saved, written0;
  char *p;
  int old;

  test_need_swap();
  p = grab(n);
  test_fill_pages(p, n, 4);
  test_verify_pages(p, n, 4, "read back");         // pages come back clean (read-only)
  saved0 = test_vmcounter(VM_SWAP_WRITES_SAVED);
  test_verify_pages(p, n, 4, "read back again");   // evicting them again needs no write
  saved = test_vmcounter(VM_SWAP_WRITES_SAVED) - saved0;
  if(saved == 0)
    test_fail("no write saved evicting %d unchanged pages", n);
  old = sysctl("vm.swap_dirtybit", 0);
  saved0 = test_vmcounter(VM_SWAP_WRITES_SAVED);
  written0 = test_vmcounter(VM_SWAP_WRITES);
  test_verify_pages(p, n, 4, "without the dirty bit");
  test_verify_pages(p, n, 4, "without the dirty bit, again");
  sysctl("vm.swap_dirtybit", old);
  CHECK_EQ(test_vmcounter(VM_SWAP_WRITES_SAVED) - saved0, 0);
  CHECK(test_vmcounter(VM_SWAP_WRITES) - written0 > 0);
}

// A store to a page read back from swap makes it dirty: its next
// eviction writes it (the new contents come back, not the old copy).
static void
store_after_swapin(void)
{
  uint n = total_pages() * 9 / 8;
  char *p;

  test_need_swap();
  p = grab(n);
  test_fill_pages(p, n, 5);
  test_verify_pages(p, n, 5, "read back");
  test_fill_pages(p, n, 6);                        // stores to pages that have a swap copy
  test_verify_pages(p, n, 6, "after the stores");
  test_verify_pages(p, n, 6, "after the stores, again");
}

// The audit is exact while processes keep swapping: a child cycles
// through more pages than memory holds, reading each (a major fault: the
// page keeps its swap copy) and storing to it (the copy's reference goes),
// while the parent audits again and again. Every audit that could hold
// every space must find every slot's count right.
static void
audit_while_swapping(void)
{
  uint n = total_pages() * 5 / 4, i, *w;
  int pid, k, r, exact = 0, wrong = 0;
  char *p;

  test_need_swap();
  p = grab(n);
  test_fill_pages(p, n, 7);
  if((pid = test_fork()) == 0){
    for(;;)
      for(i = 0; i < n; i++){
        w = (uint *)(p + i * PG);
        w[1] = w[0] + 1;
      }
  }
  for(k = 0; k < 100; k++){
    sleep(1);
    if((r = test_swap_audit()) == 0)
      exact++;
    else if(r > 0)
      wrong++;
  }
  kill(pid);
  CHECK(wait(0) == pid);
  if(wrong)
    test_fail("%d of 100 audits found slot counts wrong (%d exact)", wrong, exact);
  CHECK(exact >= 25);                   // the audit could look, most of the time
}

// The audit while other processes fork and exit with most of their pages
// in swap: a space being made (fork) or torn down (exit) holds slot
// references the audit cannot see, so it must say "busy" (-EBUSY), never
// count those slots as wrong.
static void
audit_while_forking(void)
{
  uint n = total_pages() * 9 / 8;
  int pid, st, i, r, audits = 0;
  volatile int *done;
  char *p;

  test_need_swap();
  done = mmap(0, PG, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if(done == MAP_FAILED)
    test_fail("mmap: %s", strerror(errno));
  *done = 0;
  p = grab(n);
  test_fill_pages(p, n, 12);                       // most pages go to swap
  if((pid = fork()) < 0)
    test_fail("fork: %s", strerror(errno));
  if(pid == 0){                         // fork and exit, over and over
    for(i = 0; i < 12; i++){
      int c = fork();
      if(c < 0)
        exit(2);
      if(c == 0)
        exit(0);                        // frees n swap entries
      wait(0);
    }
    *done = 1;
    exit(0);
  }
  while(!*done){
    r = test_swap_audit();
    audits++;
    if(r < 0 && r != -EBUSY)
      test_fail("audit %d: %s", audits, strerror(-r));
    if(r > 0)
      test_fail("audit %d while processes fork and exit: %d slots wrong", audits, r);
  }
  CHECK(wait(&st) == pid);
  CHECK_EQ(st, 0);
  test_verify_pages(p, n, 12, "after the forks");
  CHECK_EQ(test_swap_audit(), 0);
  CHECK_EQ(munmap((void *)done, PG), 0);
}

// A shared file mapping larger than memory, with swap present: file
// pages never go to swap; reclaim writes the dirty ones back to the file
// (reclaim_file_dirty), and read() then sees every store.
static void
shared_file(void)
{
  uint n = total_pages() * 9 / 8, dirty0, i;
  uint word[3];
  char *p;
  int fd;

  test_need_swap();
  if((fd = open("big", O_CREATE | O_RDWR)) < 0 || ftruncate(fd, n * PG) < 0)
    test_fail("make a file of %d pages: %s", n, strerror(errno));
  p = mmap(0, n * PG, RW, MAP_SHARED, fd, 0);
  if(p == MAP_FAILED)
    test_fail("mmap: %s", strerror(errno));
  dirty0 = test_vmcounter(VM_RECLAIM_FILE_DIRTY);
  test_fill_pages(p, n, 9);
  if(test_vmcounter(VM_RECLAIM_FILE_DIRTY) - dirty0 < n - total_pages())
    test_fail("only %d dirty file pages written back by reclaim",
              test_vmcounter(VM_RECLAIM_FILE_DIRTY) - dirty0);
  for(i = 0; i < n; i++){
    if(pread_words(fd, i, word) < 0)
      test_fail("read page %d: %s", i, strerror(errno));
    if(word[0] != test_pattern(9, i, 0) || word[1] != test_pattern(9, i, 512) ||
       word[2] != test_pattern(9, i, 1023))
      test_fail("read(): page %d of %d holds 0x%x, want 0x%x", i, n, word[0], test_pattern(9, i, 0));
  }
  test_verify_pages(p, n, 9, "through the mapping");
  CHECK_EQ(ftruncate(fd, 0), 0);        // (munmap then has nothing to write back)
  CHECK_EQ(munmap(p, n * PG), 0);
  close(fd);
  CHECK_EQ(sysctl("vm.reclaim_errors", -1), 0);
  CHECK_EQ(test_swap_audit(), 0);
  CHECK_EQ(unlink("big"), 0);
}

// Memory and swap both full: the process that cannot get a page is killed
// with a message (status -1), and afterwards every page and swap slot is
// free again.
static void
swap_full(void)
{
  struct memstat before = test_memstat(), after;
  int pid, st, tries;

  test_need_swap();
  if((pid = fork()) < 0)
    test_fail("fork: %s", strerror(errno));
  if(pid == 0){
    uint n = before.total_pages + before.swap_pages + 1024, i;
    char *p = sbrk(n * PG);
    if(p == (char *)-1)
      exit(2);
    for(i = 0; i < n; i++)
      p[i * PG] = i;
    exit(3);                            // more than memory and swap: impossible
  }
  CHECK(wait(&st) == pid);
  if(st != -1)
    test_fail("the hog ended with status %d, want -1 (killed: out of memory)", st);
  after = test_memstat();
  for(tries = 0; after.swap_used > before.swap_used && tries < 20; tries++){
    sleep(1);
    after = test_memstat();
  }
  // Other processes' pages may have gone to swap meanwhile (they keep
  // their slots): the kernel checks every slot's count against the swap
  // entries and swap copies that exist, and nothing may be left over.
  CHECK(after.swap_used < after.swap_pages / 8);
  CHECK_EQ(test_swap_audit(), 0);
  // still able to run things
  char out[64];
  CHECK_EQ(test_sh("echo ok", out, sizeof(out), 1), 0);
  CHECK(strcmp(out, "ok\n") == 0);
}

// In a child held to frames frames under policy pol: store to page r of
// a fresh mapping for each r of refs (digits); its fault count, checked
// against the data each page should hold afterwards.
static int
replay(int pol, int frames, const char *refs)
{
  int pid, st, i, n = strlen(refs);

  if((pid = test_fork()) == 0){
    volatile uint *p = mmap(0, 10 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if(p == MAP_FAILED)
      test_fail("mmap: %s", strerror(errno));
    CHECK_EQ(sysctl("vm.policy", pol) >= 0, 1);
    CHECK_EQ(setframes(frames), 0);
    for(i = 0; i < n; i++)
      p[(refs[i] - '0') * PG / 4] = i + 1;
    i = setframes(-1);                        // the faults of this process alone
    for(int k = 0; k < n; k++)                // the last store to each page is there
      if(strchr(refs + k + 1, refs[k]) == 0 && p[(refs[k] - '0') * PG / 4] != (uint)k + 1)
        test_fail("page %c holds %d, want %d", refs[k], p[(refs[k] - '0') * PG / 4], k + 1);
    exit(i);
  }
  CHECK(wait(&st) == pid);
  return st;
}

// setframes holds a process to a fixed number of frames: on Belady's
// reference string FIFO faults 9 times with 3 frames and 10 with 4 (the
// anomaly), LRU 10 and 8, exactly as the textbook counts them.
static void
frames_belady(void)
{
  test_need_swap();
  CHECK_EQ(replay(0, 3, "123412512345"), 9);
  CHECK_EQ(replay(0, 4, "123412512345"), 10);
  CHECK_EQ(replay(3, 3, "123412512345"), 10);
  CHECK_EQ(replay(3, 4, "123412512345"), 8);
  CHECK_EQ(replay(1, 4, "1304131512305"), 10);   // clock: 4 frames fault less than 3
  CHECK_EQ(replay(1, 3, "1304131512305"), 11);
  CHECK_ERR(setframes(-2), EINVAL);
  CHECK_ERR(setframes(100000), EINVAL);
  CHECK_EQ(setframes(-1), 0);               // no frame set: nothing counted
  CHECK_EQ(setframes(0), 0);
  CHECK_EQ(test_swap_audit(), 0);
}

int
main(int argc, char **argv)
{
  static struct test tests[] = {
    TEST(twice_memory), TEST(fork_swapped), TEST(shared_swapped), TEST(policies), TEST(dirty_bit),
    TEST(store_after_swapin), TEST(swap_full), TEST(audit_while_swapping), TEST(shared_file),
    TEST(audit_while_forking), TEST(frames_belady),
  };

  test_set_timeout(30000);
  test_keep_sysctl("vm.policy");          // tests change these; each is put back
  test_keep_sysctl("vm.swap_dirtybit");
  return test_run("swaptest", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
