// Physical and virtual memory layout.
//
// Virtual:  [0, KERNBASE)            user space (page 0 never mapped)
//           [KERNBASE, KERNBASE+phys_top)  all physical memory, mapped with 4 MiB pages
//           [DEVSPACE, 4 GiB)        memory-mapped devices (IOAPIC, LAPIC), identity-mapped
// The kernel is loaded at physical EXTMEM and linked at KERNLINK.
#ifndef KMEMLAYOUT_H
#define KMEMLAYOUT_H
#define EXTMEM    0x100000            // start of extended memory; the kernel loads here
#define KERNBASE  0x80000000          // first kernel virtual address
#define KERNLINK  (KERNBASE + EXTMEM) // kernel link address
#define DEVSPACE  0xFE000000          // devices mapped at their physical addresses
#define PHYSMAX   (DEVSPACE - KERNBASE) // most physical memory the kernel can map

#define USERTOP   KERNBASE            // user addresses are below this

#ifndef __ASSEMBLER__
#define V2P(a) (((uint)(a)) - KERNBASE)
#define P2V(a) ((void *)(((char *)(a)) + KERNBASE))
#endif
#define V2P_WO(x) ((x) - KERNBASE)    // same, without casts, for assembly
#define P2V_WO(x) ((x) + KERNBASE)
#endif
