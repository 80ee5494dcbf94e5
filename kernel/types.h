// Fixed-width integer names used by the kernel, user programs and host tools.
#ifndef KTYPES_H
#define KTYPES_H
typedef unsigned int   uint;
typedef unsigned short ushort;
typedef unsigned char  uchar;
typedef unsigned int   uint32;
typedef unsigned long long uint64;
typedef uint pde_t;   // page-directory entry
typedef uint pte_t;   // page-table entry
#ifndef NULL
#define NULL ((void *)0)
#endif
#endif
