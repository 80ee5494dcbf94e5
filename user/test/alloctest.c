// alloctest: tests of the kernel allocators (issue 3). Open files, pipes
// and processes are limited by memory, not by tables; memory comes back
// exactly when a process goes; the kernel's own allocator self-tests pass;
// memstat is consistent.
//
//   alloctest            run every test
//   alloctest NAME...    run the named tests only
//   alloctest -full ...  let the open, pipe and fork tests use all of memory
//                        (by default a "hog" process first pins all but a
//                        few MiB, so they finish quickly under emulation)
// Each test runs in a forked child; the parent compares free pages and
// kmalloc bytes before and after (a difference is a leak, reported as a
// FAIL). Prints "PASS alloctest.NAME" or "FAIL alloctest.NAME: reason" per
// test, plus indented lines of figures; exits 1 if any test failed.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/memstat.h"
#include "kernel/kalloctest.h"
#include "user/user.h"

#define PG        4096
#define FILE_KEEP 256             // pages the hog leaves free for open_many (1 MiB)
#define PIPE_KEEP 2048            // and for pipe_many (8 MiB: a pipe holds a page)
#define FORK_KEEP 32768           // and for fork_many (128 MiB: a no-op at MEM=128)
#define OLD_NFILE 100             // the fixed tables this kernel no longer has
#define OLD_NPROC 64
#define TMPFILE   "alloctest.tmp"
#define NTESTS    ((int)(sizeof(tests) / sizeof(tests[0])))

static const char *curtest;
static int fullmem;               // -full: no hog

// ---- helpers ----------------------------------------------------------------

// Report a failed check of the running test and end its child.
static void
fail(const char *why)
{
  printf("FAIL alloctest.%s: %s\n", curtest, why);
  exit(1);
}

static void
failv(const char *why, int v)
{
  printf("FAIL alloctest.%s: %s (%d)\n", curtest, why, v);
  exit(1);
}

static void
snap(struct memstat *ms)
{
  sysctl("vm.drop_caches", 1);   // cached file pages are free memory in waiting
  if(memstat(ms) < 0)
    fail("memstat failed");
}

// Free pages according to the per-order block counts.
static uint
pages_in_blocks(struct memstat *ms)
{
  uint n = 0;
  int k;

  for(k = 0; k < BUDDY_NORDERS; k++)
    n += ms->free_blocks[k] << k;
  return n;
}

// A hog is a child process that holds all but `keep` free pages (it grows
// its heap and touches every page), so a test runs out of memory sooner.
struct hog {
  int pid;                        // 0: no hog
  int on;                         // it holds memory (there was more than it leaves)
  int release;                    // write end; the hog exits when it closes
};

// In the hog: take free pages down to about keep (allowing for the page
// tables of the new heap). Returns 1 if it took any.
static int
hog_fill(uint keep)
{
  struct memstat ms;
  uint n, i;
  char *p;

  if(memstat(&ms) < 0 || ms.free_pages <= keep + 64)
    return 0;
  n = ms.free_pages - keep;
  n -= n / 1024 + 16;
  if((p = sbrk(n * PG)) == (char *)-1)
    return 0;
  for(i = 0; i < n; i++)
    p[i * PG] = 1;
  return 1;
}

static void
hog_start(struct hog *h, uint keep)
{
  int ready[2], rel[2];
  char c;

  h->pid = h->on = 0;
  if(fullmem)
    return;
  if(pipe(ready) < 0 || pipe(rel) < 0)
    fail("hog: pipe failed");
  if((h->pid = fork()) < 0)
    fail("hog: fork failed");
  if(h->pid == 0){
    close(ready[0]);
    close(rel[1]);
    write(ready[1], hog_fill(keep) ? "y" : "n", 1);
    read(rel[0], &c, 1);          // 0 (end of file) once the test lets go
    exit(0);
  }
  close(ready[1]);
  close(rel[0]);
  if(read(ready[0], &c, 1) != 1)
    fail("hog died while filling memory");
  h->on = c == 'y';
  close(ready[0]);
  h->release = rel[1];
}

