// vmbench: what lazy allocation costs and saves (a benchmark, not a test).
//
//   vmbench [MIB [REPS]]     region size in MiB (default 32), repetitions (3)
//
// Prints, in cycles (rdtsc; under qemu's emulation these are host TSC
// cycles, so compare figures of one run with each other):
//   - one lazy page fault (touching a fresh page of an anonymous mapping),
//   - beside it the floor a fault cannot beat: a null system call and
//     zeroing one page in user space (rep stosl, as the kernel does),
//   - for touching 1%, 10%, 50% and 100% of the pages of a region: the time
//     (mmap + touching) and the pages allocated, lazily, with MAP_POPULATE,
//     and with vm.lazy=0.
// Each figure is the minimum over REPS runs. Each measurement starts right
// after a clock tick (sleep(1)), so that under qemu's instruction clock
// (make bench CLOCK=icount) the ticks fall at the same places in every
// boot and the figures repeat exactly. Besides the table it prints
// machine-readable lines:
//   csvstat,NAME,CYCLES
//   csv,region_kib,pct,mode,cycles,pages,faults
#include "kernel/types.h"
#include "kernel/mman.h"
#include "kernel/memstat.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/cycles.h"

#define PG    4096
#define MAPRW (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW    (PROT_READ | PROT_WRITE)
#define NSYSCALL 2000
#define NZERO    2000

typedef unsigned long long u64;

// Print s right-aligned in a field of width w.
static void
field(const char *s, int w)
{
  int n = strlen(s);

  while(n++ < w)
    printf(" ");
  printf("%s", s);
}

static void
field64(u64 v, int w)
{
  char b[21];

  field(u64str(v, b), w);
}

static void
stat_line(const char *name, const char *what, u64 cycles)
{
  char b[21];

  printf("%s", what);
  field64(cycles, 10);
  printf(" cycles\n");
  printf("csvstat,%s,%s\n", name, u64str(cycles, b));
}

static u64
min64(u64 a, u64 b)
{
  return a < b ? a : b;
}

// Cycles of one null system call (getpid), averaged over a loop.
static u64
null_syscall(void)
{
  u64 t0;
  int i;

  sleep(1);                          // start on a clock tick (see the header)
  t0 = rdtsc();
  for(i = 0; i < NSYSCALL; i++)
    getpid();
  return u64div(rdtsc() - t0, NSYSCALL);
}

// Zero a page the way the kernel's memset does (rep stosl).
static void
zero_stosl(char *page)
{
  int d, c;

  asm volatile("cld; rep stosl" : "=D"(d), "=c"(c) : "0"(page), "1"(PG / 4), "a"(0) : "memory");
}

// Cycles to zero one already-present page in user space.
static u64
zero_page(char *page)
{
  u64 t0;
  int i;

  page[0] = 1;
  sleep(1);
  t0 = rdtsc();
  for(i = 0; i < NZERO; i++)
    zero_stosl(page);
  return u64div(rdtsc() - t0, NZERO);
}

// Cycles of one lazy fault: touch every page of a fresh lazy mapping.
static u64
lazy_fault(uint len)
{
  char *p = mmap(0, len, RW, MAPRW, -1, 0);
  uint i;
  u64 t0, t;

  if(p == MAP_FAILED)
    return 0;
  sleep(1);
  t0 = rdtsc();
  for(i = 0; i < len; i += PG)
    p[i] = 1;
  t = rdtsc() - t0;
  munmap(p, len);
  return u64div(t, len / PG);
}

enum mode { LAZY, POPULATE, EAGER, NMODES };
static const char *modenames[NMODES] = { "lazy", "populate", "vm.lazy=0" };

struct result {
  u64 cycles;
  uint pages;
  uint faults;
};

