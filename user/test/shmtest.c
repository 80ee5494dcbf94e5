// shmtest: shared memory that is really shared. One copy of each file page
// (the page cache) serves read(), write() and every mapping in every
// process; MAP_SHARED|MAP_ANONYMOUS memory survives fork; stores made
// through any mapping are written back exactly once (msync, fsync, munmap,
// exit); end-of-file rules, ftruncate, and memory pressure on the cache.
// Each test checks file contents, and where it matters the kernel's exact
// write-back and cache counters (vmstat).
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/mman.h"
#include "kernel/fcntl.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define PG 4096
#define RW (PROT_READ | PROT_WRITE)
#define SHANON (MAP_SHARED | MAP_ANONYMOUS)

// Page writes (every reason) so far.
static uint
writes(void)
{
  return test_vmcounter(VM_MSYNC_PAGES);
}

// A file of npages pages: byte i of page p is 'A' + p (page p's first
// byte is p), then extra bytes of 'z'.
static void
make_file(const char *name, int npages, int extra)
{
  static char buf[PG];
  int fd, p;

  CHECK((fd = open(name, O_CREATE | O_TRUNC | O_RDWR)) >= 0);
  for(p = 0; p < npages; p++){
    memset(buf, 'A' + p, PG);
    buf[0] = p;
    CHECK_EQ(write(fd, buf, PG), PG);
  }
  memset(buf, 'z', PG);
  if(extra > 0)
    CHECK_EQ(write(fd, buf, extra), extra);
  close(fd);
}

static char *
map_fd(int fd, int len, int prot, int flags, int off)
{
  char *p = mmap(0, len, prot, flags, fd, off);

  if(p == MAP_FAILED)
    test_fail("mmap: %s", strerror(errno));
  return p;
}

static char *
map_file(const char *name, int omode, int len, int prot, int flags)
{
  int fd = open(name, omode);
  char *p;

  if(fd < 0)
    test_fail("open %s: %s", name, strerror(errno));
  p = map_fd(fd, len, prot, flags, 0);
  close(fd);
  return p;
}

// Byte off of the file as read() sees it; -1 past the end.
static int
file_byte(const char *name, int off)
{
  int fd = open(name, O_RDONLY);
  unsigned char c;
  int n;

  if(fd < 0)
    test_fail("open %s: %s", name, strerror(errno));
  CHECK(lseek(fd, off, 0) == off);
  n = read(fd, &c, 1);
  close(fd);
  return n == 1 ? c : -1;
}

// The same byte as the disk holds it: the cache is dropped first (call
// only when nothing maps the file any more).
static int
disk_byte(const char *name, int off)
{
  sysctl("vm.drop_caches", 1);
  return file_byte(name, off);
}

static int
file_size(const char *name)
{
  struct stat st;
  int fd = open(name, O_RDONLY);

  CHECK(fd >= 0 && fstat(fd, &st) == 0);
  close(fd);
  return st.size;
}

// One end of a pipe pair used to pass a byte between processes.
static void
put(int fd)
{
  CHECK_EQ(write(fd, "x", 1), 1);
}

static void
get(int fd)
{
  char c;

  CHECK_EQ(read(fd, &c, 1), 1);
}

// ---- shared anonymous memory ---------------------------------------------

// MAP_SHARED|MAP_ANONYMOUS works and parent and child see each other's
// stores (it used to fail with EINVAL).
static void
anon_fork(void)
{
  char *p = mmap(0, 2 * PG, RW, SHANON, -1, 0);
  int pid;

  CHECK(p != MAP_FAILED);
  CHECK(p[0] == 0 && p[PG + 5] == 0);
  p[0] = 'p';
  if((pid = test_fork()) == 0){
    if(p[0] != 'p')
      test_fail("child sees %d, want 'p'", p[0]);
    p[0] = 'c';
    p[PG + 5] = 'd';
    exit(0);
  }
  CHECK_EQ(test_wait(pid), 0);
  CHECK(p[0] == 'c' && p[PG + 5] == 'd');
  CHECK(munmap(p, 2 * PG) == 0);
}