// Let the hog go and reap it (and any other child already gone).
static void
hog_stop(struct hog *h)
{
  int pid;

  if(h->pid == 0)
    return;
  close(h->release);
  while((pid = wait(0)) >= 0 && pid != h->pid)
    ;
  h->pid = 0;
}

// ---- tests ------------------------------------------------------------------

// free_pages is the sum of the free blocks per order; totals are sane;
// kmalloc's pages cover its bytes.
static void
t_memstat_sum(void)
{
  struct memstat ms;
  int k;

  snap(&ms);
  if(ms.free_pages != pages_in_blocks(&ms))
    failv("free_pages differs from the sum of free_blocks[k] << k", ms.free_pages);
  if(ms.total_pages == 0 || ms.free_pages > ms.total_pages)
    failv("bad total_pages", ms.total_pages);
  if(ms.kmalloc_bytes > ms.kmalloc_pages * PG)
    failv("kmalloc_bytes exceed kmalloc_pages", ms.kmalloc_bytes);
  for(k = 0; k < BUDDY_NORDERS; k++)
    if((ms.free_blocks[k] << k) > ms.free_pages)
      failv("free_blocks[k] too large for k", k);
}

// In a grandchild, hold 200 open files, 50 pipes and 5 children, checking
// kmalloc_bytes grew by at least their structures; after it exits,
// kmalloc_bytes and free pages are exactly back.
static void
t_memstat_workload(void)
{
  struct memstat ms0, ms1;
  int pid, st, i, fds[2], gate[2];
  char c;

  snap(&ms0);
  if((pid = fork()) < 0)
    fail("fork failed");
  if(pid == 0){
    for(i = 0; i < 200; i++)
      if(open(TMPFILE, O_RDONLY) < 0)
        exit(2);
    for(i = 0; i < 50; i++)
      if(pipe(fds) < 0)
        exit(3);
    if(pipe(gate) < 0)
      exit(3);
    for(i = 0; i < 5; i++){
      if((st = fork()) < 0)
        exit(4);
      if(st == 0){
        close(gate[1]);
        read(gate[0], &c, 1);
        exit(0);
      }
    }
    snap(&ms1);
    if(ms1.kmalloc_bytes < ms0.kmalloc_bytes + 300 * 16)
      exit(5);
    if(ms1.free_pages != pages_in_blocks(&ms1))
      exit(6);
    close(gate[1]);
    while(wait(0) >= 0)
      ;
    exit(0);
  }
  if(wait(&st) != pid)
    fail("wait failed");
  if(st != 0)
    failv("workload child failed (2 open, 3 pipe, 4 fork, 5 kmalloc_bytes, 6 sum)", st);
  snap(&ms1);
  if(ms1.kmalloc_bytes != ms0.kmalloc_bytes)
    failv("kmalloc_bytes not back to its start value", ms1.kmalloc_bytes - ms0.kmalloc_bytes);
  if(ms1.free_pages != ms0.free_pages)
    failv("free pages not back", ms1.free_pages - ms0.free_pages);
  if(ms1.free_pages != pages_in_blocks(&ms1))
    fail("free_pages differs from the sum of free blocks");
}

// Open the same file until memory runs out: far more than the old table.
// Closing a few files makes room to open again.
static void
t_open_many(void)
{
  struct hog h;
  int n = 0, fd, last = -1, err, i, t0;

  hog_start(&h, FILE_KEEP);
  t0 = uptime();
  while((fd = open(TMPFILE, O_RDONLY)) >= 0){
    n++;
    last = fd;
  }
  err = errno;
  printf("  alloctest.open_many: %d files open at once, then %s (%d ticks%s)\n", n,
         strerror(err), uptime() - t0, h.on ? ", hog on" : "");
  if(err != ENOMEM && err != EMFILE)
    failv("open failed with an errno other than ENOMEM/EMFILE", err);
  if(n < 10 * OLD_NFILE)
    failv("too few files open at once", n);
  for(i = 0; i < 16; i++)
    close(last - i);
  if((fd = open(TMPFILE, O_RDONLY)) < 0)
    fail("open failed after closing some files");
  hog_stop(&h);
}

