// msyncbench: what msync(MS_SYNC) of a shared file mapping costs when only
// some of its pages were written (a benchmark, not a test). The kernel
// writes back only the pages whose PTE dirty bit is set; `sysctl
// vm.msync_all=1` makes it write every present page instead (the baseline).
//
//   msyncbench [PAGES [REPS]]   file size in pages (default 256 = 1 MiB),
//                               repetitions per figure (default 3; min kept)
//
// The file is created with write(), mapped MAP_SHARED PROT_READ|PROT_WRITE
// and read page by page so that every page is present (and clean). Then for
// 1, 10, 50 and 100 % of the pages (at least one page, spread evenly over the
// file) it writes one byte in each of those pages and times msync of the
// whole mapping, in both modes:
//   dirty   vm.msync_all=0: only the dirtied pages are written back
//   full    vm.msync_all=1: every present page is written back
// Cycles are rdtsc around the msync call (host TSC cycles under qemu's
// emulation: compare ratios); pages_written / bytes_written are the
// vmstat msync counters' deltas over the call (exact). The setting is
// restored at the end.
// Machine-readable lines (the first is a header):
//   csv,file_pages,pct,dirtied,mode,cycles,pages_written,bytes_written
#include "kernel/types.h"
#include "kernel/mman.h"
#include "kernel/fcntl.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/cycles.h"

#define PG 4096
#define FNAME "msyncbench.dat"

typedef unsigned long long u64;

static const int pcts[] = { 1, 10, 50, 100 };
#define NPCTS ((int)(sizeof(pcts) / sizeof(pcts[0])))
static const char *modenames[] = { "dirty", "full" };

static char buf[PG];

static int
make_file(int npages)
{
  int fd, i;

  if((fd = open(FNAME, O_CREATE | O_TRUNC | O_RDWR)) < 0)
    return -1;
  for(i = 0; i < npages; i++){
    memset(buf, 'a' + i % 26, PG);
    if(write(fd, buf, PG) != PG){
      close(fd);
      return -1;
    }
  }
  close(fd);
  return 0;
}

struct result {
  u64 cycles;
  uint pages, bytes;
};

// Dirty k of the n pages at p (evenly spread; one byte each), then time
// msync of the whole mapping.
static int
one_sync(char *p, int n, int k, int round, struct result *r)
{
  struct vmstat a, b;
  u64 t0, t1;
  int i;

  for(i = 0; i < k; i++)
    p[(i * n / k) * PG + 17] = 'A' + round % 26;
  vmstat(&a, sizeof(a));
  t0 = rdtsc();
  if(msync(p, n * PG, MS_SYNC) < 0)
    return -1;
  t1 = rdtsc();
  vmstat(&b, sizeof(b));
  r->cycles = t1 - t0;
  r->pages = b.v[VM_MSYNC_PAGES] - a.v[VM_MSYNC_PAGES];
  r->bytes = b.v[VM_MSYNC_BYTES] - a.v[VM_MSYNC_BYTES];
  return 0;
}

int
main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 256;
  int reps = argc > 2 ? atoi(argv[2]) : 3;
  struct result r, best;
  int old, i, m, k, rep, round = 0, sum = 0, status = 0;
  char b1[24];
  char *p;

  if(n < 1 || reps < 1){
    fprintf(2, "usage: msyncbench [PAGES [REPS]]\n");
    exit(2);
  }
  old = sysctl("vm.msync_all", -1);
  if(old < 0){
    fprintf(2, "msyncbench: no vm.msync_all setting: nothing to compare\n");
    exit(1);
  }
  if(make_file(n) < 0){
    fprintf(2, "msyncbench: cannot create %s: %s\n", FNAME, strerror(errno));
    exit(1);
  }
  if((i = open(FNAME, O_RDWR)) < 0){
    fprintf(2, "msyncbench: cannot open %s: %s\n", FNAME, strerror(errno));
    exit(1);
  }
  p = mmap(0, n * PG, PROT_READ | PROT_WRITE, MAP_SHARED, i, 0);
  close(i);
  if(p == MAP_FAILED){
    fprintf(2, "msyncbench: mmap of %d pages failed: %s\n", n, strerror(errno));
    unlink(FNAME);
    exit(1);
  }
  for(i = 0; i < n; i++)
    sum += p[i * PG + 1];                    // every page present, none dirty
  printf("msyncbench: %d-page file (%d KiB), MAP_SHARED, all pages present; "
         "min of %d msync(MS_SYNC) runs per figure\n", n, n * PG / 1024, reps);
  printf("%-5s %-7s %-6s %12s %8s %10s\n", "pct", "dirtied", "mode", "cycles",
         "pages", "bytes");
  printf("csv,file_pages,pct,dirtied,mode,cycles,pages_written,bytes_written\n");
  for(i = 0; i < NPCTS && status == 0; i++){
    k = n * pcts[i] / 100;
    if(k < 1)
      k = 1;
    for(m = 0; m < 2 && status == 0; m++){
      sysctl("vm.msync_all", m);
      best.cycles = ~0ULL;
      best.pages = best.bytes = 0;
      for(rep = 0; rep <= reps; rep++){      // rep 0: warm-up, not kept
        if(one_sync(p, n, k, round++, &r) < 0){
          fprintf(2, "msyncbench: msync failed: %s\n", strerror(errno));
          status = 1;
          break;
        }
        if(rep == 0)
          continue;
        if(r.cycles < best.cycles)
          best.cycles = r.cycles;
        if(rep > 1 && (r.pages != best.pages || r.bytes != best.bytes))
          printf("msyncbench: %d%% %s: page counts differ between runs (%d, %d)\n",
                 pcts[i], modenames[m], best.pages, r.pages);
        best.pages = r.pages;                // exact; keep the last run's
        best.bytes = r.bytes;
      }
      if(status)
        break;
      printf("%-5d %-7d %-6s %12s %8d %10d\n", pcts[i], k, modenames[m],
             u64str(best.cycles, b1), best.pages, best.bytes);
      printf("csv,%d,%d,%d,%s,%s,%d,%d\n", n, pcts[i], k, modenames[m],
             u64str(best.cycles, b1), best.pages, best.bytes);
    }
  }
  sysctl("vm.msync_all", old);
  if(munmap(p, n * PG) < 0)
    status = 1;
  unlink(FNAME);
  if(sum == 0)
    printf("msyncbench: (file read as zeros?)\n");
  exit(status);
}