// A page nobody had touched at fork is still shared afterwards, whichever
// process touches it first.
static void
anon_untouched(void)
{
  char *p = mmap(0, 3 * PG, RW, SHANON, -1, 0);
  int up[2], down[2], pid;

  CHECK(p != MAP_FAILED);
  CHECK(pipe(up) == 0 && pipe(down) == 0);
  if((pid = test_fork()) == 0){
    p[PG] = 'c';                   // first touch, in the child
    put(up[1]);
    get(down[0]);
    if(p[2 * PG] != 'p')
      test_fail("child sees %d at page 2, want 'p'", p[2 * PG]);
    exit(0);
  }
  get(up[0]);
  CHECK(p[PG] == 'c');
  p[2 * PG] = 'p';                 // first touch, in the parent
  put(down[1]);
  CHECK_EQ(test_wait(pid), 0);
  CHECK(munmap(p, 3 * PG) == 0);
}

// Several children and grandchildren each add to their own slot and to a
// shared total under a pipe token: the parent sees every store.
#define KIDS 3
static void
anon_family(void)
{
  int *w = mmap(0, PG, RW, SHANON, -1, 0);
  int tok[2], k, g, pid, gpid;
  char c;

  CHECK(w != MAP_FAILED);
  CHECK(pipe(tok) == 0);
  CHECK_EQ(write(tok[1], "t", 1), 1);
  for(k = 0; k < KIDS; k++){
    if((pid = test_fork()) == 0){
      for(g = 0; g < 2; g++){
        if((gpid = test_fork()) == 0){
          w[10 + 2 * k + g] = 100 * (k + 1) + g;
          CHECK_EQ(read(tok[0], &c, 1), 1);
          w[0]++;
          CHECK_EQ(write(tok[1], &c, 1), 1);
          exit(0);
        }
        CHECK_EQ(test_wait(gpid), 0);
      }
      w[1 + k] = k + 1;
      CHECK_EQ(read(tok[0], &c, 1), 1);
      w[0]++;
      CHECK_EQ(write(tok[1], &c, 1), 1);
      exit(0);
    }
  }
  for(k = 0; k < KIDS; k++)
    CHECK_EQ(test_wait(0), 0);
  CHECK_EQ(w[0], 3 * KIDS);
  for(k = 0; k < KIDS; k++){
    CHECK_EQ(w[1 + k], k + 1);
    CHECK_EQ(w[10 + 2 * k], 100 * (k + 1));
    CHECK_EQ(w[10 + 2 * k + 1], 100 * (k + 1) + 1);
  }
  close(tok[0]);
  close(tok[1]);
  CHECK(munmap(w, PG) == 0);
}

// Part of a shared anonymous mapping unmapped in the child stays in the
// parent; mprotect splits keep sharing.
static void
anon_split(void)
{
  char *p = mmap(0, 4 * PG, RW, SHANON, -1, 0);
  int pid;

  CHECK(p != MAP_FAILED);
  CHECK(mprotect(p + PG, PG, PROT_READ) == 0);
  if((pid = test_fork()) == 0){
    CHECK(munmap(p, PG) == 0);
    p[3 * PG] = 'x';
    exit(0);
  }
  CHECK_EQ(test_wait(pid), 0);
  CHECK(p[3 * PG] == 'x' && p[PG] == 0);
  CHECK(munmap(p, 4 * PG) == 0);
}

// ---- one copy of each file page ---------------------------------------------

// write() reaches a page already mapped at once.
static void
write_then_mapped(void)
{
  char *p;
  int fd;

  make_file("f", 2, 0);
  p = map_file("f", O_RDWR, 2 * PG, PROT_READ, MAP_SHARED);
  CHECK(p[PG + 7] == 'B');
  CHECK((fd = open("f", O_RDWR)) >= 0);
  CHECK(lseek(fd, PG + 7, 0) == PG + 7);
  CHECK_EQ(write(fd, "new", 3), 3);
  close(fd);
  CHECK(p[PG + 7] == 'n' && p[PG + 9] == 'w');
  CHECK(munmap(p, 2 * PG) == 0);
  CHECK(disk_byte("f", PG + 8) == 'e');
}

