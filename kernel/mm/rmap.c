// The reverse map: each memory object lists the mappings (struct vma, in
// any address space) that map it, so the kernel can reach every PTE of an
// object page: to collect dirty bits for a write-back (rmap_harvest), to
// remove the PTEs of pages cut off by a truncation (rmap_unmap), or to take
// a file page out of every page table for reclaim (rmap_reclaim_page).
//
// The rmap lock guards every object's list of mappings and makes walking
// another address space's page tables safe: vm_unmap_range takes it
// (rmap_lock_tables) while it clears PTEs and frees page tables (so do
// vm.c's on-demand fork helpers when a shared table leaves a directory), and a
// mapping leaves its object's list (rmap_remove) before its address space
// is freed. The owner of an address space may still change present PTEs
// of its own without the lock; dirty bits are cleared with an atomic
// and-not, so a store the CPU records meanwhile is never lost.
// Lock order: inode lock -> rmap lock -> object lock -> buddy lock (mobj.h).
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "mm/buddy.h"
#include "mm/vm.h"
#include "mm/vma.h"
#include "mm/mobj.h"
#include "mm/tlb.h"

static struct spinlock rmap_lock = { .name = "rmap" };

// Put v (v->obj and v->pgdir set) on its object's list of mappings.
void
rmap_add(struct vma *v)
{
  acquire(&rmap_lock);
  v->rnext = v->obj->maps;
  v->obj->maps = v;
  release(&rmap_lock);
}

// Take v off its object's list.
void
rmap_remove(struct vma *v)
{
  struct vma **pp;

  acquire(&rmap_lock);
  for(pp = &v->obj->maps; *pp; pp = &(*pp)->rnext){
    if(*pp == v){
      *pp = v->rnext;
      break;
    }
  }
  v->rnext = 0;
  release(&rmap_lock);
}

void
rmap_lock_tables(void)
{
  acquire(&rmap_lock);
}

void
rmap_unlock_tables(void)
{
  release(&rmap_lock);
}

// PTEs of user addresses [lo, hi) of pgdir changed: invalidate them on
// this CPU if it uses pgdir, and add them to b for the other CPUs running
// a process whose page directory is pgdir. A process switched in later
// loads CR3 afresh, so a stale answer for a CPU that is switching is
// harmless. Caller holds rmap_lock (interrupts off).
static void
invalidate(pde_t *pgdir, uint lo, uint hi, struct tlb_batch *b)
{
  uint mask = 0;
  int i, me = cpuid();
  struct proc *p;

  for(i = 0; i < ncpu; i++){
    if(i == me){
      if(rcr3() == V2P(pgdir))
        tlb_local_range(lo, hi);
      continue;
    }
    p = cpus[i].proc;
    if(p && p->pgdir == pgdir)
      mask |= 1u << i;
  }
  tlb_batch_add(b, mask, lo, hi);
}

// Walk the PTEs of v that could map pages [from, to) of v's object and
// call fn on each present one that maps a page of the object (a private
// mapping's own copies are skipped) or, if zero is set, the zero page that
// stands for a page past the end of the file; fn returns 1 when it changed
// the PTE. Returns how many it changed; the changed range is invalidated
// on this CPU and added to b for the others. Caller holds rmap_lock.
static int
walk_vma(struct vma *v, uint from, uint to, int (*fn)(pte_t *, void *), int zero,
         struct tlb_batch *b)
{
  uint vfirst = v->offset / PGSIZE, vlast = vfirst + (v->end - v->start) / PGSIZE;
  uint va, n, lo = 0, hi = 0;
  int changed = 0;
  pte_t *pte;
  struct page *pg;

  if(from < vfirst)
    from = vfirst;
  if(to > vlast)
    to = vlast;
  for(n = from; n < to; n++){
    va = v->start + (n - vfirst) * PGSIZE;
    if((v->pgdir[PDX(va)] & PTE_P) == 0){
      n += (BIGPGSIZE - (va & (BIGPGSIZE - 1))) / PGSIZE - 1;   // skip the absent table
      continue;
    }
    pte = vm_walk(v->pgdir, va, 0);
    if(pte == 0 || (*pte & PTE_P) == 0)
      continue;
    pg = page_of(P2V(PTE_ADDR(*pte)));
    if(zero && mobj_is_zero_page(P2V(PTE_ADDR(*pte))))
      ;
    else if(pg == 0 || pg->obj != v->obj || pg->pgno != n)
      continue;
    if(fn(pte, P2V(PTE_ADDR(*pte)))){
      if(changed++ == 0)
        lo = va;
      hi = va + PGSIZE;
    }
  }
  if(changed)
    invalidate(v->pgdir, lo, hi, b);
  return changed;
}

// Move a PTE's dirty bit to its page.
static int
harvest_pte(pte_t *pte, void *kva)
{
  if((__sync_fetch_and_and(pte, ~PTE_D) & PTE_D) == 0)
    return 0;
  mobj_set_dirty(kva);
  return 1;
}

