// Small wrappers around x86 instructions that C cannot express.
#ifndef KX86_H
#define KX86_H
#include "types.h"

static inline uchar
inb(ushort port)
{
  uchar v;
  asm volatile("inb %1, %0" : "=a"(v) : "d"(port));
  return v;
}

static inline void
outb(ushort port, uchar v)
{
  asm volatile("outb %0, %1" : : "a"(v), "d"(port));
}

static inline ushort
inw(ushort port)
{
  ushort v;
  asm volatile("inw %1, %0" : "=a"(v) : "d"(port));
  return v;
}

static inline void
outw(ushort port, ushort v)
{
  asm volatile("outw %0, %1" : : "a"(v), "d"(port));
}

// Read cnt 32-bit words from port into buf.
static inline void
insl(ushort port, void *buf, int cnt)
{
  asm volatile("cld; rep insl"
               : "+D"(buf), "+c"(cnt) : "d"(port) : "memory", "cc");
}

// Write cnt 32-bit words from buf to port.
static inline void
outsl(ushort port, const void *buf, int cnt)
{
  asm volatile("cld; rep outsl"
               : "+S"(buf), "+c"(cnt) : "d"(port) : "cc");
}

// Fill n bytes at dst with byte c.
static inline void
stosb(void *dst, int c, int n)
{
  asm volatile("cld; rep stosb"
               : "+D"(dst), "+c"(n) : "a"(c) : "memory", "cc");
}

// Fill n 32-bit words at dst with c.
static inline void
stosl(void *dst, uint c, int n)
{
  asm volatile("cld; rep stosl"
               : "+D"(dst), "+c"(n) : "a"(c) : "memory", "cc");
}

// Copy n 32-bit words from src to dst (no overlap), with one string
// instruction.
static inline void
movsl(void *dst, const void *src, int n)
{
  asm volatile("cld; rep movsl"
               : "+D"(dst), "+S"(src), "+c"(n) : : "memory", "cc");
}

// Load the GDT: base points at the first descriptor, size is in bytes.
static inline void
lgdt(void *base, int size)
{
  volatile ushort pd[3];
  pd[0] = size - 1;
  pd[1] = (uint)base;
  pd[2] = (uint)base >> 16;
  asm volatile("lgdt (%0)" : : "r"(pd) : "memory");
}

// Load the IDT, same conventions as lgdt().
static inline void
lidt(void *base, int size)
{
  volatile ushort pd[3];
  pd[0] = size - 1;
  pd[1] = (uint)base;
  pd[2] = (uint)base >> 16;
  asm volatile("lidt (%0)" : : "r"(pd) : "memory");
}

static inline void
ltr(ushort sel)
{
  asm volatile("ltr %0" : : "r"(sel));
}

static inline void
loadgs(ushort sel)
{
  asm volatile("movw %0, %%gs" : : "r"(sel));
}

static inline ushort
readgs(void)
{
  ushort sel;
  asm volatile("movw %%gs, %0" : "=r"(sel));
  return sel;
}

static inline uint
readeflags(void)
{
  uint f;
  asm volatile("pushfl; popl %0" : "=r"(f));
  return f;
}

static inline void
cli(void)
{
  asm volatile("cli" ::: "memory");
}

static inline void
sti(void)
{
  asm volatile("sti" ::: "memory");
}

static inline void
hlt(void)
{
  asm volatile("hlt" ::: "memory");
}

static inline void
cpu_relax(void)
{
  asm volatile("pause" ::: "memory");
}

// Atomically store v in *addr and return the old value (a full barrier).
static inline uint
xchg(volatile uint *addr, uint v)
{
  asm volatile("lock; xchgl %0, %1"
               : "+m"(*addr), "+a"(v) : : "memory", "cc");
  return v;
}

static inline uint64
rdtsc(void)
{
  uint lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64)hi << 32) | lo;
}

static inline uint
rcr0(void)
{
  uint v;
  asm volatile("movl %%cr0, %0" : "=r"(v));
  return v;
}

static inline void
lcr0(uint v)
{
  asm volatile("movl %0, %%cr0" : : "r"(v) : "memory");
}

static inline uint
rcr2(void)
{
  uint v;
  asm volatile("movl %%cr2, %0" : "=r"(v));
  return v;
}

static inline uint
rcr3(void)
{
  uint v;
  asm volatile("movl %%cr3, %0" : "=r"(v));
  return v;
}

static inline void
lcr3(uint pa)
{
  asm volatile("movl %0, %%cr3" : : "r"(pa) : "memory");
}

static inline uint
rcr4(void)
{
  uint v;
  asm volatile("movl %%cr4, %0" : "=r"(v));
  return v;
}

static inline void
lcr4(uint v)
{
  asm volatile("movl %0, %%cr4" : : "r"(v) : "memory");
}

// Flush the TLB entry for one virtual address.
static inline void
invlpg(void *va)
{
  asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}
#endif
