// vmtest: tests of the virtual-memory system (issue 5): lazy sbrk, anonymous
// mmap/munmap/mprotect, protection faults, out of memory, fork, vm.lazy,
// and system calls given lazily-allocated buffers.
//
//   vmtest            run every test
//   vmtest NAME...    run the named tests only
// Each test runs in a forked child; the parent compares free pages before
// and after (a difference is a leak, reported as a FAIL). Prints
// "PASS vm.NAME" or "FAIL vm.NAME: reason" per test; exits 1 if any failed.
#include "kernel/types.h"
#include "kernel/memstat.h"
#include "kernel/mman.h"
#include "kernel/fcntl.h"
#include "kernel/tracectl.h"
#include "user/user.h"

#define PG        4096
#define GUARD_VA  (0x80000000u - 256 * 1024 - PG)   // page below the user stack
#define UNMAPPED  ((char *)0x50000000)              // nothing maps here in these tests
#define MAPRW     (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW        (PROT_READ | PROT_WRITE)

static const char *curtest;

// ---- helpers ----------------------------------------------------------------

// Report a failed check of the running test and end its child.
static void
fail(int line, const char *what)
{
  printf("FAIL vm.%s: line %d: %s\n", curtest, line, what);
  exit(1);
}
#define CHECK(c) do { if(!(c)) fail(__LINE__, #c); } while(0)

static uint
freepages(void)
{
  struct memstat ms;

  if(memstat(&ms) < 0)
    return 0;
  return ms.free_pages;
}

static void
counters(struct vmstat *c)
{
  if(vmstat(c, sizeof(*c)) < 0)
    fail(__LINE__, "vmstat failed");
}

static char *
map(uint len, int prot, int flags)
{
  char *p = mmap(0, len, prot, flags, -1, 0);

  if(p == MAP_FAILED)
    fail(__LINE__, "mmap failed");
  return p;
}

// Run f in a child; return its wait status (f's result, or -1 if killed).
static int
in_child(void (*f)(void *), void *arg)
{
  int pid, st = 12345;

  if((pid = fork()) < 0)
    fail(__LINE__, "fork failed");
  if(pid == 0){
    f(arg);
    exit(0);
  }
  if(wait(&st) != pid)
    fail(__LINE__, "wait failed");
  return st;
}

// ---- bad accesses, each made by a child that must die ------------------------

static void bad_null_read(void *a)  { exit(*(volatile int *)0 + 100); }
static void bad_null_write(void *a) { *(volatile int *)0 = 1; }
static void bad_write_text(void *a) { *(volatile char *)bad_write_text = 1; }
static void bad_read(void *a)       { exit(*(volatile char *)a + 100); }
static void bad_write(void *a)      { *(volatile char *)a = 1; }
static void bad_kernel(void *a)     { exit(*(volatile char *)0x80100000 + 100); }

static int
recurse(int n)
{
  volatile char buf[1024];

  buf[0] = n;
  if(n == 0)
    return buf[0];
  return recurse(n - 1) + buf[0];
}

static void bad_stack_overflow(void *a) { exit(recurse(1000) + 100); }  // 1 MiB > 256 KiB stack
static void ok_deep_stack(void *a)      { exit(recurse(200) == 0 ? 0 : 0); } // 200 KiB fits

// ---- tests --------------------------------------------------------------------

// 1 GiB of heap with MEM=128: reserve it, touch a sparse subset, give it back.
static void
t_sbrk_sparse(void)
{
  struct vmstat a, b;
  uint f0 = freepages(), i, n = 0;
  char *p;

  counters(&a);
  p = sbrk(1 << 30);
  CHECK(p != (char *)-1);
  CHECK(freepages() == f0);                    // reserved, not allocated
  for(i = 0; i < (1u << 30); i += 997 * PG, n++)
    p[i + (i & 0xFFF)] = (char)(i >> 12);
  counters(&b);
  CHECK(b.v[VM_FAULT_ZERO] - a.v[VM_FAULT_ZERO] == n);
  for(i = 0; i < (1u << 30); i += 997 * PG)
    CHECK(p[i + (i & 0xFFF)] == (char)(i >> 12));
  CHECK(p[PG] == 0 && p[(1 << 30) - 1] == 0);  // untouched pages read as zeros
  CHECK(sbrk(-(1 << 30)) == p + (1 << 30));
  if(freepages() != f0)
    printf("sparse: free %d before, %d after\n", f0, freepages());
  CHECK(freepages() == f0);
}