// read() sees a store made through a shared mapping, before any msync; a
// MAP_PRIVATE mapping also sees it until it writes its own copy.
static void
read_sees_store(void)
{
  char *p, *q;

  make_file("f", 2, 0);
  p = map_file("f", O_RDWR, 2 * PG, RW, MAP_SHARED);
  q = map_file("f", O_RDONLY, 2 * PG, RW, MAP_PRIVATE);
  CHECK(q[3] == 'A');
  p[3] = 's';
  CHECK(file_byte("f", 3) == 's');
  CHECK(q[3] == 's');
  q[4] = 'q';                      // the private copy is made now
  p[3] = 't';
  CHECK(q[3] == 's' && q[4] == 'q' && p[4] == 'A');
  CHECK(munmap(p, 2 * PG) == 0 && munmap(q, 2 * PG) == 0);
  CHECK(disk_byte("f", 3) == 't' && disk_byte("f", 4) == 'A');
}

// Two mappings of one file in one process see each other's stores.
static void
two_mappings(void)
{
  char *p, *q;

  make_file("f", 3, 0);
  p = map_file("f", O_RDWR, 3 * PG, RW, MAP_SHARED);
  q = map_file("f", O_RDWR, 3 * PG, RW, MAP_SHARED);
  CHECK(p != q);
  p[2 * PG + 1] = 'p';
  q[PG + 1] = 'q';
  CHECK(q[2 * PG + 1] == 'p' && p[PG + 1] == 'q');
  CHECK(munmap(p, 3 * PG) == 0 && munmap(q, 3 * PG) == 0);
  CHECK(disk_byte("f", 2 * PG + 1) == 'p' && disk_byte("f", PG + 1) == 'q');
}

// Two processes that each open and map the file themselves see each
// other's stores.
static void
two_processes(void)
{
  int up[2], down[2], pid;
  char *p;

  make_file("f", 2, 0);
  CHECK(pipe(up) == 0 && pipe(down) == 0);
  if((pid = test_fork()) == 0){
    char *q = map_file("f", O_RDWR, 2 * PG, RW, MAP_SHARED);
    q[PG + 2] = 'c';
    put(up[1]);
    get(down[0]);
    if(q[2] != 'p')
      test_fail("child sees %d, want 'p'", q[2]);
    exit(0);
  }
  get(up[0]);
  p = map_file("f", O_RDWR, 2 * PG, RW, MAP_SHARED);
  CHECK(p[PG + 2] == 'c');
  p[2] = 'p';
  put(down[1]);
  CHECK_EQ(test_wait(pid), 0);
  CHECK(munmap(p, 2 * PG) == 0);
  CHECK(disk_byte("f", 2) == 'p' && disk_byte("f", PG + 2) == 'c');
}

// munmap writes back what was stored through the mapping and keeps what
// write() put in the same page (it used to write the whole stale page
// back over it).
static void
munmap_keeps_write(void)
{
  char *p;
  int fd;

  make_file("f", 1, 0);
  p = map_file("f", O_RDWR, PG, RW, MAP_SHARED);
  p[10] = 'm';
  CHECK((fd = open("f", O_RDWR)) >= 0);
  CHECK(lseek(fd, 100, 0) == 100);
  CHECK_EQ(write(fd, "W", 1), 1);
  close(fd);
  CHECK(munmap(p, PG) == 0);
  CHECK(disk_byte("f", 10) == 'm');
  CHECK(disk_byte("f", 100) == 'W');
}

// A page of a MAP_SHARED file mapping first touched after fork is shared
// while both processes live: the parent touches it first, then the child
// stores, then the parent sees the store (before any write-back).
static void
fork_absent_page(void)
{
  int up[2], down[2], pid;
  char *p;

  make_file("f", 2, 0);
  p = map_file("f", O_RDWR, 2 * PG, RW, MAP_SHARED);
  CHECK(pipe(up) == 0 && pipe(down) == 0);
  if((pid = test_fork()) == 0){
    get(down[0]);
    p[PG + 4] = 'c';
    put(up[1]);
    get(down[0]);
    exit(0);
  }
  CHECK(p[PG + 4] == 'B');         // present in the parent only after the fork
  put(down[1]);
  get(up[0]);
  CHECK(p[PG + 4] == 'c');
  put(down[1]);
  CHECK_EQ(test_wait(pid), 0);
  CHECK(munmap(p, 2 * PG) == 0);
  CHECK(disk_byte("f", PG + 4) == 'c');
}

// ---- exact dirty tracking -----------------------------------------------------

