// The swap-slot audit (sysctl vm.swap_audit=1): every slot's reference
// count against the references that exist (swap entries in page tables,
// swap copies of resident pages, slots of shared anonymous objects).
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


// The audit's counters, a ushort per slot: allocated at boot, because
// after heavy swapping free memory is too broken up for a block this big.
static ushort *audit_cnt;
static uint audit_order;

void
reclaim_audit_alloc(void)
{
  uint total, used;

  swap_stat(&total, &used);
  while((PGSIZE << audit_order) < total * sizeof(ushort))
    audit_order++;
  if(total > 0)
    audit_cnt = page_alloc(audit_order);   // 0: the audit says -ENOMEM
}

// Add the slots of the shared anonymous objects the held spaces map
// (each object once; the owners cannot change their mappings meanwhile).
static void
count_obj_slots(struct proc **held, int nh, ushort *cnt)
{
  struct mobj *seen[RECLAIM_MAXHELD * 4];
  struct vma *v;
  int k, j, ns = 0;
  uint i;

  for(k = 0; k < nh; k++)
    for(v = held[k]->vmas; v; v = v->next){
      if(v->obj == 0 || v->obj->kind != MOBJ_ANON || v->obj->swapslots == 0)
        continue;
      for(j = 0; j < ns && seen[j] != v->obj; j++)
        ;
      if(j < ns || ns == NELEM(seen))
        continue;
      seen[ns++] = v->obj;
      for(i = 0; i < v->obj->span; i++)
        if(v->obj->swapslots[i])
          cnt[v->obj->swapslots[i] - 1]++;
    }
}

#define MAXSHARED 256

// Has the audit not met the shared page table t yet? Remembers it (up to
// MAXSHARED; past that every sighting counts as the first, and the audit
// reports the excess as disagreement rather than hide it).
static int
first_sight(pte_t **seen, int *n, pte_t *t)
{
  int i;

  for(i = 0; i < *n; i++)
    if(seen[i] == t)
      return 0;
  if(*n < MAXSHARED)
    seen[(*n)++] = t;
  return 1;
}

// Count, per slot, the references that exist (swap entries in every page
// table, swap copies of resident pages, slots of shared anonymous
// objects) into cnt (a ushort per slot, zeroed), and compare them with the
// slots' counts while every space is still held: once a space is let go,
// a store to a page read back from swap drops its slot reference, fork
// copies swap entries, and the counts move. Returns the slots that
// disagree, or -EBUSY if some address space could not be held. Caller
// holds roundlock (no round in flight).
static int
audit_once(ushort *cnt)
{
  struct proc *held[RECLAIM_MAXHELD];
  struct page *pg;
  uint pdx, i;
  int nh, busy = 0, k, nshared = 0, r;
  pte_t *table;
  static pte_t *shared[MAXSHARED];   // under roundlock: one audit at a time

  nh = reclaim_hold_spaces(held);
  busy = proc_vm_unheld_spaces();
  rmap_lock_tables();
  acquire(&reclaimer.lock);
  for(k = 0; k < nh; k++)
    for(pdx = 0; pdx < PDX(USERTOP); pdx++){
      if((held[k]->pgdir[pdx] & PTE_P) == 0)
        continue;
      table = (pte_t *)P2V(PTE_ADDR(held[k]->pgdir[pdx]));
      if(vm_table_shared(held[k]->pgdir[pdx]) && !first_sight(shared, &nshared, table))
        continue;            // a table shared by on-demand fork holds its slots once
      for(i = 0; i < NPTENTRIES; i++)
        if(SWP_IS_ENTRY(table[i]))
          cnt[SWP_SLOT(table[i])]++;
    }
  for(pg = reclaimer.head.next; pg != &reclaimer.head; pg = pg->next)
    if(pg->swap)
      cnt[pg->swap - 1]++;
  release(&reclaimer.lock);
  rmap_unlock_tables();
  count_obj_slots(held, nh, cnt);
  r = busy > 0 || nh == RECLAIM_MAXHELD ? -EBUSY : swap_check_refs(cnt);
  for(k = 0; k < nh; k++)
    proc_vm_unhold(held[k]);
  return r;
}

// Check every slot's reference count against the references that exist.
// Returns the number of slots that disagree (0: swap is consistent), or
// -EBUSY if some process stayed in a VM critical section, -ENOMEM.
int
reclaim_audit(void)
{
  uint total, used;
  ushort *cnt = audit_cnt;
  int r = -EBUSY, tries;

  swap_stat(&total, &used);
  if(total == 0)
    return 0;
  if(cnt == 0)
    return -ENOMEM;
  acquiresleep(&reclaimer.roundlock);
  for(tries = 0; tries < 50 && r == -EBUSY; tries++){
    memset(cnt, 0, total * sizeof(ushort));
    if((r = audit_once(cnt)) == -EBUSY)
      yield();
  }
  releasesleep(&reclaimer.roundlock);
  return r;
}