// Shrinking frees the pages; growing again gives fresh zero pages.
static void
t_sbrk_shrink_regrow(void)
{
  uint f0 = freepages(), i;
  char *p = sbrk(16 * PG);

  CHECK(p != (char *)-1);
  memset(p, 0x5A, 16 * PG);
  CHECK(freepages() < f0);
  CHECK(sbrk(-16 * PG) == p + 16 * PG);
  CHECK(freepages() == f0);
  CHECK(sbrk(16 * PG) == p);
  for(i = 0; i < 16 * PG; i++)
    if(p[i] != 0)
      fail(__LINE__, "regrown heap not zero");
  CHECK(sbrk(-16 * PG) == p + 16 * PG);
}

// mmap reserves; pages appear on touch; munmap frees them.
static void
t_mmap_lazy(void)
{
  uint f0 = freepages(), i;
  char *p = map(64 * PG, RW, MAPRW);

  CHECK(((uint)p & (PG - 1)) == 0);
  CHECK(freepages() >= f0 - 1);                // at most the kmalloc'd mapping
  for(i = 0; i < 64; i++)
    CHECK(p[i * PG + 7] == 0);
  for(i = 0; i < 64; i++)
    p[i * PG] = i;
  for(i = 0; i < 64; i++)
    CHECK(p[i * PG] == i);
  CHECK(munmap(p, 64 * PG) == 0);
  CHECK(freepages() == f0);
}

// The number of page faults equals the number of distinct pages touched.
static void
t_fault_count(void)
{
  struct vmstat a, b;
  char *p = map(64 * PG, RW, MAPRW);
  int i;

  counters(&b);                                // warm up this stack depth
  counters(&a);
  for(i = 0; i < 64; i += 3){
    p[i * PG] = 1;                             // first touch: a write
    p[i * PG + 100] = 2;                       // same page again
    CHECK(p[i * PG + 4000] == 0);
  }
  for(i = 1; i < 64; i += 3)
    CHECK(p[i * PG + 5] == 0);                 // first touch: a read
  counters(&b);
  CHECK(b.v[VM_FAULT_ZERO] - a.v[VM_FAULT_ZERO] == 22 + 21);
  CHECK(b.v[VM_FAULT_BAD_ADDR] == a.v[VM_FAULT_BAD_ADDR] && b.v[VM_FAULT_BAD_ACCESS] == a.v[VM_FAULT_BAD_ACCESS]);
  CHECK(munmap(p, 64 * PG) == 0);
}

// Unmapping the middle of a mapping leaves both ends usable.
static void
t_munmap_middle(void)
{
  uint f0 = freepages();
  char *p = map(8 * PG, RW, MAPRW);
  int i;

  for(i = 0; i < 8; i++)
    p[i * PG] = 'a' + i;
  CHECK(munmap(p + 3 * PG, 2 * PG) == 0);
  for(i = 0; i < 8; i++)
    if(i < 3 || i > 4)
      CHECK(p[i * PG] == 'a' + i);
  p[2 * PG + 1] = 'x';
  p[5 * PG + 1] = 'y';
  p[7 * PG + 1] = 'z';
  CHECK(in_child(bad_read, p + 3 * PG) == -1);
  CHECK(in_child(bad_write, p + 4 * PG + 9) == -1);
  CHECK(p[2 * PG + 1] == 'x' && p[5 * PG + 1] == 'y');
  CHECK(munmap(p, 8 * PG) == 0);               // spans the hole: fine
  CHECK(freepages() == f0);
}

// munmap of a range nothing maps succeeds; so does one across a hole.
static void
t_munmap_unmapped(void)
{
  char *p = map(4 * PG, RW, MAPRW);

  CHECK(munmap(UNMAPPED, 16 * PG) == 0);
  p[0] = 1;
  CHECK(munmap(p, 4 * PG) == 0);
  CHECK(munmap(p, 4 * PG) == 0);
  CHECK(in_child(bad_read, p) == -1);          // after munmap: gone
}