// mprotect (RW to RW, and to read-only) keeps a page's dirty bit: msync
// still writes it, once.
static void
mprotect_keeps_dirty(void)
{
  char *p;
  uint w0;

  make_file("f", 2, 0);
  p = map_file("f", O_RDWR, 2 * PG, RW, MAP_SHARED);
  p[5] = 'd';
  p[PG + 5] = 'e';
  CHECK(mprotect(p, PG, RW) == 0);
  CHECK(mprotect(p + PG, PG, PROT_READ) == 0);
  w0 = writes();
  CHECK(msync(p, 2 * PG, MS_SYNC) == 0);
  CHECK_EQ(writes() - w0, 2);
  w0 = writes();
  CHECK(msync(p, 2 * PG, MS_SYNC) == 0);
  CHECK(munmap(p, 2 * PG) == 0);
  CHECK_EQ(writes() - w0, 0);
  CHECK(disk_byte("f", 5) == 'd' && disk_byte("f", PG + 5) == 'e');
}

// msync in the parent writes a page only the child stored to (the child
// still mapping it), exactly once; the child's exit writes nothing more.
static void
msync_child_dirty(void)
{
  int up[2], down[2], pid;
  uint w0, m0;
  char *p;

  make_file("f", 4, 0);
  p = map_file("f", O_RDWR, 4 * PG, RW, MAP_SHARED);
  CHECK(p[2 * PG] == 2);           // present in the parent too
  CHECK(pipe(up) == 0 && pipe(down) == 0);
  if((pid = test_fork()) == 0){
    p[2 * PG + 9] = 'k';
    put(up[1]);
    get(down[0]);
    exit(0);
  }
  get(up[0]);
  w0 = writes();
  m0 = test_vmcounter(VM_WB_MSYNC);
  CHECK(msync(p, 4 * PG, MS_SYNC) == 0);
  CHECK_EQ(writes() - w0, 1);
  CHECK_EQ(test_vmcounter(VM_WB_MSYNC) - m0, 1);
  w0 = writes();
  put(down[1]);
  CHECK_EQ(test_wait(pid), 0);
  CHECK(munmap(p, 4 * PG) == 0);
  CHECK_EQ(writes() - w0, 0);
  CHECK(disk_byte("f", 2 * PG + 9) == 'k');
}

// Two processes dirty overlapping parts of one shared file mapping; one
// msync writes exactly the union, and nothing is written again after.
static void
dirty_union(void)
{
  int up[2], down[2], pid, i;
  uint w0;
  char *p;

  make_file("f", 16, 0);
  p = map_file("f", O_RDWR, 16 * PG, RW, MAP_SHARED);
  CHECK(pipe(up) == 0 && pipe(down) == 0);
  if((pid = test_fork()) == 0){
    for(i = 4; i < 12; i++)        // pages 4..11
      p[i * PG + 1] = 'c';
    put(up[1]);
    get(down[0]);
    exit(0);
  }
  for(i = 0; i < 8; i += 2)        // pages 0, 2, 4, 6
    p[i * PG + 2] = 'p';
  get(up[0]);
  w0 = writes();
  CHECK(msync(p, 16 * PG, MS_SYNC) == 0);
  CHECK_EQ(writes() - w0, 10);     // 0, 2, 4..11
  put(down[1]);
  CHECK_EQ(test_wait(pid), 0);
  w0 = writes();
  CHECK(munmap(p, 16 * PG) == 0);
  CHECK_EQ(writes() - w0, 0);
  CHECK(disk_byte("f", 6 * PG + 2) == 'p' && disk_byte("f", 11 * PG + 1) == 'c');
}

// fsync writes what mappings stored (in any process), once, with the
// fsync reason; what write() wrote needs nothing more.
static void
fsync_writes_dirty(void)
{
  int fd, pid;
  uint w0, f0;
  char *p;

  make_file("f", 3, 0);
  CHECK((fd = open("f", O_RDWR)) >= 0);
  p = map_fd(fd, 3 * PG, RW, MAP_SHARED, 0);
  if((pid = test_fork()) == 0){
    p[PG] = 'c';
    exit(0);                       // exit writes it back
  }
  CHECK_EQ(test_wait(pid), 0);
  p[2 * PG] = 'f';
  CHECK_EQ(write(fd, "w", 1), 1);
  w0 = writes();
  f0 = test_vmcounter(VM_WB_FSYNC);
  CHECK(fsync(fd) == 0);
  CHECK_EQ(writes() - w0, 1);
  CHECK_EQ(test_vmcounter(VM_WB_FSYNC) - f0, 1);
  CHECK(fsync(fd) == 0);
  CHECK_EQ(writes() - w0, 1);
  CHECK(munmap(p, 3 * PG) == 0);
  CHECK_EQ(writes() - w0, 1);
  close(fd);
  CHECK(disk_byte("f", 0) == 'w' && disk_byte("f", PG) == 'c' && disk_byte("f", 2 * PG) == 'f');
  CHECK_ERR(fsync(99), EBADF);
  CHECK((fd = open(".", O_RDONLY)) >= 0);
  CHECK_ERR(fsync(fd), EINVAL);
  close(fd);
}

