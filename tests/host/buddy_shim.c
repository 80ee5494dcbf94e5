// Host-side stand-ins for the kernel services buddy.c and kmalloc.c use, so
// they can be unit-tested as an ordinary 32-bit Linux program. Deliberately
// does not include kernel/core/defs.h (its printf/memset clash with libc's).
#include <stdio.h>
#include <stdlib.h>

struct spinlock { volatile unsigned locked; const char *name; void *cpu; unsigned pcs[10]; };

void
initlock(struct spinlock *lk, const char *name)
{
  lk->locked = 0;
  lk->name = name;
}

void
acquire(struct spinlock *lk)
{
  if(lk->locked){
    fprintf(stderr, "acquire %s: already held\n", lk->name);
    abort();
  }
  lk->locked = 1;
}

void
release(struct spinlock *lk)
{
  if(!lk->locked){
    fprintf(stderr, "release %s: not held\n", lk->name);
    abort();
  }
  lk->locked = 0;
}

void
panic(const char *msg)
{
  fprintf(stderr, "panic: %s\n", msg);
  exit(2);
}

#include <sys/mman.h>

// Map "physical" memory [lo, hi) at KERNBASE + lo, as the kernel sees it.
// Returns 0 on success, -1 if the range cannot be mapped there.
int
host_arena(unsigned lo, unsigned hi)
{
  void *want = (void *)(0x80000000u + lo);
  void *got = mmap(want, hi - lo, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  return got == want ? 0 : -1;
}

// Stand-ins for the trace and vmstat hooks inside page_alloc/page_free
// (kernel/trace/trace.h, kernel/vmstat.h): tracing stays off, counters go nowhere.
volatile unsigned trace_live;
unsigned vmstat_counters[256];

void
trace_record_cnt(int type, const unsigned *w, int c0, unsigned n0, int c1, int c2)
{
  (void)c2;
  (void)type;
  (void)w;
  (void)c0;
  (void)n0;
  (void)c1;
}

// Stand-in for the fault-injection hook of page_alloc and kmalloc
// (kernel/mm/faultinj.c): nothing is injected on the host.
int
fault_inject(void)
{
  return 0;
}