// MAP_FIXED replaces what was mapped in its range.
static void
t_mmap_fixed(void)
{
  uint f0 = freepages();
  char *p = map(4 * PG, RW, MAPRW), *q;

  memset(p, 'a', 4 * PG);
  q = mmap(p + PG, 2 * PG, RW, MAPRW | MAP_FIXED, -1, 0);
  CHECK(q == p + PG);
  CHECK(p[0] == 'a' && p[3 * PG] == 'a');
  CHECK(q[0] == 0 && q[2 * PG - 1] == 0);
  q[0] = 'b';
  CHECK(munmap(p, 4 * PG) == 0);
  CHECK(freepages() == f0);
}

// A free hint address is used as given; an occupied one is not.
static void
t_mmap_hint(void)
{
  char *p = map(4 * PG, RW, MAPRW), *q, *r;

  CHECK(munmap(p, 4 * PG) == 0);
  q = mmap(p + PG, PG, RW, MAPRW, -1, 0);
  CHECK(q == p + PG);
  r = mmap(q, PG, RW, MAPRW, -1, 0);
  CHECK(r != MAP_FAILED && r != q);
  CHECK(munmap(q, PG) == 0 && munmap(r, PG) == 0);
}

#define MMAP_ERR(call, e) do { errno = 0; CHECK((call) == MAP_FAILED && errno == (e)); } while(0)

