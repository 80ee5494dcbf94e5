// TLB invalidation (tlb.c): single pages with invlpg on this CPU, ranges
// sent to other CPUs as shootdowns. The rule it serves is at the top of tlb.c.
#ifndef KTLB_H
#define KTLB_H
#include "types.h"
#include "param.h"

// Past this many pages, one CR3 reload costs less than invlpg of each.
#define TLB_MAX_PAGES 32

// Invalidations on this CPU of pages of one address space, collected while
// its PTEs change (vm.c).
struct tlb_local {
  pde_t *pgdir;
  int live;              // pgdir is loaded on this CPU
  int n;                 // pages changed so far
};

// Ranges to invalidate on other CPUs, one per CPU (rmap.c).
struct tlb_batch {
  uint mask;             // CPUs to send to (indexes in cpus[])
  uint lo[NCPU], hi[NCPU];
};

void tlb_local_begin(struct tlb_local *t, pde_t *pgdir);
void tlb_local_end(struct tlb_local *t);
void tlb_local_all_later(struct tlb_local *t);        // a PDE changed: reload CR3 at the end
void tlb_local_all(pde_t *pgdir);                     // reload CR3 now if pgdir is loaded here
void tlb_local_one(pde_t *pgdir, uint va);            // one page, if pgdir is loaded here
void tlb_local_range(uint lo, uint hi);               // [lo, hi) of whatever is loaded here
void tlb_batch_add(struct tlb_batch *b, uint cpumask, uint lo, uint hi);
void tlb_batch_send(struct tlb_batch *b);             // invalidate everywhere and wait
// The PTE of user page va has just changed: invalidate it now while there
// are few, else leave it for tlb_local_end's single CR3 reload. Inline:
// fork and exit call it for every page.
static inline void
tlb_local_page(struct tlb_local *t, uint va)
{
  if(t->live && t->n++ < TLB_MAX_PAGES)
    asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}
#endif