// A process on the other CPU keeps storing to a page while this one
// msyncs it again and again: every msync finds the page dirty again (the
// other CPU's cached dirty bit was shot down), and writes it once.
static void
msync_while_storing(void)
{
  volatile int *seq = mmap(0, PG, RW, SHANON, -1, 0);
  uint w0, t0, s;
  int pid, i;
  char *p;

  CHECK(seq != MAP_FAILED);
  make_file("f", 1, 0);
  p = map_file("f", O_RDWR, PG, RW, MAP_SHARED);
  p[0] = 1;
  if((pid = test_fork()) == 0){
    for(;;){
      p[8]++;
      seq[0]++;
    }
  }
  t0 = test_vmcounter(VM_TLB_SHOOTDOWNS);
  for(i = 0; i < 20; i++){
    s = seq[0];
    while(seq[0] - s < 2)          // a store after the last msync
      ;
    w0 = writes();
    CHECK(msync(p, PG, MS_SYNC) == 0);
    CHECK_EQ(writes() - w0, 1);
  }
  kill(pid);
  CHECK_EQ(test_wait(pid), -1);
  printf("msync_while_storing: %d TLB shootdowns in 20 msyncs\n",
         test_vmcounter(VM_TLB_SHOOTDOWNS) - t0);
  CHECK(test_vmcounter(VM_TLB_SHOOTDOWNS) - t0 > 0);
  CHECK(munmap(p, PG) == 0 && munmap((void *)seq, PG) == 0);
}

// vm.msync_all=1 writes every cached page of the range (the baseline).
static void
msync_all_baseline(void)
{
  char *p;
  uint w0;
  int old;

  make_file("f", 4, 0);
  p = map_file("f", O_RDWR, 4 * PG, RW, MAP_SHARED);
  CHECK(p[0] == 0 && p[PG] == 1 && p[2 * PG] == 2);   // pages 0-2 cached
  p[PG + 1] = 'x';
  old = sysctl("vm.msync_all", 1);
  w0 = writes();
  CHECK(msync(p, 4 * PG, MS_SYNC) == 0);
  sysctl("vm.msync_all", old);
  CHECK_EQ(writes() - w0, 3);      // pages 0-2 (write() updates cached pages, adds none)
  w0 = writes();
  CHECK(msync(p, 4 * PG, MS_SYNC) == 0);
  CHECK_EQ(writes() - w0, 0);
  CHECK(munmap(p, 4 * PG) == 0);
}

// ---- no deadlock, killable ---------------------------------------------------

#define ABBA_PAGES 8

// Read (or write) file `from` into (from) a mapping of file `to` that is
// not present yet, rounds times.
static void
abba_worker(const char *from, const char *to, int rounds, int do_write)
{
  int fd, r;
  char *p;

  for(r = 0; rounds < 0 || r < rounds; r++){
    p = map_file(to, O_RDWR, ABBA_PAGES * PG, RW, MAP_SHARED);
    CHECK((fd = open(from, O_RDWR)) >= 0);
    if(do_write)
      CHECK_EQ(write(fd, p, ABBA_PAGES * PG), ABBA_PAGES * PG);
    else
      CHECK_EQ(read(fd, p, ABBA_PAGES * PG), ABBA_PAGES * PG);
    close(fd);
    CHECK(munmap(p, ABBA_PAGES * PG) == 0);
    sysctl("vm.drop_caches", 1);   // the next faults read the disk
  }
  exit(0);
}

// Two processes read A into a mapping of B and B into a mapping of A at
// the same time (it used to deadlock both for good); then the same with
// write().
static void
abba(void)
{
  int pa, pb, w;

  for(w = 0; w < 2; w++){
    make_file("a", ABBA_PAGES, 0);
    make_file("b", ABBA_PAGES, 0);
    if((pa = test_fork()) == 0)
      abba_worker("a", "b", 20, w);
    if((pb = test_fork()) == 0)
      abba_worker("b", "a", 20, w);
    CHECK_EQ(test_wait(pa), 0);
    CHECK_EQ(test_wait(pb), 0);
  }
}

