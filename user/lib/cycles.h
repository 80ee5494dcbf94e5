// Cycle counting for benchmark programs: the time-stamp counter, and 64-bit
// division and decimal text without libgcc (user programs don't link it).
#ifndef CYCLES_H
#define CYCLES_H
uint64 rdtsc(void);                  // the TSC (host cycles under qemu's emulation)
uint64 u64div(uint64 n, uint d);     // n / d; 0 if d is 0
char  *u64str(uint64 v, char *buf);  // decimal text of v in buf (>= 21 bytes); returns buf
#endif
