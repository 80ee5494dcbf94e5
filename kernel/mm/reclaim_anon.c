// Reclaim of anonymous pages: one batch to swap. A batch takes up to
// RECLAIM_BATCH victims (policy.c chooses): it marks them, walks every
// address space it can hold (proc_vm_hold_next) replacing their PTEs with
// swap entries, flushes TLBs, writes each page whose copy on disk is
// missing or stale, and frees the pages nobody maps any more. A page still
// mapped in a space that was busy stays (its other PTEs are swap entries
// already: correct, since such a page is read-only). Locks: reclaim_int.h.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "errno.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "mm/buddy.h"
#include "mm/vm.h"
#include "mm/vma.h"
#include "mm/mobj.h"
#include "mm/swap.h"
#include "trace/trace.h"
#include "mm/reclaim_int.h"

// CPUs running p (their TLBs may hold its entries; never this one, which
// runs the reclaim thread).
static uint
cpus_running(struct proc *p)
{
  uint mask = 0;
  int i;

  for(i = 0; i < ncpu; i++)
    if(cpus[i].proc == p)
      mask |= 1u << i;
  return mask;
}

// The victim a PTE maps, or 0. Caller holds reclaimer.lock.
static struct victim *
victim_of(pte_t e)
{
  struct page *pg;
  int i;

  if((e & PTE_P) == 0 || (pg = page_of(P2V(PTE_ADDR(e)))) == 0 ||
     (pg->pflags & PG_VICTIM) == 0)
    return 0;
  for(i = 0; i < reclaimer.nv; i++)
    if(reclaimer.v[i].pg == pg)
      return &reclaimer.v[i];
  return 0;
}

// What scan_pte does with a PTE.
#define SCAN_HARVEST 0    // move the accessed bit to the page (PG_REFD)
#define SCAN_COUNT   1    // count the PTEs of each victim
#define SCAN_CONVERT 2    // replace a victim's PTE with its swap entry

// One PTE of a held space. Returns 1 if the PTE changed (the TLB must be
// flushed). Caller holds the rmap lock and reclaimer.lock.
static int
scan_pte(pte_t *pte, int what)
{
  pte_t e = *pte;
  struct victim *v;
  struct page *pg;

  if((e & PTE_P) == 0)
    return 0;
  if(what == SCAN_HARVEST){
    if((e & PTE_A) == 0 || (pg = page_of(P2V(PTE_ADDR(e)))) == 0 || pg->next == 0 ||
       !reclaim_swappable(pg))
      return 0;
    __sync_fetch_and_and(pte, ~PTE_A);
    pg->pflags |= PG_REFD;
    return 1;
  }
  if((v = victim_of(e)) == 0)
    return 0;
  if(what == SCAN_COUNT){
    v->found++;
    return 0;
  }
  if(!v->whole)
    return 0;
  if(!__sync_bool_compare_and_swap(pte, e, v->obj ? 0 : SWP_ENTRY(v->slot)))
    return scan_pte(pte, what);               // the CPU set A or D meanwhile
  if(v->obj == 0)
    swap_slot_dup(v->slot);                   // (an object's page: the object keeps the slot)
  page_ref_dec(page_kva(v->pg));              // never the last: the round holds one
  v->ptes++;
  if(e & (PTE_D | PTE_W))
    v->dirty = 1;
  return 1;
}

// Scan every user PTE of a held space p. 1 if any changed.
static int
scan_space(struct proc *p, int what)
{
  uint pdx, i;
  int changed = 0;
  pte_t *table;

  if(what == SCAN_HARVEST && p->frames)
    return 0;                // its accessed bits are its own frame set's (reclaim_local.c)
  for(pdx = 0; pdx < PDX(USERTOP); pdx++){
    if((p->pgdir[pdx] & PTE_P) == 0 || vm_table_shared(p->pgdir[pdx]))
      continue;              // a table shared by on-demand fork stays whole
    table = (pte_t *)P2V(PTE_ADDR(p->pgdir[pdx]));
    for(i = 0; i < NPTENTRIES; i++)
      if(table[i] & PTE_P)
        changed |= scan_pte(&table[i], what);
  }
  return changed;
}