// Create pipes until memory runs out; the last one still works.
static void
t_pipe_many(void)
{
  struct hog h;
  int n = 0, fds[2], last[2] = { -1, -1 }, err, t0;
  char c;

  hog_start(&h, PIPE_KEEP);
  t0 = uptime();
  while(pipe(fds) == 0){
    n++;
    last[0] = fds[0];
    last[1] = fds[1];
  }
  err = errno;
  printf("  alloctest.pipe_many: %d pipes (%d fds) at once, then %s (%d ticks%s)\n", n,
         2 * n, strerror(err), uptime() - t0, h.on ? ", hog on" : "");
  if(err != ENOMEM && err != EMFILE)
    failv("pipe failed with an errno other than ENOMEM/EMFILE", err);
  if(n < 5 * OLD_NFILE)
    failv("too few pipes at once", n);
  if(write(last[1], "x", 1) != 1 || read(last[0], &c, 1) != 1 || c != 'x')
    fail("the last pipe does not work");
  hog_stop(&h);
}

// Fork until memory runs out; the children wait on a pipe, then all are
// released and reaped.
static void
t_fork_many(void)
{
  struct hog h;
  int gate[2], n = 0, pid, err, st, reaped, killed = 0, t0;
  char c;

  hog_start(&h, FORK_KEEP);
  t0 = uptime();
  if(pipe(gate) < 0)
    fail("pipe failed");
  for(;;){
    if((pid = fork()) < 0)
      break;
    if(pid == 0){
      close(gate[1]);
      read(gate[0], &c, 1);       // 0 once the parent closes its end
      exit(0);
    }
    n++;
  }
  err = errno;
  close(gate[1]);
  for(reaped = 0; reaped < n && wait(&st) >= 0; reaped++)   // the hog stays alive meanwhile
    if(st != 0)
      killed++;
  printf("  alloctest.fork_many: %d processes at once, then %s; %d reaped (%d killed) "
         "(%d ticks%s)\n", n, strerror(err), reaped, killed, uptime() - t0,
         h.on ? ", hog on" : "");
  hog_stop(&h);
  if(err != ENOMEM)
    failv("fork failed with an errno other than ENOMEM", err);
  if(reaped != n)
    failv("reaped a different number of children than forked", reaped);
  if(n < 10 * OLD_NPROC)
    failv("too few processes at once", n);
}

// The kernel's random allocate/free invariant checks (buddy and kmalloc).
static void
t_kalloctest(void)
{
  if(kalloctest(KAT_SELFTEST, 0) < 0)
    failv("kernel self-test failed (see the kernel message), errno", errno);
}

// The random workload of the benchmark: free pages + held pages = start,
// the block sums agree, and freeing everything restores the free lists.
static void
t_frag_restore(void)
{
  struct kat_frag f;

  memset(&f, 0, sizeof(f));
  f.seed = 7;
  f.steps = 20000;
  if(kalloctest(KAT_FRAG, &f) < 0)
    failv("kalloctest(KAT_FRAG) failed, errno", errno);
  if(f.allocs == 0 || f.held_blocks == 0)
    fail("the workload allocated nothing");
  if(f.held.free_pages + f.held_pages != f.start.free_pages)
    failv("free + held pages differ from the start", f.held.free_pages + f.held_pages);
  if(f.held.free_pages != pages_in_blocks(&f.held))
    fail("free_pages differs from the sum of free blocks while holding");
  if(!f.restored)
    fail("free lists not restored after freeing everything");
}

