// pcachebench: the page cache seen from user space (a benchmark, not a
// test). Two experiments, each printing plain key=value lines:
//
//   pcachebench read [PAGES]     read() vs mmap of a PAGES-page file
//                                (default 1024 = 4 MiB), cold then warm
//   pcachebench union [PAGES]    two processes share a MAP_SHARED mapping of
//                                a PAGES-page file (default 256); each
//                                dirties part of it, one msync writes the
//                                union, exactly once
//
// "read" prints one line per (method, state):
//   exp=read method=read|mmap state=cold|warm pages=N disk_pages=M hits=H cycles=C
// cold: `sysctl vm.drop_caches=1` first, so every page comes from disk
// (disk_pages = the pcache_misses counter's delta: exact); warm: the same
// again with the file cached (disk_pages should be 0). method=read reads the
// file with read() in 64 KiB calls; method=mmap maps it MAP_PRIVATE read-only
// and touches one byte per page. cycles: rdtsc around the whole pass (host
// TSC cycles under qemu: compare ratios, not absolute times).
//
// "union" prints:
//   exp=union pages=N a_dirty=A b_dirty=B union=U written=W shootdowns=S cycles=C
// The parent dirties pages [0, 3N/4) with a stride of 2 and the child pages
// [N/4, N) with a stride of 3 (so they overlap in the middle); the child
// waits, still mapping the file, while the parent msyncs: written (the
// msync_pages counter's delta) must equal union (computed here), and
// shootdowns counts TLB shootdown IPIs during the msync (0 when the child
// is not running on another CPU at that moment). Exits 1 if written !=
// union or disk_pages is wrong, 2 on a usage or system error.
#include "kernel/types.h"
#include "kernel/mman.h"
#include "kernel/fcntl.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/cycles.h"

#define PG 4096
#define FNAME "pcbench.dat"
#define RCHUNK (16 * PG)

typedef unsigned long long u64;

static char buf[RCHUNK];

static uint
counter(int c)
{
  struct vmstat vs;

  if(vmstat(&vs, sizeof(vs)) < 0)
    return 0;
  return vs.v[c];
}

static void
die(const char *what)
{
  fprintf(2, "pcachebench: %s\n", what);
  exit(2);
}

static void
make_file(int npages)
{
  int fd, i;

  if((fd = open(FNAME, O_CREATE | O_TRUNC | O_RDWR)) < 0)
    die("cannot create the file");
  memset(buf, 'p', PG);
  for(i = 0; i < npages; i++)
    if(write(fd, buf, PG) != PG)
      die("write failed");
  close(fd);
}

// One pass over the file with read() or through a mapping. Prints its line;
// returns the pages read from disk.
static uint
pass(int npages, int use_mmap, int cold)
{
  uint m0, h0, i;
  u64 t0, t1;
  char num[24];
  volatile char *p;
  int fd, n, sum = 0;

  if(cold)
    sysctl("vm.drop_caches", 1);
  m0 = counter(VM_PCACHE_MISSES);
  h0 = counter(VM_PCACHE_HITS);
  if((fd = open(FNAME, O_RDONLY)) < 0)
    die("cannot open the file");
  t0 = rdtsc();
  if(use_mmap){
    p = mmap(0, npages * PG, PROT_READ, MAP_PRIVATE, fd, 0);
    if(p == MAP_FAILED)
      die("mmap failed");
    for(i = 0; i < (uint)npages; i++)
      sum += p[i * PG];
    t1 = rdtsc();
    munmap((void *)p, npages * PG);
  } else {
    while((n = read(fd, buf, RCHUNK)) > 0)
      sum += buf[0];
    t1 = rdtsc();
  }
  close(fd);
  printf("exp=read method=%s state=%s pages=%d disk_pages=%d hits=%d cycles=%s\n",
         use_mmap ? "mmap" : "read", cold ? "cold" : "warm", npages,
         counter(VM_PCACHE_MISSES) - m0, counter(VM_PCACHE_HITS) - h0,
         u64str(t1 - t0, num));
  return counter(VM_PCACHE_MISSES) - m0 + (sum == -1);
}

static int
exp_read(int npages)
{
  int m, bad = 0;

  make_file(npages);
  for(m = 0; m < 2; m++){
    if(pass(npages, m, 1) != (uint)npages)
      bad = 1;
    if(pass(npages, m, 0) != 0)
      bad = 1;
  }
  unlink(FNAME);
  return bad;
}

static int
exp_union(int n)
{
  int up[2], down[2], pid, i, fd, na = 0, nb = 0, nu = 0;
  uint w0, s0, written, shots;
  char *p, c, num[24];
  u64 t0, t1;

  make_file(n);
  if((fd = open(FNAME, O_RDWR)) < 0)
    die("cannot open the file");
  p = mmap(0, n * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if(p == MAP_FAILED || pipe(up) < 0 || pipe(down) < 0)
    die("mmap or pipe failed");
  for(i = 0; i < n; i++){
    int a = i < 3 * n / 4 && i % 2 == 0, b = i >= n / 4 && (i - n / 4) % 3 == 0;
    na += a;
    nb += b;
    nu += a || b;
  }
  if((pid = fork()) == 0){
    for(i = n / 4; i < n; i += 3)
      p[i * PG + 1] = 'b';
    write(up[1], "x", 1);
    read(down[0], &c, 1);
    exit(0);
  }
  if(pid < 0)
    die("fork failed");
  for(i = 0; i < 3 * n / 4; i += 2)
    p[i * PG + 2] = 'a';
  read(up[0], &c, 1);
  w0 = counter(VM_MSYNC_PAGES);
  s0 = counter(VM_TLB_SHOOTDOWNS);
  t0 = rdtsc();
  msync(p, n * PG, MS_SYNC);
  t1 = rdtsc();
  written = counter(VM_MSYNC_PAGES) - w0;
  shots = counter(VM_TLB_SHOOTDOWNS) - s0;
  write(down[1], "x", 1);
  wait(0);
  munmap(p, n * PG);
  close(fd);
  unlink(FNAME);
  printf("exp=union pages=%d a_dirty=%d b_dirty=%d union=%d written=%d shootdowns=%d cycles=%s\n",
         n, na, nb, nu, written, shots, u64str(t1 - t0, num));
  return written != (uint)nu;
}

int
main(int argc, char **argv)
{
  int n;

  if(argc < 2 || (strcmp(argv[1], "read") != 0 && strcmp(argv[1], "union") != 0)){
    fprintf(2, "usage: pcachebench read|union [PAGES]\n");
    exit(2);
  }
  n = argc > 2 ? atoi(argv[2]) : (argv[1][0] == 'r' ? 1024 : 256);
  if(n < 4)
    die("PAGES must be at least 4");
  exit(argv[1][0] == 'r' ? exp_read(n) : exp_union(n));
}
