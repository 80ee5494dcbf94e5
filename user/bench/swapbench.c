// swapbench: memory pressure (a benchmark, not a test). Needs a swap disk.
//
//   swapbench curve POLICY MIB[,MIB...] [PASSES]
//       under vm.policy=POLICY (fifo, clock, random, lru), for each working
//       set of MIB MiB: a fresh child writes every page once, then reads
//       them in order PASSES times (default 2), a loop over the set; each
//       pass is timed and counted with vmstat
//   swapbench dirty MIB [PASSES]
//       a child writes MIB MiB, then only reads it PASSES times (default
//       3), once with vm.swap_dirtybit=1 and once with 0: the swap writes
//       the dirty bit saves
//   swapbench belady POLICY FRAMES[,FRAMES...] [REFS...]
//       under vm.policy=POLICY, for each reference string and number of
//       frames: a fresh child held to that many frames (setframes) stores
//       to its pages in the order of the string (page numbers 0-15, given
//       as digits and letters a-f; default 123412512345, Belady's string):
//       the faults (setframes' count: this process's alone), and which
//       references faulted (major and swap_out: vmstat, the whole system)
//
// Machine-readable lines (one per pass; pass 0 is the writing pass):
//   csv,policy,dirtybit,ws_mib,pass,cycles,faults,major,swap_in,swap_out,writes,saved,scans
// and for belady (F: the reference faulted, .: it did not):
//   belady,policy,frames,refs,faults,major,swap_out,pattern
#include "kernel/types.h"
#include "kernel/memstat.h"
#include "kernel/tracectl.h"
#include "kernel/mman.h"
#include "user/user.h"
#include "user/lib/cycles.h"

#define PG 4096

static const char *policies[] = { "fifo", "clock", "random", "lru" };

static int
policy_num(const char *name)
{
  int i;

  for(i = 0; i < 4; i++)
    if(strcmp(name, policies[i]) == 0)
      return i;
  return -1;
}

// One pass over n pages at p (write: store a word in each, else read one);
// prints its line. Returns the sum read (so the reads are not optimized away).
static uint
pass(char *p, uint n, int write, int pol, int dirtybit, int mib, int k)
{
  struct vmstat a, b;
  uint64 t0, t1;
  uint i, sum = 0;
  char buf[24];

  vmstat(&a, sizeof(a));
  t0 = rdtsc();
  for(i = 0; i < n; i++){
    if(write)
      *(volatile uint *)(p + i * PG) = i;
    else
      sum += *(volatile uint *)(p + i * PG);
  }
  t1 = rdtsc();
  vmstat(&b, sizeof(b));
  printf("csv,%s,%d,%d,%d,%s,%d,%d,%d,%d,%d,%d,%d\n", policies[pol], dirtybit, mib, k,
         u64str(t1 - t0, buf), b.v[VM_FAULTS] - a.v[VM_FAULTS],
         b.v[VM_FAULT_SWAP] - a.v[VM_FAULT_SWAP], b.v[VM_SWAP_IN] - a.v[VM_SWAP_IN],
         b.v[VM_SWAP_OUT] - a.v[VM_SWAP_OUT], b.v[VM_SWAP_WRITES] - a.v[VM_SWAP_WRITES],
         b.v[VM_SWAP_WRITES_SAVED] - a.v[VM_SWAP_WRITES_SAVED],
         b.v[VM_RECLAIM_SCANS] - a.v[VM_RECLAIM_SCANS]);
  return sum;
}

// In a fresh child: write mib MiB, then read it passes times. 0 or -1.
static int
run_set(int pol, int dirtybit, int mib, int passes)
{
  int pid, st, k;
  uint n = (uint)mib * 256, sum = 0;
  char *p;

  sleep(1);
  if((pid = fork()) < 0)
    return -1;
  if(pid == 0){
    if((p = sbrk(n * PG)) == (char *)-1){
      fprintf(2, "swapbench: sbrk %d MiB: %s\n", mib, strerror(errno));
      exit(1);
    }
    pass(p, n, 1, pol, dirtybit, mib, 0);
    for(k = 1; k <= passes; k++)
      sum += pass(p, n, 0, pol, dirtybit, mib, k);
    if(sum != (uint)passes * (n * (n - 1) / 2))
      fprintf(2, "swapbench: wrong data read back (%d MiB)\n", mib);
    exit(sum == (uint)passes * (n * (n - 1) / 2) ? 0 : 2);
  }
  if(wait(&st) != pid || st != 0){
    fprintf(2, "swapbench: %d MiB run ended with status %d\n", mib, st);
    return -1;
  }
  return 0;
}