// Two ABBA pairs running forever are killed in the middle of their copies
// and both go away.
static void
abba_kill(void)
{
  int pa, pb;

  make_file("a", ABBA_PAGES, 0);
  make_file("b", ABBA_PAGES, 0);
  if((pa = test_fork()) == 0)
    abba_worker("a", "b", -1, 0);
  if((pb = test_fork()) == 0)
    abba_worker("b", "a", -1, 1);
  sleep(20);
  CHECK(kill(pa) == 0 && kill(pb) == 0);
  CHECK_EQ(test_wait(pa), -1);
  CHECK_EQ(test_wait(pb), -1);
}

// read() of a file into a mapping of the same page of the same file (and
// write() from one) completes.
static void
read_into_self(void)
{
  char *p;
  int fd;

  make_file("f", 2, 0);
  CHECK((fd = open("f", O_RDWR)) >= 0);
  p = map_fd(fd, 2 * PG, RW, MAP_SHARED, 0);
  CHECK(lseek(fd, 0, 0) == 0);
  CHECK_EQ(read(fd, p + 1, 100), 100);   // the page is not present yet
  CHECK(p[1] == 0 && p[2] == 'A');
  CHECK(lseek(fd, PG, 0) == PG);
  CHECK_EQ(write(fd, p + PG + 10, 50), 50);
  CHECK(p[PG] == 'B');
  CHECK(munmap(p, 2 * PG) == 0);
  close(fd);
}

// ---- end of file ---------------------------------------------------------------

static void
store_past_eof(void *arg)
{
  ((volatile char *)arg)[0] = 1;
  exit(3);
}

// Bytes past the end in the last page read as zero and are never written;
// reading a page wholly past the end gives zeros, storing there kills.
static void
eof_rules(void)
{
  char *p;
  int pid;

  make_file("f", 0, 100);
  p = map_file("f", O_RDWR, 3 * PG, RW, MAP_SHARED);
  CHECK(p[99] == 'z' && p[100] == 0 && p[PG - 1] == 0);
  p[5] = 'e';
  p[200] = 'x';                    // past the end: not written
  CHECK(p[2 * PG] == 0);           // wholly past the end: reads zero
  if((pid = test_fork()) == 0)
    store_past_eof(p + PG + 1);
  CHECK_EQ(test_wait(pid), -1);
  if((pid = test_fork()) == 0)
    store_past_eof(p + 2 * PG);    // read before (the zero page): still a bus error
  CHECK_EQ(test_wait(pid), -1);
  CHECK(msync(p, 3 * PG, MS_SYNC) == 0);
  CHECK(munmap(p, 3 * PG) == 0);
  CHECK_EQ(file_size("f"), 100);
  CHECK(disk_byte("f", 5) == 'e');
  p = map_file("f", O_RDONLY, PG, PROT_READ, MAP_PRIVATE);
  CHECK(p[200] == 0);
  CHECK(munmap(p, PG) == 0);
}

// A write() that makes the file longer turns the bytes between the old
// end and the write into zeros, even if a mapping stored there.
static void
eof_grow(void)
{
  char *p;
  int fd;

  make_file("f", 0, 100);
  p = map_file("f", O_RDWR, PG, RW, MAP_SHARED);
  p[300] = 'x';
  CHECK((fd = open("f", O_RDWR)) >= 0);
  CHECK(lseek(fd, 400, 0) == 400);
  CHECK_EQ(write(fd, "g", 1), 1);
  close(fd);
  CHECK(p[300] == 0 && p[400] == 'g');
  CHECK(file_byte("f", 300) == 0);
  CHECK(munmap(p, PG) == 0);
}

