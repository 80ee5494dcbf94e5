// vmtest: tests of the virtual-memory system: lazy sbrk, anonymous
// mmap/munmap/mprotect, protection faults, out of memory, fork, vm.lazy,
// system calls given lazily-allocated buffers, copy-on-write fork (vm.cow),
// and file mappings (MAP_SHARED with msync, MAP_PRIVATE; vm.msync_all).
//
//   vmtest            run every test
//   vmtest NAME...    run the named tests only
// Each test runs under testlib (its own child, a watchdog, a leak check;
// vm.lazy, vm.cow and vm.msync_all are put back after it). Prints
// "PASS vm.NAME" or "FAIL vm.NAME: reason" per test; exits 1 if any failed.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/memstat.h"
#include "kernel/mman.h"
#include "kernel/fcntl.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define PG        4096
#define GUARD_VA  (0x80000000u - 256 * 1024 - PG)   // page below the user stack
#define UNMAPPED  ((char *)0x50000000)              // nothing maps here in these tests
#define MAPRW     (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW        (PROT_READ | PROT_WRITE)

// ---- helpers ----------------------------------------------------------------

static void
counters(struct vmstat *c)
{
  if(vmstat(c, sizeof(*c)) < 0)
    test_fail("line %d: vmstat failed", __LINE__);
}

static char *
map(uint len, int prot, int flags)
{
  char *p = mmap(0, len, prot, flags, -1, 0);

  if(p == MAP_FAILED)
    test_fail("line %d: mmap failed", __LINE__);
  return p;
}

// Run f in a child; return its wait status (f's result, or -1 if killed).
static int
in_child(void (*f)(void *), void *arg)
{
  int pid, st = 12345;

  if((pid = fork()) < 0)
    test_fail("line %d: fork failed", __LINE__);
  if(pid == 0){
    f(arg);
    exit(0);
  }
  if(wait(&st) != pid)
    test_fail("line %d: wait failed", __LINE__);
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
  uint f0 = test_freepages(), i, n = 0;
  char *p;

  counters(&a);
  p = sbrk(1 << 30);
  CHECK(p != (char *)-1);
  CHECK(test_freepages() == f0);                    // reserved, not allocated
  for(i = 0; i < (1u << 30); i += 997 * PG, n++)
    p[i + (i & 0xFFF)] = (char)(i >> 12);
  counters(&b);
  CHECK(b.v[VM_FAULT_ZERO] - a.v[VM_FAULT_ZERO] == n);
  for(i = 0; i < (1u << 30); i += 997 * PG)
    CHECK(p[i + (i & 0xFFF)] == (char)(i >> 12));
  CHECK(p[PG] == 0 && p[(1 << 30) - 1] == 0);  // untouched pages read as zeros
  CHECK(sbrk(-(1 << 30)) == p + (1 << 30));
  if(test_freepages() != f0)
    printf("sparse: free %d before, %d after\n", f0, test_freepages());
  CHECK(test_freepages() == f0);
}

// Shrinking frees the pages; growing again gives fresh zero pages.
static void
t_sbrk_shrink_regrow(void)
{
  uint f0 = test_freepages(), i;
  char *p = sbrk(16 * PG);

  CHECK(p != (char *)-1);
  memset(p, 0x5A, 16 * PG);
  CHECK(test_freepages() < f0);
  CHECK(sbrk(-16 * PG) == p + 16 * PG);
  CHECK(test_freepages() == f0);
  CHECK(sbrk(16 * PG) == p);
  for(i = 0; i < 16 * PG; i++)
    if(p[i] != 0)
      test_fail("line %d: regrown heap not zero", __LINE__);
  CHECK(sbrk(-16 * PG) == p + 16 * PG);
}

