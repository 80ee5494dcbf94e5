// x86 paging and control-register constants (facts from the Intel SDM).
//
// A 32-bit virtual address splits into
//   [ page-directory index (10) | page-table index (10) | offset (12) ]
// and a PDE with PTE_PS set maps a whole 4 MiB page instead of a table.
#ifndef KMMU_H
#define KMMU_H

#define PGSIZE      4096          // bytes per page
#define PGSHIFT     12            // log2(PGSIZE)
#define BIGPGSIZE   0x400000      // bytes mapped by one 4 MiB (PSE) page
#define NPDENTRIES  1024          // entries per page directory
#define NPTENTRIES  1024          // entries per page table
#define PTXSHIFT    12            // offset of the page-table index in a VA
#define PDXSHIFT    22            // offset of the page-directory index in a VA

// Pieces of a virtual address, and putting one back together.
#define PDX(va)        (((uint)(va) >> PDXSHIFT) & 0x3FF)
#define PTX(va)        (((uint)(va) >> PTXSHIFT) & 0x3FF)
#define PGADDR(d, t, o) ((uint)((d) << PDXSHIFT | (t) << PTXSHIFT | (o)))

#define PGROUNDUP(a)   (((a) + PGSIZE - 1) & ~(PGSIZE - 1))
#define PGROUNDDOWN(a) (((a)) & ~(PGSIZE - 1))

// Page-directory / page-table entry bits.
#define PTE_P    0x001   // present
#define PTE_W    0x002   // writable
#define PTE_U    0x004   // reachable from ring 3
#define PTE_PWT  0x008   // write-through
#define PTE_PCD  0x010   // cache disabled
#define PTE_A    0x020   // accessed (set by the CPU)
#define PTE_D    0x040   // dirty (set by the CPU)
#define PTE_PS   0x080   // 4 MiB page (in a PDE, needs CR4_PSE)
#define PTE_G    0x100   // global
#define PTE_AVAIL 0xE00  // bits 9-11: free for the OS

#define PTE_ADDR(pte)  ((uint)(pte) & ~0xFFF)   // frame address in an entry
#define PTE_FLAGS(pte) ((uint)(pte) & 0xFFF)    // flag bits of an entry

// Page-fault error code bits (pushed by the CPU with vector 14).
#define PF_PRESENT 0x1   // 0: page not present; 1: protection violation
#define PF_WRITE   0x2   // the access was a write
#define PF_USER    0x4   // the access came from ring 3

// Control registers.
#define CR0_PE   0x00000001  // protected mode
#define CR0_WP   0x00010000  // honour read-only pages in ring 0 too
#define CR0_PG   0x80000000  // paging
#define CR4_PSE  0x00000010  // 4 MiB pages

// EFLAGS.
#define FL_IF    0x00000200  // interrupts enabled
#define FL_IOPL  0x00003000  // I/O privilege level mask
#endif