// Hold every address space nobody is changing (proc_vm_hold_next), up to
// RECLAIM_MAXHELD, in held[]. Returns how many; the caller lets go of each
// with proc_vm_unhold.
int
reclaim_hold_spaces(struct proc **held)
{
  struct proc *p;
  int pid = 0, nh = 0;

  while(nh < RECLAIM_MAXHELD && (p = proc_vm_hold_next(pid)) != 0){
    pid = p->pid;
    if(p->pgdir == 0)                 // exit got there first
      proc_vm_unhold(p);
    else
      held[nh++] = p;
  }
  return nh;
}

// Hold every address space nobody is changing (up to RECLAIM_MAXHELD), then scan
// them all: harvest accessed bits, or (convert) replace the PTEs of each
// victim whose every reference is a PTE in a held space with swap entries
// (a victim mapped also in a busy space stays whole: it goes to swap once,
// or not at all). Flushes the TLBs concerned before returning.
static void
walk_spaces(int convert)
{
  struct proc *held[RECLAIM_MAXHELD];
  uint mask = 0, changed;
  int nh, i;

  nh = reclaim_hold_spaces(held);
  rmap_lock_tables();
  acquire(&reclaimer.lock);
  if(convert){
    for(i = 0; i < nh; i++)
      scan_space(held[i], SCAN_COUNT);
    for(i = 0; i < reclaimer.nv; i++)      // every reference but ours (and the object's) found
      reclaimer.v[i].whole = reclaimer.v[i].obj ?
        reclaimer.v[i].found == page_ref_count(page_kva(reclaimer.v[i].pg)) - 2 :
        reclaimer.v[i].found > 0 && reclaimer.v[i].found == page_ref_count(page_kva(reclaimer.v[i].pg)) - 1;
  }
  for(i = 0; i < nh; i++){
    changed = scan_space(held[i], convert ? SCAN_CONVERT : SCAN_HARVEST);
    if(changed)
      mask |= cpus_running(held[i]);
  }
  release(&reclaimer.lock);
  rmap_unlock_tables();
  for(i = 0; i < nh; i++)
    proc_vm_unhold(held[i]);
  tlb_shootdown(mask);
}

// Choose this round's victims and a slot for each (the page's own copy,
// or a fresh slot). Returns how many. Adds pages looked at to *scanned.
static int
choose(uint *scanned)
{
  struct page *out[RECLAIM_BATCH];
  int i, n, s;
  uint total, used;

  swap_stat(&total, &used);
  acquire(&reclaimer.lock);
  n = policy_pick(&reclaimer.head, out, RECLAIM_BATCH, scanned, used + RECLAIM_BATCH > total);
  reclaimer.nv = 0;
  for(i = 0; i < n; i++){
    struct victim *v = &reclaimer.v[reclaimer.nv];
    v->pg = out[i];
    v->ptes = v->dirty = v->found = v->whole = 0;
    v->obj = 0;
    if(out[i]->obj){
      v->pgno = out[i]->pgno;
      v->obj = mobj_hold_anon_owner(page_kva(out[i]));
    }
    if(out[i]->obj && v->obj == 0){           // its object is going away
      out[i]->pflags &= ~PG_VICTIM;
      release(&reclaimer.lock);
      vm_user_page_put(page_kva(out[i]));
      acquire(&reclaimer.lock);
      continue;
    }
    if((s = swap_page_copy_get(out[i])) > 0){ // its copy: the round takes its own
      v->slot = s - 1;                        // reference (a store may make the page
      v->fresh = 0;                           // drop the page's any time)
    } else if((s = swap_slot_alloc()) >= 0){
      v->slot = s;
      v->fresh = 1;
    } else {                                  // swap is full
      out[i]->pflags &= ~PG_VICTIM;
      release(&reclaimer.lock);
      if(v->obj)
        mobj_put(v->obj);
      vm_user_page_put(page_kva(out[i]));
      acquire(&reclaimer.lock);
      continue;
    }
    reclaimer.nv++;
  }
  release(&reclaimer.lock);
  return reclaimer.nv;
}

// Put a page that stays in memory at the back of the list. Caller holds reclaimer.lock.
static void
to_back(struct page *pg)
{
  pg->prev->next = pg->next;
  pg->next->prev = pg->prev;
  pg->prev = reclaimer.head.prev;
  pg->next = &reclaimer.head;
  reclaimer.head.prev->next = pg;
  reclaimer.head.prev = pg;
}

