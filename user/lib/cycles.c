// Cycle counting helpers for the benchmark programs (see cycles.h).
#include "kernel/types.h"
#include "user/lib/cycles.h"

uint64
rdtsc(void)
{
  uint lo, hi;

  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64)hi << 32) | lo;
}

// Long division, one bit at a time.
uint64
u64div(uint64 n, uint d)
{
  uint64 q = 0, r = 0;

  if(d == 0)
    return 0;
  for(int i = 63; i >= 0; i--){
    r = (r << 1) | ((n >> i) & 1);
    if(r >= d){
      r -= d;
      q |= 1ULL << i;
    }
  }
  return q;
}

char *
u64str(uint64 v, char *buf)
{
  char tmp[21];
  int i = 0, j = 0;

  do {
    uint64 q = u64div(v, 10);
    tmp[i++] = '0' + (int)(v - q * 10);
    v = q;
  } while(v);
  while(i > 0)
    buf[j++] = tmp[--i];
  buf[j] = 0;
  return buf;
}