// Bad requests are errors, not crashes.
static void
t_kalloctest_args(void)
{
  struct kat_bench b;

  if(kalloctest(99, 0) != -1 || errno != EINVAL)
    fail("bad mode: want EINVAL");
  if(kalloctest(KAT_BENCH, 0) != -1 || errno != EFAULT)
    fail("null pointer: want EFAULT");
  if(kalloctest(KAT_FRAG, (void *)0x80100000) != -1 || errno != EFAULT)
    fail("kernel pointer: want EFAULT");
  memset(&b, 0, sizeof(b));
  b.iters = 10;
  b.batch = 1;
  b.order = BUDDY_MAXORDER + 1;
  if(kalloctest(KAT_BENCH, &b) != -1 || errno != EINVAL)
    fail("order too large: want EINVAL");
  b.order = 0;
  b.batch = KAT_MAXBATCH + 1;
  if(kalloctest(KAT_BENCH, &b) != -1 || errno != EINVAL)
    fail("batch too large: want EINVAL");
  b.batch = 1;
  b.size = 0;
  if(kalloctest(KAT_KMBENCH, &b) != -1 || errno != EINVAL)
    fail("size 0: want EINVAL");
  b.iters = 0;
  if(kalloctest(KAT_BENCH, &b) != -1 || errno != EINVAL)
    fail("0 iterations: want EINVAL");
  b.iters = 10;
  if(kalloctest(KAT_BENCH, &b) < 0 || b.batch_done != 10)
    fail("a valid request failed");
}

// ---- runner -----------------------------------------------------------------

struct test {
  void (*fn)(void);
  const char *name;
};

static struct test tests[] = {
  { t_memstat_sum,      "memstat_sum" },
  { t_memstat_workload, "memstat_workload" },
  { t_kalloctest,       "kalloctest" },
  { t_kalloctest_args,  "kalloctest_args" },
  { t_frag_restore,     "frag_restore" },
  { t_open_many,        "open_many" },
  { t_pipe_many,        "pipe_many" },
  { t_fork_many,        "fork_many" },
};

// Run one test in a child. It passes if the child exits 0 and free pages
// and kmalloc bytes are exactly as before. Returns 1 if it passed.
static int
run(struct test *t)
{
  struct memstat before, after;
  int pid, st = -1;

  curtest = t->name;
  snap(&before);
  if((pid = fork()) < 0){
    printf("FAIL alloctest.%s: fork failed: %s\n", t->name, strerror(errno));
    return 0;
  }
  if(pid == 0){
    t->fn();
    exit(0);
  }
  if(wait(&st) != pid){
    printf("FAIL alloctest.%s: wait failed\n", t->name);
    return 0;
  }
  snap(&after);
  if(st == 1)
    return 0;                     // the child printed its FAIL line
  if(st != 0){
    printf("FAIL alloctest.%s: child died (status %d)\n", t->name, st);
    return 0;
  }
  if(after.free_pages != before.free_pages || after.kmalloc_bytes != before.kmalloc_bytes){
    printf("FAIL alloctest.%s: leak: free pages %d -> %d, kmalloc bytes %d -> %d\n", t->name,
           before.free_pages, after.free_pages, before.kmalloc_bytes, after.kmalloc_bytes);
    return 0;
  }
  printf("PASS alloctest.%s\n", t->name);
  return 1;
}

static int
wanted(const char *name, int argc, char **argv)
{
  int i, any = 0;

  for(i = 1; i < argc; i++){
    if(argv[i][0] == '-')
      continue;
    any = 1;
    if(strcmp(argv[i], name) == 0)
      return 1;
  }
  return !any;
}

int
main(int argc, char **argv)
{
  int i, fd, failed = 0;

  for(i = 1; i < argc; i++)
    if(strcmp(argv[i], "-full") == 0)
      fullmem = 1;
  if((fd = open(TMPFILE, O_CREATE | O_RDWR)) < 0 || write(fd, "alloctest\n", 10) != 10){
    printf("FAIL alloctest.setup: cannot create %s\n", TMPFILE);
    return 1;
  }
  close(fd);
  // The open, pipe and fork tests run memory out on purpose. With
  // copy-on-write fork (vm.cow=1) a test would then die at its first write
  // to a page it still shares with this runner, the hog or its children
  // (no memory for the copy) instead of seeing ENOMEM: fork eagerly here.
  sysctl("vm.cow", 0);
  for(i = 0; i < NTESTS; i++)
    if(wanted(tests[i].name, argc, argv) && !run(&tests[i]))
      failed++;
  sysctl("vm.cow", 1);
  unlink(TMPFILE);
  return failed ? 1 : 0;
}