// Finish a shared anonymous object's page: if nobody maps it any more,
// write it to the round's slot and take it out of the object, which keeps
// the slot. Returns 1 if the page was freed.
static int
finish_obj(struct victim *v)
{
  void *kva = page_kva(v->pg);
  int out = 0;

  if(v->whole){
    if(swap_write(kva, v->slot) == 0)
      vmstat_inc(VM_SWAP_WRITES);
    out = swap_obj_out(v->obj, v->pgno, kva, v->slot);
  }
  acquire(&reclaimer.lock);
  v->pg->pflags &= ~PG_VICTIM;
  if(!out && v->pg->next)
    to_back(v->pg);
  v->pg = 0;
  release(&reclaimer.lock);
  if(!out)
    swap_slot_put(v->slot);                   // the round's reference
  else
    trace_record_cnt(TEV_SWAP_OUT, (uint[TRACE_NWORDS]){ V2P(kva), v->slot, v->ptes, 1 },
                     VM_SWAP_OUT, 1, VM_RECLAIM_ANON, VM_NONE);
  mobj_put(v->obj);
  vm_user_page_put(kva);
  return out;
}

// Finish victim v after its PTEs were replaced: write it if its copy on
// disk is missing or stale, let go of the slot reference the round held,
// and drop the round's page reference (the last one frees it). Returns 1
// if the page was freed.
static int
finish(struct victim *v)
{
  void *kva = page_kva(v->pg);
  int write, written = 0, freed;

  if(v->obj)
    return finish_obj(v);
  if(v->ptes > 0){
    write = v->fresh || v->dirty || !swap_dirtybit || (v->pg->pflags & PG_DIRTY);
    if(write){
      swap_write(kva, v->slot);
      written = 1;
      vmstat_inc(VM_SWAP_WRITES);
    } else {
      vmstat_inc(VM_SWAP_WRITES_SAVED);
    }
  }
  if(!v->fresh && v->ptes > 0)
    swap_page_written(kva);                   // the slot is the PTEs' now, not the page's
  acquire(&reclaimer.lock);                          // (with no PTE left, the page keeps its copy)
  freed = page_ref_count(kva) == 1;
  v->pg->pflags &= ~(PG_VICTIM | PG_DIRTY);
  v->pg->pgno = 0x80;
  if(!freed)                                  // still mapped somewhere: to the back
    to_back(v->pg);
  v->pg = 0;                                  // out of the in-flight table
  release(&reclaimer.lock);
  swap_slot_put(v->slot);                     // the round's reference
  if(v->ptes > 0)
    trace_record_cnt(TEV_SWAP_OUT, (uint[TRACE_NWORDS]){ V2P(kva), v->slot, v->ptes, written },
                     VM_SWAP_OUT, 1, freed ? VM_RECLAIM_ANON : VM_NONE, VM_NONE);
  vm_user_page_put(kva);
  return freed;
}

// lru: shift every page's history by one round's accessed bit.
static void
age_all(void)
{
  struct page *pg;

  acquire(&reclaimer.lock);
  for(pg = reclaimer.head.next; pg != &reclaimer.head; pg = pg->next){
    policy_aging_tick(pg, (pg->pflags & PG_REFD) != 0);
    pg->pflags &= ~PG_REFD;
  }
  release(&reclaimer.lock);
}

// One batch of anonymous pages to swap. Returns the pages freed.
int
reclaim_anon_batch(uint *scanned)
{
  int i, n, freed = 0;
  uint total, used;

  swap_stat(&total, &used);
  if(total == 0)
    return 0;
  if(reclaim_policy == POLICY_CLOCK || reclaim_policy == POLICY_LRU)
    walk_spaces(0);
  if(reclaim_policy == POLICY_LRU)
    age_all();
  if((n = choose(scanned)) == 0)
    return 0;
  walk_spaces(1);
  for(i = 0; i < n; i++)
    freed += finish(&reclaimer.v[i]);
  acquire(&reclaimer.lock);
  reclaimer.nv = 0;
  release(&reclaimer.lock);
  return freed;
}