// Collect the dirty bits of pages [from, to) of o from every mapping of
// it: each PTE dirty bit set moves to its page (PG_DIRTY) and is cleared,
// and every CPU that may cache the old entry invalidates it before this
// returns (so the next store sets the bit again). Returns the number of
// PTEs that were dirty. Caller holds no spinlock (the shootdown waits).
int
rmap_harvest(struct mobj *o, uint from, uint to)
{
  struct vma *v;
  struct tlb_batch b = { .mask = 0 };
  int n = 0;

  acquire(&rmap_lock);
  for(v = o->maps; v; v = v->rnext)
    n += walk_vma(v, from, to, harvest_pte, 0, &b);
  release(&rmap_lock);
  tlb_batch_send(&b);
  return n;
}

// Remove a PTE; the page keeps the index's reference until the caller
// drops the page from the object, after the TLBs are flushed.
static int
unmap_pte(pte_t *pte, void *kva)
{
  *pte = 0;
  if(page_ref_dec(kva) == 0)
    panic("rmap unmap: page without the index's reference");
  return 1;
}

// Remove from every mapping of o the PTEs of pages [from, to): a
// truncation cut them off, or the file grew over pages that mappings saw
// as the zero page; a later access faults. TLBs are flushed before this
// returns. Caller holds the inode lock, no spinlock.
void
rmap_unmap(struct mobj *o, uint from, uint to)
{
  struct vma *v;
  struct tlb_batch b = { .mask = 0 };

  acquire(&rmap_lock);
  for(v = o->maps; v; v = v->rnext)
    walk_vma(v, from, to, unmap_pte, 1, &b);
  release(&rmap_lock);
  tlb_batch_send(&b);
}

// The PTE of v that maps page pgno of v's object if any (0 if the page is
// outside v or its table is absent); *va: its user address. Caller holds
// rmap_lock.
static pte_t *
vma_pte(struct vma *v, uint pgno, uint *va)
{
  uint first = v->offset / PGSIZE;

  if(pgno < first || pgno - first >= (v->end - v->start) / PGSIZE)
    return 0;
  *va = v->start + (pgno - first) * PGSIZE;
  if((v->pgdir[PDX(*va)] & PTE_P) == 0)
    return 0;
  return vm_walk(v->pgdir, *va, 0);
}

static int
space_held(pde_t *pgdir, pde_t **held, int nheld)
{
  int i;

  for(i = 0; i < nheld; i++)
    if(held[i] == pgdir)
      return 1;
  return 0;
}

// Reclaim (reclaim_file.c): take file page kva (page pgno of o) out of
// every page table. It must be mapped only in the nheld spaces held[]
// (whose owners reclaim keeps out of VM critical sections), and those
// PTEs must be all its references but extra (the cache's and the
// caller's); else it is left alone (RMAP_BUSY). A page some PTE marks
// accessed since the last look keeps its PTEs and loses the accessed bits
// (RMAP_YOUNG: a second chance). Otherwise every PTE is removed, its
// dirty bit moving to the page, and the PTEs are added to b (the caller
// sends it before trusting the page's contents); returns how many. If the
// page is then dirty and was mapped, *fp is a mapping's file with a
// reference, for the write-back (file_dup: the file table's lock is taken
// inside the rmap lock). Caller holds no spinlock.
int
rmap_reclaim_page(struct mobj *o, uint pgno, void *kva, int extra, pde_t **held, int nheld,
                  struct tlb_batch *b, struct file **fp)
{
  struct vma *v;
  pte_t *pte, e;
  uint va;
  int found = 0, busy = 0, young = 0;

  *fp = 0;
  acquire(&rmap_lock);
  for(v = o->maps; v; v = v->rnext){
    if((pte = vma_pte(v, pgno, &va)) == 0 || (*pte & PTE_P) == 0 ||
       PTE_ADDR(*pte) != V2P(kva))
      continue;
    found++;
    busy |= !space_held(v->pgdir, held, nheld);
    young |= (*pte & PTE_A) != 0;
  }
  if(busy || found != page_ref_count(kva) - extra){
    release(&rmap_lock);
    return RMAP_BUSY;
  }
  for(v = o->maps; v && found > 0; v = v->rnext){
    if((pte = vma_pte(v, pgno, &va)) == 0 || (*pte & PTE_P) == 0 ||
       PTE_ADDR(*pte) != V2P(kva))
      continue;
    if(young){
      __sync_fetch_and_and(pte, ~PTE_A);
      continue;
    }
    e = __atomic_exchange_n(pte, 0, __ATOMIC_SEQ_CST);   // a dirty bit set meanwhile is in e
    if(e & PTE_D)
      mobj_set_dirty(kva);
    if(page_ref_dec(kva) < extra)
      panic("rmap_reclaim_page: page without the cache's reference");
    invalidate(v->pgdir, va, va + PGSIZE, b);
  }
  if(!young && found > 0 && (page_of(kva)->pflags & PG_DIRTY))
    *fp = file_dup(o->maps->file);
  release(&rmap_lock);
  return young ? RMAP_YOUNG : found;
}