// A page wholly past the end that a mapping has read (the zero page) shows
// the file's bytes once write() or ftruncate makes the file reach it, in
// shared and private mappings alike; a store there is then no bus error.
static void
eof_zero_page_grows(void)
{
  char *p, *q;
  int fd;

  make_file("f", 0, 100);
  p = map_file("f", O_RDWR, 4 * PG, RW, MAP_SHARED);
  q = map_file("f", O_RDONLY, 4 * PG, PROT_READ, MAP_PRIVATE);
  CHECK(p[2 * PG + 10] == 0 && q[2 * PG + 10] == 0);   // the zero page
  CHECK(p[3 * PG] == 0 && q[3 * PG] == 0);
  CHECK((fd = open("f", O_RDWR)) >= 0);
  CHECK(lseek(fd, 2 * PG + 10, 0) == 2 * PG + 10);
  CHECK_EQ(write(fd, "w", 1), 1);
  CHECK(p[2 * PG + 10] == 'w' && q[2 * PG + 10] == 'w');
  CHECK(ftruncate(fd, 4 * PG) == 0);
  p[3 * PG] = 't';                 // now inside the file
  CHECK(q[3 * PG] == 't');
  CHECK(msync(p, 4 * PG, MS_SYNC) == 0);
  CHECK(disk_byte("f", 3 * PG) == 't');
  close(fd);
  CHECK(munmap(p, 4 * PG) == 0);
  CHECK(munmap(q, 4 * PG) == 0);
}

// exec reads the program through the page cache: a store a shared
// mapping made to the file, not yet written back, is what runs.
static void
exec_sees_mapped_store(void)
{
  static char img[64 * 1024];
  int fd, n, pid;
  char *p;

  CHECK((fd = open("/echo", O_RDONLY)) >= 0);
  n = read(fd, img, sizeof(img));
  close(fd);
  CHECK(n > 0 && n < (int)sizeof(img) && img[0] == 0x7f);
  img[0] = 'X';                      // on disk: not an ELF file
  CHECK((fd = open("prog", O_CREATE | O_TRUNC | O_RDWR)) >= 0);
  CHECK_EQ(write(fd, img, n), n);
  p = map_fd(fd, PG, RW, MAP_SHARED, 0);
  close(fd);
  p[0] = 0x7f;                       // in the cache: the real header
  if((pid = test_fork()) == 0){
    char *argv[] = { "prog", "ran", 0 };
    close(1);
    open("prog.out", O_CREATE | O_TRUNC | O_WRONLY);
    exec("prog", argv);
    exit(errno == ENOEXEC ? 7 : 8);
  }
  CHECK_EQ(test_wait(pid), 0);
  CHECK(file_byte("prog.out", 0) == 'r');
  CHECK(munmap(p, PG) == 0);
  CHECK(unlink("prog") == 0 && unlink("prog.out") == 0);
}

// ftruncate shrinks (pages past the end leave every mapping: touching
// them kills; the last page's tail reads zero) and grows (zeros).
static void
truncate_file(void)
{
  char *p;
  int fd, pid;

  make_file("f", 4, 0);
  CHECK((fd = open("f", O_RDWR)) >= 0);
  p = map_fd(fd, 4 * PG, RW, MAP_SHARED, 0);
  CHECK(p[3 * PG] == 3 && p[PG + 50] == 'B');
  CHECK(ftruncate(fd, PG + 10) == 0);
  CHECK_EQ(file_size("f"), PG + 10);
  CHECK(p[PG + 9] == 'B' && p[PG + 10] == 0);
  if((pid = test_fork()) == 0)
    store_past_eof(p + 3 * PG);
  CHECK_EQ(test_wait(pid), -1);
  CHECK(ftruncate(fd, 3 * PG) == 0);
  CHECK(p[PG + 10] == 0 && p[2 * PG + 5] == 0 && file_byte("f", 2 * PG + 5) == 0);
  p[2 * PG + 5] = 'n';
  CHECK(munmap(p, 4 * PG) == 0);
  CHECK(disk_byte("f", 2 * PG + 5) == 'n' && disk_byte("f", PG + 20) == 0);
  CHECK(ftruncate(fd, 0) == 0);
  CHECK_EQ(file_size("f"), 0);
  close(fd);
  CHECK((fd = open("f", O_RDONLY)) >= 0);
  CHECK_ERR(ftruncate(fd, 10), EBADF);
  close(fd);
  CHECK((fd = open(".", O_RDONLY)) >= 0);
  CHECK_ERR(ftruncate(fd, 10), EINVAL);
  close(fd);
  CHECK_ERR(ftruncate(99, 10), EBADF);
}

// ---- the cache under pressure --------------------------------------------------