#define BELADY_REFS "123412512345"

// Page number of a reference character (0-9, a-f), or -1.
static int
ref_page(char c)
{
  if(c >= '0' && c <= '9')
    return c - '0';
  if(c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

// In a fresh child held to frames frames: store to page refs[i] of a
// 16-page mapping for each i, noting which references fault. 0 or -1.
static int
run_refs(int pol, int frames, const char *refs)
{
  struct vmstat a, b;
  char pattern[64];
  volatile char *p;
  int pid, st, i, f0, n = strlen(refs);

  if(n >= (int)sizeof(pattern))
    return -1;
  for(i = 0; i < n; i++)
    if(ref_page(refs[i]) < 0)
      return -1;
  if((pid = fork()) < 0)
    return -1;
  if(pid == 0){
    p = mmap(0, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if(p == MAP_FAILED || setframes(frames) < 0){
      fprintf(2, "swapbench: belady with %d frames: %s\n", frames, strerror(errno));
      exit(1);
    }
    memset(&a, 0, sizeof(a));               // (their stack pages are in before counting)
    memset(&b, 0, sizeof(b));
    vmstat(&a, sizeof(a));
    for(i = 0; i < n; i++){                 // setframes(-1): this process's faults so far
      f0 = setframes(-1);
      p[ref_page(refs[i]) * PG] = i;
      pattern[i] = setframes(-1) != f0 ? 'F' : '.';
    }
    pattern[n] = 0;
    vmstat(&b, sizeof(b));
    printf("belady,%s,%d,%s,%d,%d,%d,%s\n", policies[pol], frames, refs, setframes(-1),
           b.v[VM_FAULT_SWAP] - a.v[VM_FAULT_SWAP], b.v[VM_SWAP_OUT] - a.v[VM_SWAP_OUT],
           pattern);
    exit(0);
  }
  if(wait(&st) != pid || st != 0){
    fprintf(2, "swapbench: belady run with %d frames ended with status %d\n", frames, st);
    return -1;
  }
  return 0;
}

static int
usage(void)
{
  fprintf(2, "usage: swapbench curve POLICY MIB[,MIB...] [PASSES] | swapbench dirty MIB [PASSES]"
             " | swapbench belady POLICY FRAMES[,FRAMES...] [REFS]\n");
  return 2;
}

int
main(int argc, char **argv)
{
  struct memstat ms;
  int pol, passes, mib, bad = 0, oldpol, olddb, k;
  char *s;

  if(memstat(&ms) < 0 || ms.swap_pages == 0){
    fprintf(2, "swapbench: no swap disk\n");
    return 1;
  }
  oldpol = sysctl("vm.policy", -1);
  olddb = sysctl("vm.swap_dirtybit", -1);
  if(argc >= 4 && strcmp(argv[1], "curve") == 0){
    if((pol = policy_num(argv[2])) < 0)
      return usage();
    passes = argc > 4 ? atoi(argv[4]) : 2;
    sysctl("vm.policy", pol);
    printf("swapbench: policy %s, %d pages of memory, %d of swap\n", argv[2],
           ms.total_pages, ms.swap_pages);
    for(s = argv[3]; *s; ){
      mib = atoi(s);
      if(mib > 0 && run_set(pol, 1, mib, passes) < 0)
        bad = 1;
      while(*s && *s != ',')
        s++;
      if(*s == ',')
        s++;
    }
  } else if(argc >= 4 && strcmp(argv[1], "belady") == 0){
    if((pol = policy_num(argv[2])) < 0)
      return usage();
    sysctl("vm.policy", pol);
    for(k = 4; k == 4 || k < argc; k++)
      for(s = argv[3]; *s; ){
        if(atoi(s) > 0 && run_refs(pol, atoi(s), k < argc ? argv[k] : BELADY_REFS) < 0)
          bad = 1;
        while(*s && *s != ',')
          s++;
        if(*s == ',')
          s++;
      }
  } else if(argc >= 3 && strcmp(argv[1], "dirty") == 0){
    mib = atoi(argv[2]);
    passes = argc > 3 ? atoi(argv[3]) : 3;
    pol = oldpol;
    sysctl("vm.swap_dirtybit", 1);
    bad |= run_set(pol, 1, mib, passes) < 0;
    sysctl("vm.swap_dirtybit", 0);
    bad |= run_set(pol, 0, mib, passes) < 0;
  } else {
    return usage();
  }
  sysctl("vm.policy", oldpol);
  sysctl("vm.swap_dirtybit", olddb);
  return bad;
}