// mmap reserves; pages appear on touch; munmap frees them.
static void
t_mmap_lazy(void)
{
  uint f0 = test_freepages(), i;
  char *p = map(64 * PG, RW, MAPRW);

  CHECK(((uint)p & (PG - 1)) == 0);
  CHECK(test_freepages() >= f0 - 1);                // at most the kmalloc'd mapping
  for(i = 0; i < 64; i++)
    CHECK(p[i * PG + 7] == 0);
  for(i = 0; i < 64; i++)
    p[i * PG] = i;
  for(i = 0; i < 64; i++)
    CHECK(p[i * PG] == i);
  CHECK(munmap(p, 64 * PG) == 0);
  CHECK(test_freepages() == f0);
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
  uint f0 = test_freepages();
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
  CHECK(test_freepages() == f0);
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
  uint f0 = test_freepages();
  char *p = map(4 * PG, RW, MAPRW), *q;

  memset(p, 'a', 4 * PG);
  q = mmap(p + PG, 2 * PG, RW, MAPRW | MAP_FIXED, -1, 0);
  CHECK(q == p + PG);
  CHECK(p[0] == 'a' && p[3 * PG] == 'a');
  CHECK(q[0] == 0 && q[2 * PG - 1] == 0);
  q[0] = 'b';
  CHECK(munmap(p, 4 * PG) == 0);
  CHECK(test_freepages() == f0);
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

// A hint whose first page is free but whose range runs into a mapping is
// not honoured: the new mapping goes elsewhere and the old one is intact.
static void
t_mmap_hint_overlap(void)
{
  char *a = map(3 * PG, RW, MAPRW), *q;

  a[2 * PG] = 'k';
  CHECK(munmap(a, 2 * PG) == 0);               // a and a + PG free, a + 2 * PG mapped
  q = mmap(a + PG, 2 * PG, RW, MAPRW, -1, 0);
  CHECK(q != MAP_FAILED && q != a + PG);
  CHECK(q + 2 * PG <= a + 2 * PG || q >= a + 3 * PG);
  q[0] = 'q';
  q[PG] = 'q';
  CHECK(a[2 * PG] == 'k');
  CHECK(munmap(q, 2 * PG) == 0 && munmap(a + 2 * PG, PG) == 0);
}

#define MMAP_ERR(call, e) do { errno = 0; CHECK((call) == MAP_FAILED && errno == (e)); } while(0)

// Argument errors of mmap, munmap and mprotect.
static void
t_mmap_errors(void)
{
  char *p = map(3 * PG, RW, MAPRW);

  CHECK(munmap(p + 2 * PG, PG) == 0);       // a hole right after the mapping

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

// Write a fresh page (the TLB now maps it writable), make it read-only,
// write again at once: the second write must kill this process.
static void
write_protect_write(void *arg)
{
  volatile char *p = map(PG, RW, MAPRW);

  p[0] = 1;
  if(mprotect((char *)p, PG, PROT_READ) < 0)
    exit(60);
  p[0] = 2;                                    // killed here
  exit(61);
}

// Read a fresh page, make it PROT_NONE, read again at once: killed.
static void
read_none_read(void *arg)
{
  volatile char *p = map(PG, RW, MAPRW);
  int c = p[0];

  if(mprotect((char *)p, PG, PROT_NONE) < 0)
    exit(62);
  c += p[0];                                   // killed here
  exit(63 + c);
}

// mprotect takes effect at once in the process that calls it, even for
// a page it has just used: each child makes its own access, changes the
// protection, and accesses again without anything in between.
static void
t_mprotect_now(void)
{
  int wst = in_child(write_protect_write, 0), rst = in_child(read_none_read, 0);

  if(wst != -1)
    printf("mprotect_now: write after PROT_READ: status %d, not killed\n", wst);
  if(rst != -1)
    printf("mprotect_now: read after PROT_NONE: status %d, not killed\n", rst);
  CHECK(wst == -1 && rst == -1);
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
  f0 = test_freepages();
  CHECK(in_child(touch_all, (void *)(1u << 30)) == -1);
  CHECK(test_freepages() == f0);
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
  f0 = test_freepages();
  CHECK(in_child(fork_child, &fa) == 0);
  f1 = test_freepages();
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
  f0 = test_freepages();
  p = map(32 * PG, RW, MAPRW | MAP_POPULATE);
  CHECK(f0 - test_freepages() >= 32);               // allocated at mmap time
  counters(&b);
  for(i = 0; i < 32; i++)
    CHECK(p[i * PG] == 0);
  counters(&a);
  CHECK(a.v[VM_FAULT_ZERO] == b.v[VM_FAULT_ZERO]);
  CHECK(munmap(p, 32 * PG) == 0);

  CHECK(sysctl("vm.lazy", 0) == 1);
  CHECK(sysctl("vm.lazy", -1) == 0);
  f0 = test_freepages();
  p = map(16 * PG, RW, MAPRW);
  q = sbrk(16 * PG);
  CHECK(q != (char *)-1);
  CHECK(f0 - test_freepages() >= 32);
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

// ---- copy-on-write fork --------------------------------------------------------

// One byte through a pipe, to order parent and child.
static void
signal_fd(int fd)
{
  if(write(fd, "x", 1) != 1)
    test_fail("line %d: pipe write failed", __LINE__);
}

static void
wait_fd(int fd)
{
  char c;

  if(read(fd, &c, 1) != 1)
    test_fail("line %d: pipe read failed", __LINE__);
}

// Is each of the n pages at p filled with byte c (at offsets 0 and 4095)?
static int
pages_are(char *p, int n, char c)
{
  int i;

  for(i = 0; i < n; i++)
    if(p[i * PG] != c || p[i * PG + PG - 1] != c)
      return 0;
  return 1;
}

static void
fill_pages(char *p, int n, char c)
{
  int i;

  for(i = 0; i < n; i++)
    p[i * PG] = p[i * PG + PG - 1] = c;
}

// After fork, writes by parent and by child are private to each, in both
// orders, while both are alive.
static void
t_cow_private(void)
{
  char *p = map(8 * PG, RW, MAPRW);
  int tochild[2], toparent[2], pid, st;

  fill_pages(p, 8, 'a');
  CHECK(pipe(tochild) == 0 && pipe(toparent) == 0);
  if((pid = fork()) == 0){
    fill_pages(p, 4, 'c');                     // the child writes first
    signal_fd(toparent[1]);
    wait_fd(tochild[0]);                       // the parent has written
    exit(pages_are(p, 4, 'c') && pages_are(p + 4 * PG, 4, 'a') ? 0 : 20);
  }
  CHECK(pid > 0);
  wait_fd(toparent[0]);
  CHECK(pages_are(p, 8, 'a'));                 // the child's writes are not seen
  fill_pages(p + 2 * PG, 6, 'p');
  signal_fd(tochild[1]);
  CHECK(wait(&st) == pid && st == 0);
  CHECK(pages_are(p, 2, 'a') && pages_are(p + 2 * PG, 6, 'p'));
  close(tochild[0]); close(tochild[1]); close(toparent[0]); close(toparent[1]);
  CHECK(munmap(p, 8 * PG) == 0);
}

// Free pages used up by forking this process (256 pages at p touched),
// measured while the child is alive, blocked on a pipe.
static uint
fork_cost(char *p)
{
  int fds[2], pid, st;
  uint f0, f1;

  CHECK(pipe(fds) == 0);
  f0 = test_freepages();
  if((pid = fork()) == 0){
    wait_fd(fds[0]);
    exit(pages_are(p, 256, 's') ? 0 : 21);
  }
  CHECK(pid > 0);
  f1 = test_freepages();
  signal_fd(fds[1]);
  CHECK(wait(&st) == pid && st == 0);
  close(fds[0]);
  close(fds[1]);
  return f0 - f1;
}

// vm.cow=1: fork shares the pages (free memory barely changes);
// vm.cow=0: fork copies them (256 pages or more).
static void
t_cow_shares(void)
{
  char *p = map(256 * PG, RW, MAPRW);
  uint cow, eager;

  fill_pages(p, 256, 's');
  CHECK(sysctl("vm.cow", -1) == 1);
  errno = 0;
  CHECK(sysctl("vm.cow", 3) == -1 && errno == EINVAL);
  cow = fork_cost(p);
  CHECK(sysctl("vm.cow", 0) == 1);
  eager = fork_cost(p);
  CHECK(sysctl("vm.cow", 1) == 0);
  if(cow >= 32 || eager < 256)
    printf("cow_shares: fork took %d pages with vm.cow=1, %d with vm.cow=0\n", cow, eager);
  CHECK(cow < 32);
  CHECK(eager >= 256);
  CHECK(pages_are(p, 256, 's'));
  CHECK(munmap(p, 256 * PG) == 0);
}

// fork -> fork -> write: each generation sees its own data; free memory
// is exactly back after all have exited.
static void
t_cow_chain(void)
{
  char *p = map(16 * PG, RW, MAPRW);
  int pid, st, pid2, st2;
  uint f0;

  fill_pages(p, 16, 'a');
  f0 = test_freepages();
  if((pid = fork()) == 0){
    if((pid2 = fork()) == 0){
      fill_pages(p, 8, 'c');                   // the grandchild writes half
      exit(pages_are(p, 8, 'c') && pages_are(p + 8 * PG, 8, 'a') ? 0 : 22);
    }
    if(pid2 < 0 || wait(&st2) != pid2 || st2 != 0)
      exit(23);
    if(!pages_are(p, 16, 'a'))
      exit(24);
    fill_pages(p + 4 * PG, 8, 'b');            // the child writes after it exited
    exit(pages_are(p, 4, 'a') && pages_are(p + 4 * PG, 8, 'b') &&
         pages_are(p + 12 * PG, 4, 'a') ? 0 : 25);
  }
  CHECK(pid > 0);
  CHECK(wait(&st) == pid && st == 0);
  CHECK(pages_are(p, 16, 'a'));
  CHECK(test_freepages() == f0);
  fill_pages(p, 16, 'z');
  CHECK(test_freepages() == f0);                    // sole owner again: no copies
  CHECK(munmap(p, 16 * PG) == 0);
}

static void
cow_count_child(void *arg)
{
  struct vmstat a, b;
  char *p = arg;
  int i;

  counters(&b);                                // copies this stack page
  counters(&a);
  for(i = 0; i < 8; i++){
    p[i * 2 * PG] = 'c';                       // every other page, twice
    p[i * 2 * PG + 99] = 'c';
  }
  counters(&b);
  if(b.v[VM_FAULT_COW_COPY] - a.v[VM_FAULT_COW_COPY] != 8)
    exit(30);
  if(b.v[VM_FAULT_COW_REUSE] != a.v[VM_FAULT_COW_REUSE] || b.v[VM_FAULT_ZERO] != a.v[VM_FAULT_ZERO])
    exit(31);
  exit(0);
}

// The child copies exactly the pages it writes (one fault each); once it
// has exited, the parent's writes reuse every page, shared or not.
static void
t_cow_counts(void)
{
  struct vmstat a, b;
  char *p = map(16 * PG, RW, MAPRW);
  int i;

  fill_pages(p, 16, 'a');
  CHECK(in_child(cow_count_child, p) == 0);
  counters(&b);
  counters(&a);
  for(i = 0; i < 16; i++)
    p[i * PG + 5] = 'p';
  counters(&b);
  CHECK(b.v[VM_FAULT_COW_REUSE] - a.v[VM_FAULT_COW_REUSE] == 16);
  CHECK(b.v[VM_FAULT_COW_COPY] == a.v[VM_FAULT_COW_COPY]);
  CHECK(pages_are(p, 16, 'a'));
  CHECK(munmap(p, 16 * PG) == 0);
}

struct oomarg {
  char *shared;                                // a page shared with the parent
  int fd;                                      // told just before the last write
};

// Use up all free memory (heap pages first, then untouched pages at the
// bottom of the stack, whose page table exists), then write to a page
// shared with the parent: the copy finds no memory.
static void
cow_oom_child(void *arg)
{
  struct oomarg *oa = arg;
  char *heap = sbrk(1 << 30);
  volatile char *stk = (char *)(GUARD_VA + PG);
  uint f, i, n;

  if(heap == (char *)-1)
    exit(40);
  while((f = test_freepages()) > 40){
    n = f - f / 512 - 40;                      // leave room for page tables
    for(i = 0; i < n; i++, heap += PG)
      heap[0] = 1;
  }
  for(i = 0; i < 48 && test_freepages() > 0; i++)
    stk[i * PG] = 1;
  if(test_freepages() != 0)
    exit(42);
  signal_fd(oa->fd);
  oa->shared[0] = 'c';                         // killed here
  exit(41);
}

// Out of memory during a copy-on-write copy kills only that process;
// the parent's page is intact and every page comes back.
static void
t_cow_oom(void)
{
  struct vmstat a, b;
  struct oomarg oa;
  int fds[2], st, pid;
  char c;
  uint f0;

  oa.shared = map(PG, RW, MAPRW);
  oa.shared[0] = 'a';
  f0 = test_freepages();
  CHECK(pipe(fds) == 0);
  oa.fd = fds[1];
  counters(&b);
  counters(&a);
  if((pid = fork()) == 0){
    close(fds[0]);
    cow_oom_child(&oa);
  }
  CHECK(pid > 0);
  close(fds[1]);
  CHECK(read(fds[0], &c, 1) == 1);             // it got to the write
  CHECK(wait(&st) == pid);
  if(st != -1)
    printf("cow_oom: child status %d\n", st);
  CHECK(st == -1);
  counters(&b);
  CHECK(b.v[VM_FAULT_OOM] - a.v[VM_FAULT_OOM] == 1);
  CHECK(oa.shared[0] == 'a');
  close(fds[0]);
  if(test_freepages() != f0)
    printf("cow_oom: free %d before, %d after\n", f0, test_freepages());
  CHECK(test_freepages() == f0);
  CHECK(munmap(oa.shared, PG) == 0);
}

// ---- file mappings -------------------------------------------------------------

#define SHRW (MAP_SHARED)

static char fbuf[PG];

// Create file name with n pages (and extra bytes more): byte j of page i
// is 'A' + i % 26, except the first byte of each page, which is i.
static void
make_file(const char *name, int n, int extra)
{
  int fd, i;

  CHECK((fd = open(name, O_CREATE | O_TRUNC | O_RDWR)) >= 0);
  for(i = 0; i <= n; i++){
    memset(fbuf, 'A' + i % 26, PG);
    fbuf[0] = i;
    if(i < n)
      CHECK(write(fd, fbuf, PG) == PG);
    else if(extra > 0)
      CHECK(write(fd, fbuf, extra) == extra);
  }
  close(fd);
}

// Byte off of file name, read with read() (-1 if beyond the end).
static int
file_byte(const char *name, uint off)
{
  int fd;
  unsigned char c;

  CHECK((fd = open(name, O_RDONLY)) >= 0);
  CHECK(lseek(fd, off, 0) == (int)off);
  if(read(fd, &c, 1) != 1){
    close(fd);
    return -1;
  }
  close(fd);
  return c;
}

static char *
map_file(const char *name, int omode, uint len, int prot, int flags, uint off)
{
  int fd;
  char *p;

  CHECK((fd = open(name, omode)) >= 0);
  p = mmap(0, len, prot, flags, fd, off);
  if(p == MAP_FAILED)
    test_fail("line %d: mmap of a file failed", __LINE__);
  close(fd);                                   // the mapping keeps the file
  return p;
}

// Read a file through a mapping, lazily (one file fault per page
// touched); the tail of the last page and pages past the end read zeros;
// an offset maps from that page on.
static void
t_file_read(void)
{
  struct vmstat a, b;
  char *p, *q;
  int i;
  uint f0 = test_freepages();

  make_file("mf.read", 3, 2048);
  p = map_file("mf.read", O_RDONLY, 5 * PG, PROT_READ, MAP_PRIVATE, 0);
  CHECK(test_freepages() >= f0 - 2);                // nothing read yet
  counters(&b);
  counters(&a);
  for(i = 0; i < 4; i++)
    CHECK(p[i * PG] == i && p[i * PG + 1] == 'A' + i);
  CHECK(p[3 * PG + 2047] == 'D' && p[3 * PG + 2048] == 0 && p[4 * PG - 1] == 0);
  CHECK(p[4 * PG] == 0 && p[5 * PG - 1] == 0); // wholly past the end
  counters(&b);
  CHECK(b.v[VM_FAULT_FILE] - a.v[VM_FAULT_FILE] +                 // from the cache, or
        b.v[VM_FAULT_FILE_MAJOR] - a.v[VM_FAULT_FILE_MAJOR] == 5);  // read from disk
  CHECK(b.v[VM_FAULT_FILE_MAJOR] - a.v[VM_FAULT_FILE_MAJOR] <= 4);  // (not the zero page)
  q = map_file("mf.read", O_RDONLY, PG, PROT_READ, MAP_SHARED, 2 * PG);
  CHECK(q[0] == 2 && q[PG - 1] == 'C');
  CHECK(in_child(bad_write, p) == -1);         // PROT_READ
  CHECK(munmap(p, 5 * PG) == 0 && munmap(q, PG) == 0);
  CHECK(unlink("mf.read") == 0);
}

// MAP_SHARED writes reach the file on msync; read() then sees them.
static void
t_file_shared_msync(void)
{
  char *p;

  make_file("mf.sh", 4, 0);
  p = map_file("mf.sh", O_RDWR, 4 * PG, RW, SHRW, 0);
  p[PG + 10] = 'x';
  p[3 * PG + PG - 1] = 'y';
  CHECK(file_byte("mf.sh", PG + 10) == 'x');   // read() sees the store at once
  CHECK(msync(p, 4 * PG, MS_SYNC) == 0);
  CHECK(file_byte("mf.sh", PG + 10) == 'x');
  CHECK(file_byte("mf.sh", 4 * PG - 1) == 'y');
  CHECK(file_byte("mf.sh", PG + 11) == 'B' && file_byte("mf.sh", 0) == 0);
  CHECK(file_byte("mf.sh", 4 * PG) == -1);     // the file did not grow
  CHECK(munmap(p, 4 * PG) == 0);
  CHECK(unlink("mf.sh") == 0);
}

static void
private_child(void *arg)
{
  char *p = arg;

  p[0] = 'c';
  exit(p[0] == 'c' && p[PG] == 'q' ? 0 : 50);
}

// MAP_PRIVATE writes stay in the process (copy-on-write across fork) and
// never reach the file, not even at munmap or exit.
static void
t_file_private(void)
{
  char *p;

  make_file("mf.pr", 2, 0);
  p = map_file("mf.pr", O_RDONLY, 2 * PG, RW, MAP_PRIVATE, 0);
  p[PG] = 'q';
  CHECK(p[0] == 0 && p[PG] == 'q' && p[PG + 1] == 'B');
  CHECK(in_child(private_child, p) == 0);
  CHECK(p[0] == 0);
  CHECK(msync(p, 2 * PG, MS_SYNC) == 0);
  CHECK(munmap(p, 2 * PG) == 0);
  CHECK(file_byte("mf.pr", PG) == 1 && file_byte("mf.pr", 0) == 0);
  CHECK(unlink("mf.pr") == 0);
}

// msync writes exactly the dirty pages (then none); vm.msync_all=1 writes
// every present page. Prints both counts.
static void
t_msync_dirty(void)
{
  struct vmstat a, b;
  uint dirty, again, all, bytes, allbytes;
  char *p;
  int i, sum = 0;

  make_file("mf.dirty", 64, 0);
  p = map_file("mf.dirty", O_RDWR, 64 * PG, RW, SHRW, 0);
  for(i = 0; i < 64; i++)
    sum += p[i * PG + 5];                      // all 64 pages present
  for(i = 0; i < 8; i++)
    p[i * 8 * PG + 7] = 'd';                   // 8 of them dirty
  counters(&b);
  counters(&a);
  CHECK(msync(p, 64 * PG, MS_SYNC) == 0);
  counters(&b);
  dirty = b.v[VM_MSYNC_PAGES] - a.v[VM_MSYNC_PAGES];
  bytes = b.v[VM_MSYNC_BYTES] - a.v[VM_MSYNC_BYTES];
  CHECK(msync(p, 64 * PG, MS_SYNC) == 0);      // nothing is dirty now
  counters(&a);
  again = a.v[VM_MSYNC_PAGES] - b.v[VM_MSYNC_PAGES];
  CHECK(sysctl("vm.msync_all", 1) == 0);
  counters(&b);
  CHECK(msync(p, 64 * PG, MS_SYNC) == 0);
  counters(&a);
  all = a.v[VM_MSYNC_PAGES] - b.v[VM_MSYNC_PAGES];
  allbytes = a.v[VM_MSYNC_BYTES] - b.v[VM_MSYNC_BYTES];
  CHECK(sysctl("vm.msync_all", 0) == 1);
  printf("msync of 64 present pages, 8 dirty: %d page writes (%d bytes) with the dirty bit,"
         " %d (%d bytes) with vm.msync_all=1\n", dirty, bytes, all, allbytes);
  CHECK(dirty == 8 && bytes == 8 * PG && again == 0 && all == 64);
  for(i = 0; i < 8; i++)
    CHECK(file_byte("mf.dirty", i * 8 * PG + 7) == 'd');
  p[PG] = 'e';                                 // dirty again after a write-back
  counters(&b);
  CHECK(msync(p + PG, PG, MS_SYNC) == 0);
  counters(&a);
  CHECK(a.v[VM_MSYNC_PAGES] - b.v[VM_MSYNC_PAGES] == 1 && file_byte("mf.dirty", PG) == 'e');
  CHECK(munmap(p, 64 * PG) == 0);
  CHECK(unlink("mf.dirty") == 0 && sum > 0);
}

static void
exit_writer(void *arg)
{
  char *p = map_file("mf.wb", O_RDWR, 4 * PG, RW, SHRW, 0);

  p[2 * PG + 3] = 'x';
  exit(0);                                     // exit writes it back
}

// munmap (of part of a mapping too) and exit write dirty shared pages back.
static void
t_munmap_writeback(void)
{
  struct vmstat a, b;
  char *p;

  make_file("mf.wb", 4, 0);
  p = map_file("mf.wb", O_RDWR, 4 * PG, RW, SHRW, 0);
  p[3] = 'u';
  p[PG + 3] = 'v';
  counters(&b);
  counters(&a);
  CHECK(munmap(p + PG, PG) == 0);              // splits the mapping
  counters(&b);
  CHECK(b.v[VM_MSYNC_PAGES] - a.v[VM_MSYNC_PAGES] == 1);
  CHECK(file_byte("mf.wb", PG + 3) == 'v' && file_byte("mf.wb", 3) == 'u');
  CHECK(munmap(p, 4 * PG) == 0);
  CHECK(file_byte("mf.wb", 3) == 'u');
  CHECK(in_child(exit_writer, 0) == 0);
  CHECK(file_byte("mf.wb", 2 * PG + 3) == 'x');
  CHECK(unlink("mf.wb") == 0);
}

// fork shares MAP_SHARED pages: each sees the other's writes at once.
static void
t_file_fork_shared(void)
{
  char *p;
  int tochild[2], toparent[2], pid, st;
  uint f0;

  make_file("mf.fk", 2, 0);
  p = map_file("mf.fk", O_RDWR, 2 * PG, RW, SHRW, 0);
  p[0] = 'p';
  p[PG] = 'p';
  CHECK(pipe(tochild) == 0 && pipe(toparent) == 0);
  f0 = test_freepages();
  if((pid = fork()) == 0){
    p[PG + 1] = 'c';                           // no copy: the page is shared
    signal_fd(toparent[1]);
    wait_fd(tochild[0]);
    exit(p[1] == 'q' ? 0 : 51);
  }
  CHECK(pid > 0);
  wait_fd(toparent[0]);
  CHECK(f0 - test_freepages() < 16);
  CHECK(p[PG + 1] == 'c');
  p[1] = 'q';
  signal_fd(tochild[1]);
  CHECK(wait(&st) == pid && st == 0);
  close(tochild[0]); close(tochild[1]); close(toparent[0]); close(toparent[1]);
  CHECK(munmap(p, 2 * PG) == 0);
  CHECK(file_byte("mf.fk", 0) == 'p' && file_byte("mf.fk", 1) == 'q' && file_byte("mf.fk", PG + 1) == 'c');
  CHECK(unlink("mf.fk") == 0);
}

// read() and write() of a file with a buffer in a not-yet-present
// mapping of that same file (the fault needs the inode the call holds).
static void
t_file_self_io(void)
{
  char *p;
  int fd;

  make_file("mf.self", 4, 0);
  CHECK((fd = open("mf.self", O_RDWR)) >= 0);
  p = mmap(0, 4 * PG, RW, SHRW, fd, 0);
  CHECK(p != MAP_FAILED);
  CHECK(read(fd, p + 2 * PG, PG) == PG);       // page 0 into page 2
  CHECK(p[2 * PG] == 0 && p[2 * PG + 1] == 'A');
  CHECK(lseek(fd, 3 * PG, 0) == 3 * PG);
  CHECK(write(fd, p + PG, 16) == 16);          // page 1 over page 3
  CHECK(msync(p, 4 * PG, MS_SYNC) == 0);
  CHECK(file_byte("mf.self", 2 * PG + 1) == 'A' && file_byte("mf.self", 3 * PG) == 1);
  close(fd);
  CHECK(munmap(p, 4 * PG) == 0);
  CHECK(unlink("mf.self") == 0);
}

// Argument and permission errors of file mappings.
static void
t_file_map_errors(void)
{
  struct vmstat a, b;
  int ro, wo, rw, ap, dir, fds[2];
  char *p;

  make_file("mf.err", 1, 0);
  CHECK((ro = open("mf.err", O_RDONLY)) >= 0);
  CHECK((wo = open("mf.err", O_WRONLY)) >= 0);
  CHECK((rw = open("mf.err", O_RDWR)) >= 0);
  CHECK((ap = open("mf.err", O_RDWR | O_APPEND)) >= 0);
  CHECK((dir = open("/", O_RDONLY)) >= 0);
  CHECK(pipe(fds) == 0);
  MMAP_ERR(mmap(0, PG, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
  MMAP_ERR(mmap(0, PG, PROT_READ, MAP_PRIVATE, 60, 0), EBADF);
  MMAP_ERR(mmap(0, PG, PROT_READ, MAP_SHARED, wo, 0), EACCES);    // not readable
  MMAP_ERR(mmap(0, PG, RW, MAP_SHARED, ro, 0), EACCES);           // shared write, read-only fd
  MMAP_ERR(mmap(0, PG, RW, MAP_SHARED, ap, 0), EACCES);           // append-only
  MMAP_ERR(mmap(0, PG, PROT_READ, MAP_PRIVATE, dir, 0), EACCES);  // a directory
  MMAP_ERR(mmap(0, PG, PROT_READ, MAP_PRIVATE, fds[0], 0), EACCES);  // a pipe
  MMAP_ERR(mmap(0, PG, PROT_READ, MAP_SHARED | MAP_PRIVATE, ro, 0), EINVAL);
  MMAP_ERR(mmap(0, PG, PROT_READ, MAP_PRIVATE, ro, 100), EINVAL); // unaligned offset
  MMAP_ERR(mmap(0, 0, PROT_READ, MAP_PRIVATE, ro, 0), EINVAL);
  MMAP_ERR(mmap(0, 2 * PG, PROT_READ, MAP_PRIVATE, ro, 0xFFFFF000), EINVAL);  // wraps
  p = mmap(0, PG, PROT_READ, MAP_SHARED, ro, 0);
  CHECK(p != MAP_FAILED && p[0] == 0);
  errno = 0;
  CHECK(mprotect(p, PG, RW) == -1 && errno == EACCES);
  CHECK(sysctl("vm.msync_all", 1) == 0);
  counters(&b);
  CHECK(msync(p, PG, MS_SYNC) == 0);           // a read-only fd is never written
  counters(&a);
  CHECK(sysctl("vm.msync_all", 0) == 1);
  CHECK(a.v[VM_MSYNC_PAGES] == b.v[VM_MSYNC_PAGES]);
  CHECK(mprotect(p, PG, PROT_NONE) == 0 && munmap(p, PG) == 0);
  p = mmap(0, PG, RW, MAP_PRIVATE, ro, 0);                        // private: fine
  CHECK(p != MAP_FAILED && munmap(p, PG) == 0);
  p = mmap(0, PG, RW, MAP_SHARED, rw, 0);
  CHECK(p != MAP_FAILED && p[1] == 'A' && munmap(p, PG) == 0);
  close(ro); close(wo); close(rw); close(ap); close(dir); close(fds[0]); close(fds[1]);
  CHECK(unlink("mf.err") == 0);
}

// Unmapping the head of a shared file mapping before touching the rest
// leaves every other page at its own file offset, for faults and msync.
static void
t_file_unmap_head(void)
{
  char *p;

  make_file("mf.head", 4, 0);
  p = map_file("mf.head", O_RDWR, 4 * PG, RW, SHRW, 0);
  CHECK(munmap(p, PG) == 0);                   // nothing touched yet
  CHECK(p[PG] == 1 && p[PG + 1] == 'B');
  CHECK(p[3 * PG] == 3 && p[3 * PG + 1] == 'D');
  p[PG + 5] = 'x';
  CHECK(msync(p + PG, 3 * PG, MS_SYNC) == 0);
  CHECK(file_byte("mf.head", PG + 5) == 'x');
  CHECK(file_byte("mf.head", 5) == 'A' && file_byte("mf.head", 3 * PG + 5) == 'D');
  CHECK(munmap(p + PG, 3 * PG) == 0);
  CHECK(unlink("mf.head") == 0);
}

// msync of a shared mapping whose last page lies only partly inside the
// file writes that part and no more: the file keeps its size.
static void
t_msync_partial_page(void)
{
  static char buf[3 * PG];
  struct stat st;
  char *p;
  int fd, i, n;

  make_file("mf.part", 2, 100);                // 2 pages + 100 bytes = 8292
  p = map_file("mf.part", O_RDWR, 3 * PG, RW, SHRW, 0);
  p[2 * PG + 50] = 'x';
  p[2 * PG + 200] = 'y';                       // past the end of the file
  CHECK(msync(p, 3 * PG, MS_SYNC) == 0);
  CHECK((fd = open("mf.part", O_RDONLY)) >= 0);
  CHECK(fstat(fd, &st) == 0);
  if(st.size != 2 * PG + 100)
    printf("msync_partial_page: size %d after msync\n", st.size);
  CHECK(st.size == 2 * PG + 100);
  n = read(fd, buf, sizeof(buf));
  close(fd);
  CHECK(n == 2 * PG + 100);
  CHECK(buf[2 * PG] == 2 && buf[2 * PG + 50] == 'x');
  for(i = 1; i < 100; i++)
    CHECK(i == 50 || buf[2 * PG + i] == 'C');
  p[2 * PG + 99] = 'z';                        // munmap writes back too
  CHECK(munmap(p, 3 * PG) == 0);
  CHECK(file_byte("mf.part", 2 * PG + 99) == 'z' && file_byte("mf.part", 2 * PG + 100) == -1);
  CHECK(unlink("mf.part") == 0);
}

// A shared page made read-only and writable again by mprotect while a
// child still maps it: the parent can write it, and the child sees that.
static void
t_file_shared_mprotect(void)
{
  char *p;
  int tochild[2], toparent[2], pid, st;

  make_file("mf.prot", 1, 0);
  p = map_file("mf.prot", O_RDWR, PG, RW, SHRW, 0);
  p[1] = 'a';
  CHECK(pipe(tochild) == 0 && pipe(toparent) == 0);
  if((pid = fork()) == 0){
    signal_fd(toparent[1]);
    wait_fd(tochild[0]);
    exit(p[1] == 'w' ? 0 : 70);
  }
  CHECK(pid > 0);
  wait_fd(toparent[0]);
  CHECK(mprotect(p, PG, PROT_READ) == 0);
  CHECK(p[1] == 'a');
  CHECK(mprotect(p, PG, RW) == 0);
  p[1] = 'w';
  signal_fd(tochild[1]);
  CHECK(wait(&st) == pid);
  if(st != 0)
    printf("file_shared_mprotect: child status %d (70: it did not see the write)\n", st);
  CHECK(st == 0);
  close(tochild[0]); close(tochild[1]); close(toparent[0]); close(toparent[1]);
  CHECK(msync(p, PG, MS_SYNC) == 0 && file_byte("mf.prot", 1) == 'w');
  CHECK(munmap(p, PG) == 0);
  CHECK(unlink("mf.prot") == 0);
}

// ---- runner -------------------------------------------------------------------

// setframes needs a swap disk (a page held out of the frames must go
// somewhere); this suite's guest has none.
static void
t_setframes_no_swap(void)
{
  errno = 0;
  CHECK(setframes(4) == -1 && errno == ENODEV);
  errno = 0;
  CHECK(setframes(-2) == -1 && errno == EINVAL);
  CHECK(setframes(-1) == 0);
  CHECK(setframes(0) == 0);
}

static struct test tests[] = {
  { "sbrk_sparse_1g", t_sbrk_sparse },
  { "sbrk_shrink_regrow", t_sbrk_shrink_regrow },
  { "mmap_lazy", t_mmap_lazy },
  { "fault_count", t_fault_count },
  { "munmap_middle", t_munmap_middle },
  { "munmap_unmapped", t_munmap_unmapped },
  { "mmap_fixed", t_mmap_fixed },
  { "mmap_hint", t_mmap_hint },
  { "mmap_hint_overlap", t_mmap_hint_overlap },
  { "mmap_errors", t_mmap_errors },
  { "mmap_nospace", t_mmap_nospace },
  { "mprotect", t_mprotect },
  { "mprotect_now", t_mprotect_now },
  { "bad_access", t_bad_access },
  { "oom_touch", t_oom_touch },
  { "fork_lazy", t_fork_lazy },
  { "lazy_eager", t_lazy_eager },
  { "syscall_lazy", t_syscall_lazy },
  { "exec_lazy", t_exec_lazy },
  { "stack_lazy", t_stack_lazy },
  { "cow_private", t_cow_private },
  { "cow_shares", t_cow_shares },
  { "cow_chain", t_cow_chain },
  { "cow_counts", t_cow_counts },
  { "cow_oom", t_cow_oom },
  { "file_read", t_file_read },
  { "file_shared_msync", t_file_shared_msync },
  { "file_private", t_file_private },
  { "msync_dirty", t_msync_dirty },
  { "munmap_writeback", t_munmap_writeback },
  { "file_fork_shared", t_file_fork_shared },
  { "file_self_io", t_file_self_io },
  { "file_map_errors", t_file_map_errors },
  { "file_unmap_head", t_file_unmap_head },
  { "msync_partial_page", t_msync_partial_page },
  { "file_shared_mprotect", t_file_shared_mprotect },
  { "setframes_no_swap", t_setframes_no_swap },
};

int
main(int argc, char **argv)
{
  if(argc == 4 && strcmp(argv[1], "-argcheck") == 0)
    exit(strcmp(argv[2], "hello") == 0 && argv[3][0] == 0 ? 42 : 43);
  test_keep_sysctl("vm.lazy");              // tests change these; each is put back
  test_keep_sysctl("vm.cow");
  test_keep_sysctl("vm.msync_all");
  exit(test_run("vm", tests, sizeof(tests) / sizeof(tests[0]), argc, argv));
}