// Map len bytes in mode m, touch pct% of its pages (evenly spread), and
// measure the time from mmap to the last touch and the pages allocated.
static int
one_run(uint len, int pct, enum mode m, struct result *r)
{
  struct vmstat a, b;
  struct memstat m0, m1;
  uint i, npages = len / PG, stride = 100 / pct;
  int flags = MAPRW | (m == POPULATE ? MAP_POPULATE : 0);
  u64 t0, t1;
  char *p;

  if(m == EAGER && sysctl("vm.lazy", 0) < 0)
    return -1;
  sleep(1);
  vmstat(&b, sizeof(b));
  memstat(&m0);
  vmstat(&a, sizeof(a));
  t0 = rdtsc();
  p = mmap(0, len, RW, flags, -1, 0);
  if(p != MAP_FAILED)
    for(i = 0; i < npages; i += stride)
      p[i * PG] = 1;
  t1 = rdtsc();
  vmstat(&b, sizeof(b));
  memstat(&m1);
  if(m == EAGER)
    sysctl("vm.lazy", 1);
  if(p == MAP_FAILED)
    return -1;
  munmap(p, len);
  r->cycles = t1 - t0;
  r->pages = m0.free_pages - m1.free_pages;
  r->faults = b.v[VM_FAULT_ZERO] - a.v[VM_FAULT_ZERO];
  return 0;
}

// "N%" in buf.
static char *
pctstr(int n, char *buf)
{
  char d[21];
  int k;

  u64str(n, d);
  k = strlen(d);
  memmove(buf, d, k);
  buf[k] = '%';
  buf[k + 1] = 0;
  return buf;
}

static void
table(uint len, int reps)
{
  static const int pcts[] = { 1, 10, 50, 100 };
  struct result r, best;
  char b[21], pct[8];
  int i, k, m;

  printf("\ntouching part of a %d MiB region (mmap + touches; min of %d runs)\n",
         len >> 20, reps);
  printf("  pct       mode        cycles   pages  faults\n");
  for(i = 0; i < 4; i++){
    for(m = 0; m < NMODES; m++){
      best.cycles = ~0ULL;
      best.pages = best.faults = 0;
      for(k = 0; k < reps; k++){
        if(one_run(len, pcts[i], m, &r) < 0){
          printf("  %d%% %s: mmap failed\n", pcts[i], modenames[m]);
          return;
        }
        if(r.cycles < best.cycles)
          best = r;
      }
      pct[0] = 0;
      field(pctstr(pcts[i], pct), 5);
      field(modenames[m], 11);
      field64(best.cycles, 14);
      field64(best.pages, 8);
      field64(best.faults, 8);
      printf("\n");
      printf("csv,%d,%d,%s,%s,%d,%d\n", len >> 10, pcts[i], modenames[m],
             u64str(best.cycles, b), best.pages, best.faults);
    }
  }
}

int
main(int argc, char **argv)
{
  uint mib = argc > 1 ? atoi(argv[1]) : 32;
  int reps = argc > 2 ? atoi(argv[2]) : 3, k;
  u64 sys = ~0ULL, zero = ~0ULL, fault = ~0ULL;
  char *page;

  if(mib == 0 || mib > 1024 || reps <= 0){
    fprintf(2, "usage: vmbench [MIB [REPS]]\n");
    exit(1);
  }
  if(sysctl("vm.lazy", -1) != 1){
    fprintf(2, "vmbench: needs vm.lazy=1 to start with\n");
    exit(1);
  }
  page = sbrk(PG);
  for(k = 0; k < reps; k++){
    sys = min64(sys, null_syscall());
    zero = min64(zero, zero_page(page));
    fault = min64(fault, lazy_fault(mib << 20));
  }
  printf("vmbench: cycles per operation (min of %d runs)\n", reps);
  stat_line("lazy_fault", "  lazy page fault (touch a fresh page)   ", fault);
  stat_line("null_syscall", "  null system call (getpid)              ", sys);
  stat_line("zero_page", "  zeroing one page in user space         ", zero);
  stat_line("syscall_plus_zero", "  null syscall + zeroing (fault floor)   ", sys + zero);
  table(mib << 20, reps);
  exit(0);
}