// Reading a file twice reads it from disk once; drop_caches frees exactly
// its pages; then it is read from disk again.
static void
cache_counts(void)
{
  static char buf[PG];
  uint h0, m0, f0;
  int fd, i;

  make_file("f", 8, 0);
  CHECK(sysctl("vm.drop_caches", 1) >= 0);
  m0 = test_vmcounter(VM_PCACHE_MISSES);
  h0 = test_vmcounter(VM_PCACHE_HITS);
  for(i = 0; i < 2; i++){
    CHECK((fd = open("f", O_RDONLY)) >= 0);
    while(read(fd, buf, PG) == PG)
      ;
    close(fd);
  }
  CHECK_EQ(test_vmcounter(VM_PCACHE_MISSES) - m0, 8);
  CHECK_EQ(test_vmcounter(VM_PCACHE_HITS) - h0, 8);
  f0 = test_vmcounter(VM_PCACHE_FREED);
  CHECK(sysctl("vm.drop_caches", 1) >= 0);
  CHECK_EQ(test_vmcounter(VM_PCACHE_FREED) - f0, 8);
  CHECK(file_byte("f", 7 * PG) == 7);
  CHECK_EQ(test_vmcounter(VM_PCACHE_MISSES) - m0, 9);
}

#define BIGPAGES 3008             // a multiple of CHUNK
#define CHUNK 16

// Read the whole file "big", checking each chunk's stamp. Returns pages.
static int
read_big(void)
{
  static char buf[CHUNK * PG];
  int fd, n, pages = 0;

  CHECK((fd = open("big", O_RDONLY)) >= 0);
  while((n = read(fd, buf, sizeof(buf))) > 0){
    if(((int *)buf)[0] != pages)
      test_fail("page %d holds stamp %d", pages, ((int *)buf)[0]);
    pages += n / PG;
  }
  CHECK_EQ(n, 0);
  close(fd);
  return pages;
}

// The cache never keeps memory from a process that needs it: with a file
// cached, a process takes all free memory and more (clean cache pages are
// freed, least recently used first), and then the file, larger than what
// is left, is read twice correctly.
static void
cache_pressure(void)
{
  static char buf[CHUNK * PG];
  int fd, i, pid, f0;
  char *heap;

  CHECK((fd = open("big", O_CREATE | O_TRUNC | O_RDWR)) >= 0);
  for(i = 0; i < BIGPAGES; i += CHUNK){
    ((int *)buf)[0] = i;
    CHECK_EQ(write(fd, buf, sizeof(buf)), sizeof(buf));
  }
  close(fd);
  CHECK_EQ(read_big(), BIGPAGES);           // now (mostly) cached
  if((pid = test_fork()) == 0){
    f0 = test_freepages();                  // drops the cache: read it again
    CHECK_EQ(read_big(), BIGPAGES);
    CHECK((heap = sbrk((f0 - 1000) * PG)) != (char *)-1);
    for(i = 0; i < f0 - 1000; i++)          // more than is free without the cache
      heap[i * PG] = 1;
    CHECK_EQ(read_big(), BIGPAGES);         // with ~1000 pages left for it
    CHECK_EQ(read_big(), BIGPAGES);
    exit(0);
  }
  CHECK_EQ(test_wait(pid), 0);
  CHECK(unlink("big") == 0);
}

static struct test tests[] = {
  TEST(anon_fork),
  TEST(anon_untouched),
  TEST(anon_family),
  TEST(anon_split),
  TEST(write_then_mapped),
  TEST(read_sees_store),
  TEST(two_mappings),
  TEST(two_processes),
  TEST(munmap_keeps_write),
  TEST(fork_absent_page),
  TEST(mprotect_keeps_dirty),
  TEST(msync_child_dirty),
  TEST(dirty_union),
  TEST(fsync_writes_dirty),
  TEST(msync_while_storing),
  TEST(msync_all_baseline),
  TEST(abba),
  TEST(abba_kill),
  TEST(read_into_self),
  TEST(eof_rules),
  TEST(eof_grow),
  TEST(eof_zero_page_grows),
  TEST(exec_sees_mapped_store),
  TEST(truncate_file),
  TEST(cache_counts),
  TEST(cache_pressure),
};

int
main(int argc, char **argv)
{
  test_set_timeout(6000);
  return test_run("shm", tests, sizeof(tests) / sizeof(tests[0]), argc, argv);
}
