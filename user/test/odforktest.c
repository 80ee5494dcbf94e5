// odforktest: on-demand fork (vm.cow=2): fork gives the child the parent's
// page tables of private anonymous memory themselves, shared copy-on-write,
// and a table is copied when either side first changes something it maps.
//
//   odforktest          run every test
//   odforktest NAME...  run the named tests only
// Each test runs under testlib (its own child, a watchdog, a leak check)
// with vm.cow=2, so the test's own forks share tables. Prints
// "PASS odf.NAME" or "FAIL odf.NAME: reason".
//
// The memory under test is REGION: NTAB page tables' worth (4 MiB each) of
// private anonymous memory at a 4 MiB boundary, every page holding its
// own number (fill), so that each test's tables are shared whole.
#include "kernel/types.h"
#include "kernel/mman.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define PG       4096
#define TABLE    (4 * 1024 * 1024)       // memory one page table maps
#define NTAB     2
#define NPAGES   (NTAB * TABLE / PG)
#define REGION   ((char *)0x40000000)     // 4 MiB-aligned, free in this program
#define RW       (PROT_READ | PROT_WRITE)

// Allocation count so far (VM_PGALLOC).
static uint
pgalloc(void)
{
  return test_vmcounter(VM_PGALLOC);
}

// Map REGION and write each page's number into its first word.
static uint *
region(void)
{
  uint *p = mmap(REGION, NTAB * TABLE, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  int i;

  if(p == MAP_FAILED)
    test_fail("line %d: mmap of the region failed", __LINE__);
  for(i = 0; i < NPAGES; i++)
    p[i * PG / 4] = i;
  return p;
}

// Word 0 of page i of the region.
#define W(p, i) ((p)[(i) * PG / 4])

// Do pages [from, to) hold their own numbers, except those in skip (a -1
// terminated list, may be 0)?
static int
intact(uint *p, int from, int to, const int *skip)
{
  int i, k, s;

  for(i = from; i < to; i++){
    for(s = 0, k = 0; skip && skip[k] >= 0; k++)
      if(skip[k] == i)
        s = 1;
    if(!s && W(p, i) != (uint)i)
      return 0;
  }
  return 1;
}

// Fork; the child runs f(p) and exits with its result. Returns the child's
// pid.
static int
spawn(int (*f)(uint *), uint *p)
{
  int pid = fork();

  if(pid < 0)
    test_fail("line %d: fork failed", __LINE__);
  if(pid == 0)
    exit(f(p));
  return pid;
}

// Wait for pid; its exit status (-1 if killed).
static int
reap(int pid)
{
  int st = 12345;

  if(wait(&st) != pid)
    test_fail("line %d: wait returned another child", __LINE__);
  return st;
}

// ---- tests --------------------------------------------------------------

// fork shares the tables: it allocates next to nothing however many pages
// the parent has, and the child's first write to a table costs the table's
// copy plus the page's, the next write in the same table the page only.
static int
child_counts(uint *p)
{
  uint a = pgalloc(), b, c, d;

  W(p, 10) = 1000;
  b = pgalloc();
  W(p, 11) = 1001;
  c = pgalloc();
  W(p, 1024 + 5) = 1002;              // the second table
  d = pgalloc();
  if(b - a != 2 || c - b != 1 || d - c != 2){
    printf("odf counts: first write %d pages, second %d, other table %d\n", b - a, c - b, d - c);
    return 1;
  }
  return W(p, 10) == 1000 && W(p, 11) == 1001 && W(p, 1029) == 1002 ? 0 : 2;
}

static void
t_shares_tables(void)
{
  uint *p = region();
  uint a, b;
  int pid;

  a = pgalloc();
  pid = spawn(child_counts, p);
  b = pgalloc();
  CHECK(b - a < 16);                  // kernel stack, directory, ... not 2048 pages
  CHECK(reap(pid) == 0);
  CHECK(intact(p, 0, NPAGES, 0));
}

// Parent and child write the same page, each after the other has; each
// sees only its own value, the rest stays as it was.
static int go[2], back[2];

static int
child_same(uint *p)
{
  char c;

  W(p, 7) = 0xC1;
  write(back[1], "x", 1);
  if(read(go[0], &c, 1) != 1)         // the parent has written page 7 too
    return 1;
  return W(p, 7) == 0xC1 && intact(p, 0, NPAGES, (int[]){ 7, -1 }) ? 0 : 2;
}

static void
t_same_page(void)
{
  uint *p = region();
  char c;
  int pid;

  CHECK(pipe(go) == 0 && pipe(back) == 0);
  pid = spawn(child_same, p);
  CHECK(read(back[0], &c, 1) == 1);   // the child has written page 7
  CHECK(W(p, 7) == 7);
  W(p, 7) = 0xA1;
  CHECK(write(go[1], "x", 1) == 1);
  CHECK(reap(pid) == 0);
  CHECK(W(p, 7) == 0xA1);
  CHECK(intact(p, 0, NPAGES, (int[]){ 7, -1 }));
  close(go[0]); close(go[1]); close(back[0]); close(back[1]);
}

// Parent and child write different pages of the same table.
static int
child_diff(uint *p)
{
  char c;

  W(p, 100) = 0xC2;
  write(back[1], "x", 1);
  if(read(go[0], &c, 1) != 1)
    return 1;
  return W(p, 100) == 0xC2 && W(p, 200) == 200 &&
         intact(p, 0, NPAGES, (int[]){ 100, -1 }) ? 0 : 2;
}

static void
t_different_pages(void)
{
  uint *p = region();
  char c;
  int pid;

  CHECK(pipe(go) == 0 && pipe(back) == 0);
  pid = spawn(child_diff, p);
  CHECK(read(back[0], &c, 1) == 1);
  W(p, 200) = 0xA2;
  CHECK(write(go[1], "x", 1) == 1);
  CHECK(reap(pid) == 0);
  CHECK(W(p, 200) == 0xA2 && W(p, 100) == 100);
  CHECK(intact(p, 0, NPAGES, (int[]){ 200, -1 }));
  close(go[0]); close(go[1]); close(back[0]); close(back[1]);
}

// Three spaces share a table (fork of a fork); each writes its own page
// and sees the others' pages unchanged. The grandchild exits first.
static int
grandchild(uint *p)
{
  W(p, 3) = 0x33;
  return W(p, 3) == 0x33 && intact(p, 0, NPAGES, (int[]){ 3, -1 }) ? 0 : 2;
}

static int
child_forks(uint *p)
{
  int pid = spawn(grandchild, p);

  W(p, 4) = 0x44;
  if(reap(pid) != 0)
    return 3;
  return W(p, 4) == 0x44 && intact(p, 0, NPAGES, (int[]){ 4, -1 }) ? 0 : 2;
}

static void
t_fork_of_fork(void)
{
  uint *p = region();
  int pid;

  pid = spawn(child_forks, p);
  W(p, 5) = 0x55;
  CHECK(reap(pid) == 0);
  CHECK(W(p, 5) == 0x55);
  CHECK(intact(p, 0, NPAGES, (int[]){ 5, -1 }));
  W(p, 6) = 0x66;                     // now the last user: takes the table back
  CHECK(W(p, 6) == 0x66 && W(p, 5) == 0x55);
}

// The child exits first without writing; the parent, last user of the
// tables, writes afterwards (takes them back, no copy).
static int
child_exits(uint *p)
{
  return intact(p, 0, NPAGES, 0) ? 0 : 2;
}

static void
t_child_exits_first(void)
{
  uint *p = region();
  uint a;

  CHECK(reap(spawn(child_exits, p)) == 0);
  a = pgalloc();
  W(p, 1) = 0x11;
  W(p, 1025) = 0x12;
  CHECK(pgalloc() == a);              // no table copied, no page copied
  CHECK(intact(p, 0, NPAGES, (int[]){ 1, 1025, -1 }));
}

// The parent exits first: its child (here, a grandchild of the test) still
// sees every page, writes, and reports through a pipe.
static int
orphan(uint *p)
{
  int ok;

  sleep(2);                           // let the parent exit first
  ok = intact(p, 0, NPAGES, 0);
  W(p, 9) = 0x99;
  ok = ok && W(p, 9) == 0x99 && intact(p, 0, NPAGES, (int[]){ 9, -1 });
  write(back[1], ok ? "y" : "n", 1);
  return 0;
}

static int
parent_then_exit(uint *p)
{
  spawn(orphan, p);
  W(p, 8) = 0x88;                     // its own copy, gone with it
  return 0;
}

static void
t_parent_exits_first(void)
{
  uint *p = region();
  char c = 0;
  int pid;

  CHECK(pipe(back) == 0);
  pid = fork();
  CHECK(pid >= 0);
  if(pid == 0){
    close(back[0]);
    exit(parent_then_exit(p));
  }
  close(back[1]);
  CHECK(reap(pid) == 0);
  CHECK(read(back[0], &c, 1) == 1 && c == 'y');
  close(back[0]);
  CHECK(intact(p, 0, NPAGES, 0));
}

// munmap of part of a shared table (and of a whole one) in the child: the
// child's other pages stay, the parent's all stay, and the unmapped range
// faults in the child.
static int
touch(uint *p)
{
  return W(p, 300);                   // unmapped: the process is killed
}

static int
child_munmap(uint *p)
{
  if(munmap((char *)p + 256 * PG, 256 * PG) < 0)      // part of table 0
    return 1;
  if(munmap((char *)p + TABLE, TABLE) < 0)             // all of table 1
    return 1;
  if(reap(spawn(touch, p)) != -1)
    return 3;
  W(p, 2) = 0x22;
  return intact(p, 0, 256, (int[]){ 2, -1 }) && intact(p, 512, 1024, 0) ? 0 : 2;
}

static void
t_munmap_part(void)
{
  uint *p = region();

  CHECK(reap(spawn(child_munmap, p)) == 0);
  CHECK(intact(p, 0, NPAGES, 0));
  CHECK(munmap((char *)p + 100 * PG, 10 * PG) == 0);  // the parent's turn, tables now its own
  CHECK(intact(p, 0, 100, 0) && intact(p, 110, NPAGES, 0));
}

// mprotect of part of a shared table: read-only in the child (a store
// there kills), the parent's pages stay writable and unchanged.
static int
store(uint *p)
{
  W(p, 50) = 1;                       // read-only: the process is killed
  return 0;
}

static int
child_mprotect(uint *p)
{
  if(mprotect((char *)p + 40 * PG, 20 * PG, PROT_READ) < 0)
    return 1;
  if(W(p, 50) != 50 || reap(spawn(store, p)) != -1)
    return 2;
  W(p, 60) = 0x60;                    // just past the range: writable
  if(mprotect((char *)p + 40 * PG, 20 * PG, RW) < 0)
    return 1;
  W(p, 50) = 0x50;
  return intact(p, 0, NPAGES, (int[]){ 50, 60, -1 }) ? 0 : 3;
}

static void
t_mprotect_part(void)
{
  uint *p = region();

  CHECK(reap(spawn(child_mprotect, p)) == 0);
  W(p, 50) = 0xAA;
  CHECK(W(p, 50) == 0xAA);
  CHECK(intact(p, 0, NPAGES, (int[]){ 50, -1 }));
}

// The kernel writing into a shared table's page (read() into the child's
// buffer) copies it like a user store: the parent never sees the data.
static int
child_read(uint *p)
{
  uint v = 0xBEEF;

  if(write(go[1], &v, sizeof(v)) != sizeof(v) || read(go[0], &W(p, 20), sizeof(v)) != sizeof(v))
    return 1;
  return W(p, 20) == 0xBEEF && intact(p, 0, NPAGES, (int[]){ 20, -1 }) ? 0 : 2;
}

static void
t_kernel_write(void)
{
  uint *p = region();

  CHECK(pipe(go) == 0);
  CHECK(reap(spawn(child_read, p)) == 0);
  CHECK(intact(p, 0, NPAGES, 0));
  close(go[0]);
  close(go[1]);
}

// A process using shared tables forks again under the other policies:
// the children see the same memory, and nobody else sees their stores.
static int
child_policies(uint *p)
{
  int r = 0;

  sysctl("vm.cow", 1);
  r |= reap(spawn(grandchild, p));
  sysctl("vm.cow", 0);
  r |= reap(spawn(grandchild, p));
  W(p, 12) = 0x12;
  return r == 0 && intact(p, 0, NPAGES, (int[]){ 12, -1 }) ? 0 : 2;
}

static void
t_other_policies(void)
{
  uint *p = region();

  CHECK(reap(spawn(child_policies, p)) == 0);
  CHECK(intact(p, 0, NPAGES, 0));
}

// A shared table whose region also gets a new mapping: the child maps
// fresh memory next to the shared pages and uses it.
static int
child_mmap(uint *p)
{
  char *q = mmap((char *)p + TABLE - 8 * PG, 8 * PG, RW,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

  if(q == MAP_FAILED || q[0] != 0)
    return 1;
  q[0] = 1;
  return intact(p, 0, 1024 - 8, 0) && intact(p, 1024, NPAGES, 0) ? 0 : 2;
}

static void
t_mmap_over(void)
{
  uint *p = region();

  CHECK(reap(spawn(child_mmap, p)) == 0);
  CHECK(intact(p, 0, NPAGES, 0));
}

// Out of memory when a system call must first copy a shared table: munmap
// and mprotect fail with ENOMEM and change nothing; without the injected
// failure they work.
static int
child_oom(uint *p)
{
  int r, hit;

  failnth(1);                         // the table copy is the call's first allocation
  r = munmap((char *)p + 256 * PG, 256 * PG);
  hit = failnth(0);
  if(r != -1 || errno != ENOMEM || !hit || !intact(p, 0, NPAGES, 0))
    return 1;
  failnth(1);
  r = mprotect((char *)p + 40 * PG, 20 * PG, PROT_READ);
  hit = failnth(0);
  if(r != -1 || errno != ENOMEM || !hit)
    return 2;
  W(p, 50) = 0x50;                    // still writable, now a copy of its own
  if(munmap((char *)p + 256 * PG, 256 * PG) < 0)
    return 3;
  return intact(p, 0, 256, (int[]){ 50, -1 }) && intact(p, 512, NPAGES, 0) ? 0 : 4;
}

static void
t_unshare_oom(void)
{
  uint *p = region();

  CHECK(reap(spawn(child_oom, p)) == 0);
  CHECK(intact(p, 0, NPAGES, 0));
}

// Three spaces write every page of the shared tables at once (two CPUs:
// both may copy the same table at the same moment); each ends with only
// its own values.
static int
write_all(uint *p, uint mark)
{
  int i;

  for(i = 0; i < NPAGES; i++)
    W(p, i) = mark + i;
  for(i = 0; i < NPAGES; i++)
    if(W(p, i) != mark + i)
      return 1;
  return 0;
}

static int
writer_b(uint *p)
{
  return write_all(p, 0x200000);
}

static int
writer_a(uint *p)
{
  int pid = spawn(writer_b, p), r;

  r = write_all(p, 0x100000);
  return reap(pid) != 0 ? 2 : r;
}

static void
t_concurrent_writes(void)
{
  uint *p = region();
  int pid = spawn(writer_a, p);

  CHECK(write_all(p, 0x300000) == 0);
  CHECK(reap(pid) == 0);
  CHECK(write_all(p, 0x400000) == 0);
}

static struct test tests[] = {
  { "shares_tables", t_shares_tables },
  { "same_page", t_same_page },
  { "different_pages", t_different_pages },
  { "fork_of_fork", t_fork_of_fork },
  { "child_exits_first", t_child_exits_first },
  { "parent_exits_first", t_parent_exits_first },
  { "munmap_part", t_munmap_part },
  { "mprotect_part", t_mprotect_part },
  { "kernel_write", t_kernel_write },
  { "other_policies", t_other_policies },
  { "mmap_over", t_mmap_over },
  { "unshare_oom", t_unshare_oom },
  { "concurrent_writes", t_concurrent_writes },
};

// Every test runs under vm.cow=2 (its own forks share tables); the
// runner puts vm.cow back after each test.
static void
on_demand(void)
{
  if(sysctl("vm.cow", 2) < 0)
    test_fail("no vm.cow=2");
}

int
main(int argc, char **argv)
{
  test_keep_sysctl("vm.cow");
  test_set_setup(on_demand);
  exit(test_run("odf", tests, sizeof(tests) / sizeof(tests[0]), argc, argv));
}