// Argument errors of mmap, munmap and mprotect.
static void
t_mmap_errors(void)
{
  char *p = map(2 * PG, RW, MAPRW);

  MMAP_ERR(mmap(0, 0, RW, MAPRW, -1, 0), EINVAL);
  MMAP_ERR(mmap(p + 1, PG, RW, MAPRW | MAP_FIXED, -1, 0), EINVAL);
  MMAP_ERR(mmap(0, PG, RW, MAP_ANONYMOUS, -1, 0), EINVAL);          // neither private nor shared
  MMAP_ERR(mmap(0, PG, RW, MAPRW | MAP_SHARED, -1, 0), EINVAL);     // both
  MMAP_ERR(mmap(0, PG, RW, MAPRW | 0x40000, -1, 0), EINVAL);        // unknown flag
  MMAP_ERR(mmap(0, PG, 0x80, MAPRW, -1, 0), EINVAL);                // unknown prot
  MMAP_ERR(mmap(0, PG, RW, MAPRW, -1, 123), EINVAL);                // unaligned offset
  MMAP_ERR(mmap((void *)0x80000000, PG, RW, MAPRW | MAP_FIXED, -1, 0), EINVAL);  // kernel
  MMAP_ERR(mmap(0, PG, RW, MAPRW | MAP_FIXED, -1, 0), EINVAL);      // page 0
  MMAP_ERR(mmap(0, 0x7FFF0000, RW, MAPRW, -1, 0), ENOMEM);          // bigger than user space
  errno = 0;
  CHECK(munmap(p + 1, PG) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(munmap(p, 0) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(mprotect(p + 1, PG, PROT_READ) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(mprotect(p, PG, 0x80) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(mprotect(UNMAPPED, PG, PROT_READ) == -1 && errno == ENOMEM);
  errno = 0;
  CHECK(mprotect(p, 3 * PG, PROT_READ) == -1 && errno == ENOMEM);   // runs past the end
  CHECK(munmap(p, 2 * PG) == 0);
}

// When the address space is full, mmap fails with ENOMEM.
static void
t_mmap_nospace(void)
{
  char *maps[64];
  int n, i;

  for(n = 0; n < 64; n++){
    maps[n] = mmap(0, 256 << 20, RW, MAPRW, -1, 0);
    if(maps[n] == MAP_FAILED)
      break;
  }
  CHECK(n > 4 && n < 64 && errno == ENOMEM);
  for(i = 0; i < n; i++)
    CHECK(munmap(maps[i], 256 << 20) == 0);
}

// mprotect changes present pages too, splits mappings, keeps contents.
static void
t_mprotect(void)
{
  char *p = map(3 * PG, RW, MAPRW);

  p[0] = 'a';
  p[PG] = 'b';
  p[2 * PG] = 'c';
  CHECK(mprotect(p + PG, PG, PROT_READ) == 0);
  CHECK(p[PG] == 'b');
  CHECK(in_child(bad_write, p + PG) == -1);
  p[0] = 'A';                                  // both ends still writable
  p[2 * PG] = 'C';
  CHECK(mprotect(p + PG, PG, PROT_NONE) == 0);
  CHECK(in_child(bad_read, p + PG) == -1);
  CHECK(mprotect(p, 3 * PG, RW) == 0);
  CHECK(p[0] == 'A' && p[PG] == 'b' && p[2 * PG] == 'C');
  p[PG] = 'B';
  CHECK(munmap(p, 3 * PG) == 0);
}

// Every kind of bad access kills only the child that made it.
static void
t_bad_access(void)
{
  char *ro = map(PG, PROT_READ, MAPRW);
  char *none = map(PG, PROT_NONE, MAPRW);
  char *gone = map(PG, RW, MAPRW);

  gone[0] = 1;
  CHECK(munmap(gone, PG) == 0);
  CHECK(in_child(bad_null_read, 0) == -1);
  CHECK(in_child(bad_null_write, 0) == -1);
  CHECK(in_child(bad_write_text, 0) == -1);
  CHECK(in_child(bad_write, ro) == -1);
  CHECK(ro[5] == 0);                           // reading it is fine
  CHECK(in_child(bad_read, none) == -1);
  CHECK(in_child(bad_write, none) == -1);
  CHECK(in_child(bad_write, (void *)GUARD_VA) == -1);
  CHECK(in_child(bad_stack_overflow, 0) == -1);
  CHECK(in_child(ok_deep_stack, 0) == 0);
  CHECK(in_child(bad_read, UNMAPPED) == -1);
  CHECK(in_child(bad_read, gone) == -1);
  CHECK(in_child(bad_kernel, 0) == -1);
  CHECK(munmap(ro, PG) == 0 && munmap(none, PG) == 0);
}

static void
touch_all(void *arg)
{
  uint i, len = (uint)arg;
  char *p = sbrk(len);

  if(p == (char *)-1)
    exit(2);
  for(i = 0; i < len; i += PG)
    p[i] = 1;
  exit(3);                                     // not reached: memory runs out first
}

// Touching more memory than there is kills the toucher, and gives every
// page back; the kernel and this process run on.
static void
t_oom_touch(void)
{
  char *p = map(PG, RW, MAPRW);
  uint f0;

  p[0] = 7;
  f0 = freepages();
  CHECK(in_child(touch_all, (void *)(1u << 30)) == -1);
  CHECK(freepages() == f0);
  CHECK(p[0] == 7);
  CHECK(munmap(p, PG) == 0);
}

struct forkarg {
  char *p;
};

static void
fork_child(void *arg)
{
  struct vmstat a, b;
  char *p = ((struct forkarg *)arg)->p;
  int i, bad = 0;

  counters(&b);
  counters(&a);
  for(i = 0; i < 10; i++)
    bad |= p[i * PG] != 'a' + i;               // copied from the parent: no fault
  counters(&b);
  if(bad || b.v[VM_FAULT_ZERO] != a.v[VM_FAULT_ZERO])
    exit(10);
  counters(&a);
  bad |= p[50 * PG] != 0;                      // never touched: faults now
  counters(&b);
  if(bad || b.v[VM_FAULT_ZERO] - a.v[VM_FAULT_ZERO] != 1)
    exit(11);
  p[0] = 'z';                                  // private to the child
  exit(0);
}

// fork copies the mappings; pages never touched stay untouched.
static void
t_fork_lazy(void)
{
  struct forkarg fa;
  uint f0, f1;
  int i;

  fa.p = map(100 * PG, RW, MAPRW);
  for(i = 0; i < 10; i++)
    fa.p[i * PG] = 'a' + i;
  f0 = freepages();
  CHECK(in_child(fork_child, &fa) == 0);
  f1 = freepages();
  CHECK(f1 == f0);
  CHECK(fa.p[0] == 'a');
  CHECK(munmap(fa.p, 100 * PG) == 0);
}

// vm.lazy=0 and MAP_POPULATE allocate at sbrk/mmap time: touching then
// takes no faults.
static void
t_lazy_eager(void)
{
  struct vmstat a, b;
  int old, i;
  char *p, *q;
  uint f0;

  old = sysctl("vm.lazy", -1);
  CHECK(old == 1);
  errno = 0;
  CHECK(sysctl("vm.nosuch", -1) == -1 && errno == ENOENT);
  errno = 0;
  CHECK(sysctl("vm.lazy", 7) == -1 && errno == EINVAL);
  f0 = freepages();
  p = map(32 * PG, RW, MAPRW | MAP_POPULATE);
  CHECK(f0 - freepages() >= 32);               // allocated at mmap time
  counters(&b);
  for(i = 0; i < 32; i++)
    CHECK(p[i * PG] == 0);
  counters(&a);
  CHECK(a.v[VM_FAULT_ZERO] == b.v[VM_FAULT_ZERO]);
  CHECK(munmap(p, 32 * PG) == 0);

  CHECK(sysctl("vm.lazy", 0) == 1);
  CHECK(sysctl("vm.lazy", -1) == 0);
  f0 = freepages();
  p = map(16 * PG, RW, MAPRW);
  q = sbrk(16 * PG);
  CHECK(q != (char *)-1);
  CHECK(f0 - freepages() >= 32);
  counters(&b);
  for(i = 0; i < 16; i++)
    p[i * PG] = q[i * PG] = 1;
  counters(&a);
  CHECK(a.v[VM_FAULT_ZERO] == b.v[VM_FAULT_ZERO]);
  errno = 0;
  CHECK(sbrk(1 << 30) == (char *)-1 && errno == ENOMEM);   // eager 1 GiB: no
  CHECK(sysctl("vm.lazy", 1) == 0);
  CHECK(munmap(p, 16 * PG) == 0);
  CHECK(sbrk(-16 * PG) == q + 16 * PG);
}

// System calls given pointers into untouched lazy memory work; pointers
// outside any mapping (or into memory the call may not use) give EFAULT.
static void
t_syscall_lazy(void)
{
  char *src = map(4 * PG, RW, MAPRW), *dst = map(4 * PG, RW, MAPRW), *ro;
  int fds[2], fd, i;
  static char msg[] = "hello through a pipe";

  CHECK(pipe(fds) == 0);
  CHECK(write(fds[1], src + PG - 100, 200) == 200);          // untouched source
  CHECK(read(fds[0], dst + PG - 50, 200) == 200);            // untouched destination
  for(i = 0; i < 200; i++)
    CHECK(dst[PG - 50 + i] == 0);
  CHECK(write(fds[1], msg, sizeof(msg)) == sizeof(msg));
  CHECK(read(fds[0], dst + 3 * PG - 5, sizeof(msg)) == sizeof(msg));
  CHECK(strcmp(dst + 3 * PG - 5, msg) == 0);
  errno = 0;
  CHECK(write(fds[1], UNMAPPED, 10) == -1 && errno == EFAULT);
  ro = map(PG, PROT_READ, MAPRW);
  CHECK(write(fds[1], msg, 4) == 4);
  errno = 0;
  CHECK(read(fds[0], ro, 4) == -1 && errno == EFAULT);       // read-only buffer
  close(fds[0]);
  close(fds[1]);

  CHECK((fd = open("/vmtest", O_RDONLY)) >= 0);              // a file into lazy memory
  CHECK(read(fd, src + 2 * PG, PG) == PG);
  CHECK(src[2 * PG] == 0x7F && src[2 * PG + 1] == 'E' && src[2 * PG + 3] == 'F');
  close(fd);
  CHECK(munmap(src, 4 * PG) == 0 && munmap(dst, 4 * PG) == 0 && munmap(ro, PG) == 0);
}

static void
exec_lazy_child(void *arg)
{
  char **argv = (char **)map(PG, RW, MAPRW);
  char *strs = map(2 * PG, RW, MAPRW);

  strcpy(strs, "-argcheck");
  strcpy(strs + PG - 3, "hello");            // crosses into an untouched page
  argv[0] = "vmtest";
  argv[1] = strs;
  argv[2] = strs + PG - 3;
  argv[3] = strs + PG + 100;                 // untouched: the empty string
  argv[4] = 0;
  exec("/vmtest", argv);
  exit(5);
}

// exec takes its arguments from lazily-allocated memory.
static void
t_exec_lazy(void)
{
  CHECK(in_child(exec_lazy_child, 0) == 42);
}

// A 150 KiB stack grows lazily, a page per fault, within its 256 KiB mapping.
static void
t_stack_lazy(void)
{
  struct vmstat a, b;

  counters(&b);
  counters(&a);
  CHECK(recurse(150) >= 0);
  counters(&b);
  if(b.v[VM_FAULT_ZERO] - a.v[VM_FAULT_ZERO] < 36)
    printf("stack faults %d\n", b.v[VM_FAULT_ZERO] - a.v[VM_FAULT_ZERO]);
  CHECK(b.v[VM_FAULT_ZERO] - a.v[VM_FAULT_ZERO] >= 36);   // 150 KiB = 37.5 pages
}

// ---- runner -------------------------------------------------------------------

static struct test {
  void (*fn)(void);
  const char *name;
} tests[] = {
  { t_sbrk_sparse,       "sbrk_sparse_1g" },
  { t_sbrk_shrink_regrow, "sbrk_shrink_regrow" },
  { t_mmap_lazy,         "mmap_lazy" },
  { t_fault_count,       "fault_count" },
  { t_munmap_middle,     "munmap_middle" },
  { t_munmap_unmapped,   "munmap_unmapped" },
  { t_mmap_fixed,        "mmap_fixed" },
  { t_mmap_hint,         "mmap_hint" },
  { t_mmap_errors,       "mmap_errors" },
  { t_mmap_nospace,      "mmap_nospace" },
  { t_mprotect,          "mprotect" },
  { t_bad_access,        "bad_access" },
  { t_oom_touch,         "oom_touch" },
  { t_fork_lazy,         "fork_lazy" },
  { t_lazy_eager,        "lazy_eager" },
  { t_syscall_lazy,      "syscall_lazy" },
  { t_exec_lazy,         "exec_lazy" },
  { t_stack_lazy,        "stack_lazy" },
};

// Run one test in a child; 1 if it passed without leaking pages.
static int
run(struct test *t, int lazy)
{
  uint before, after;
  int pid, st = -1;

  curtest = t->name;
  before = freepages();
  if((pid = fork()) < 0){
    printf("FAIL vm.%s: fork failed\n", t->name);
    return 0;
  }
  if(pid == 0){
    t->fn();
    exit(0);
  }
  if(wait(&st) != pid)
    st = -2;
  sysctl("vm.lazy", lazy);                   // a failed test may have left it changed
  after = freepages();
  if(st == 1)
    return 0;                                // the child printed why
  if(st != 0){
    printf("FAIL vm.%s: child exited with status %d\n", t->name, st);
    return 0;
  }
  if(after != before){
    printf("FAIL vm.%s: free pages %d before, %d after\n", t->name, before, after);
    return 0;
  }
  printf("PASS vm.%s\n", t->name);
  return 1;
}

static int
selected(const char *name, int argc, char **argv)
{
  int i;

  if(argc < 2)
    return 1;
  for(i = 1; i < argc; i++)
    if(strcmp(argv[i], name) == 0)
      return 1;
  return 0;
}

int
main(int argc, char **argv)
{
  uint i;
  int failed = 0, lazy;

  if(argc == 4 && strcmp(argv[1], "-argcheck") == 0)
    exit(strcmp(argv[2], "hello") == 0 && argv[3][0] == 0 ? 42 : 43);
  lazy = sysctl("vm.lazy", -1);
  if(lazy < 0)
    lazy = 1;
  for(i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
    if(selected(tests[i].name, argc, argv) && !run(&tests[i], lazy))
      failed++;
  exit(failed ? 1 : 0);
}
