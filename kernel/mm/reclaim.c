// Page reclaim: the reclaim thread, the list of anonymous user pages it
// chooses from (policy.c), taking a page out of every address space that
// maps it (swap.h), and processes waiting for memory.
//
// When an allocation leaves fewer than the low watermark of free pages,
// the thread wakes and frees pages until the high watermark: clean file
// pages nobody maps first (mobj_reclaim), then anonymous pages, which go
// to the swap disk. A round takes up to BATCH victims: it marks them,
// walks every address space it can hold (proc_vm_hold_next) replacing
// their PTEs with swap entries, flushes TLBs, writes each page whose copy
// on disk is missing or stale, and frees the pages nobody maps any more.
// A page still mapped in a space that was busy stays (its other PTEs are
// swap entries already: correct, since such a page is read-only).
//
// A process whose fault found no memory waits here (reclaim_wait) outside
// any VM critical section, so reclaim can take its pages too.
//
// The reclaim lock (rc.lock) guards the list, the page flags PG_* of
// swap.h, the in-flight table and the round counters. Order: rmap lock ->
// reclaim lock -> swap lock -> buddy lock; the ptable lock is taken inside
// it (sleep, wakeup).
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

#define BATCH 32                // victims per round

struct victim {
  struct page *pg;
  uint slot;
  int fresh;                    // slot allocated for this eviction (else the page's own)
  struct mobj *obj;             // a shared anonymous object's page: the object (held)
  uint pgno;                    // ... and its page number there
  int found;                    // PTEs mapping it in the held spaces
  int whole;                    // every reference is one of those PTEs
  int ptes;                     // PTEs replaced by swap entries
  int dirty;                    // a replaced PTE was dirty or writable
};

static struct {
  struct spinlock lock;
  struct page head;             // sentinel: anonymous pages, oldest first
  int kick;                     // wake the thread
  uint begun;                   // rounds started
  uint rounds;                  // rounds finished
  int lastfreed;                // pages the last round freed
  struct victim v[BATCH];       // this round's victims (in flight)
  int nv;
  uint low, high;               // watermarks (free pages)
  struct sleeplock roundlock;   // held through a round, and by the audit
} rc;

int reclaim_policy = POLICY_CLOCK;

// Can reclaim take pg to swap: a private anonymous page, or a page of a
// shared anonymous object (not a file page, not the zero page)? Caller
// holds something that keeps pg's object alive (a mapping of it).
static int
swappable(struct page *pg)
{
  return pg && (pg->obj == 0 || pg->obj->kind == MOBJ_ANON) &&
         !mobj_is_zero_page(page_kva(pg));
}

// Put a newly mapped anonymous user page (private, or of a shared
// anonymous object) on the list, at the back: it is the newest. A page is
// on the list while its next is set. Caller maps it (so it is alive).
void
reclaim_track(void *kva)
{
  struct page *pg = page_of(kva);

  if(!swappable(pg))
    return;
  acquire(&rc.lock);
  if(pg->next == 0){
    if(pg->obj == 0)
      pg->pgno = 0x80;          // lru: just used (object pages keep their pgno)
    pg->prev = rc.head.prev;
    pg->next = &rc.head;
    rc.head.prev->next = pg;
    rc.head.prev = pg;
  }
  release(&rc.lock);
}

// A user page's last reference is gone (vm_user_page_put): take it off
// the list and let go of its swap copy before it is freed.
void
reclaim_forget(void *kva)
{
  struct page *pg = page_of(kva);

  if(pg == 0 || pg->obj)
    return;
  if(pg->next){
    acquire(&rc.lock);
    pg->prev->next = pg->next;
    pg->next->prev = pg->prev;
    pg->next = pg->prev = 0;
    pg->pflags = 0;
    release(&rc.lock);
  }
  if(pg->swap){
    swap_slot_put(pg->swap - 1);
    pg->swap = 0;
  }
  pg->pgno = 0;
}

// A page of slot that a round has taken out of the page tables but not
// yet finished writing: copy it to kva instead of reading the disk.
// Returns 1 if it did.
int
reclaim_inflight_copy(uint slot, void *kva)
{
  int i, found = 0;

  acquire(&rc.lock);
  for(i = 0; i < rc.nv && !found; i++)
    if(rc.v[i].slot == slot && rc.v[i].pg){
      memmove(kva, page_kva(rc.v[i].pg), PGSIZE);
      found = 1;
    }
  release(&rc.lock);
  return found;
}

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

// The victim a PTE maps, or 0. Caller holds rc.lock.
static struct victim *
victim_of(pte_t e)
{
  struct page *pg;
  int i;

  if((e & PTE_P) == 0 || (pg = page_of(P2V(PTE_ADDR(e)))) == 0 ||
     (pg->pflags & PG_VICTIM) == 0)
    return 0;
  for(i = 0; i < rc.nv; i++)
    if(rc.v[i].pg == pg)
      return &rc.v[i];
  return 0;
}

// What scan_pte does with a PTE.
#define SCAN_HARVEST 0    // move the accessed bit to the page (PG_REFD)
#define SCAN_COUNT   1    // count the PTEs of each victim
#define SCAN_CONVERT 2    // replace a victim's PTE with its swap entry

// One PTE of a held space. Returns 1 if the PTE changed (the TLB must be
// flushed). Caller holds the rmap lock and rc.lock.
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
       !swappable(pg))
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

#define MAXHELD 64        // spaces held at once; a process past these counts as busy

// Hold every address space nobody is changing (up to MAXHELD), then scan
// them all: harvest accessed bits, or (convert) replace the PTEs of each
// victim whose every reference is a PTE in a held space with swap entries
// (a victim mapped also in a busy space stays whole: it goes to swap once,
// or not at all). Flushes the TLBs concerned before returning.
static void
walk_spaces(int convert)
{
  struct proc *held[MAXHELD], *p;
  uint mask = 0, changed;
  int pid = 0, nh = 0, i;

  while(nh < MAXHELD && (p = proc_vm_hold_next(pid)) != 0){
    pid = p->pid;
    if(p->pgdir == 0)                 // exit got there first
      proc_vm_unhold(p);
    else
      held[nh++] = p;
  }
  rmap_lock_tables();
  acquire(&rc.lock);
  if(convert){
    for(i = 0; i < nh; i++)
      scan_space(held[i], SCAN_COUNT);
    for(i = 0; i < rc.nv; i++)      // every reference but ours (and the object's) found
      rc.v[i].whole = rc.v[i].obj ?
        rc.v[i].found == page_ref_count(page_kva(rc.v[i].pg)) - 2 :
        rc.v[i].found > 0 && rc.v[i].found == page_ref_count(page_kva(rc.v[i].pg)) - 1;
  }
  for(i = 0; i < nh; i++){
    changed = scan_space(held[i], convert ? SCAN_CONVERT : SCAN_HARVEST);
    if(changed)
      mask |= cpus_running(held[i]);
  }
  release(&rc.lock);
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
  struct page *out[BATCH];
  int i, n, s;
  uint total, used;

  swap_stat(&total, &used);
  acquire(&rc.lock);
  n = policy_pick(&rc.head, out, BATCH, scanned, used + BATCH > total);
  rc.nv = 0;
  for(i = 0; i < n; i++){
    struct victim *v = &rc.v[rc.nv];
    v->pg = out[i];
    v->ptes = v->dirty = v->found = v->whole = 0;
    v->obj = 0;
    if(out[i]->obj){
      v->pgno = out[i]->pgno;
      v->obj = mobj_hold_anon_owner(page_kva(out[i]));
    }
    if(out[i]->obj && v->obj == 0){           // its object is going away
      out[i]->pflags &= ~PG_VICTIM;
      release(&rc.lock);
      vm_user_page_put(page_kva(out[i]));
      acquire(&rc.lock);
      continue;
    }
    if(out[i]->swap){                         // its copy: the round takes its own
      v->slot = out[i]->swap - 1;             // reference (a store may make the page
      v->fresh = 0;                           // drop the page's any time)
      swap_slot_dup(v->slot);
    } else if((s = swap_slot_alloc()) >= 0){
      v->slot = s;
      v->fresh = 1;
    } else {                                  // swap is full
      out[i]->pflags &= ~PG_VICTIM;
      release(&rc.lock);
      if(v->obj)
        mobj_put(v->obj);
      vm_user_page_put(page_kva(out[i]));
      acquire(&rc.lock);
      continue;
    }
    rc.nv++;
  }
  release(&rc.lock);
  return rc.nv;
}

// Put a page that stays in memory at the back of the list. Caller holds rc.lock.
static void
to_back(struct page *pg)
{
  pg->prev->next = pg->next;
  pg->next->prev = pg->prev;
  pg->prev = rc.head.prev;
  pg->next = &rc.head;
  rc.head.prev->next = pg;
  rc.head.prev = pg;
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
  acquire(&rc.lock);
  v->pg->pflags &= ~PG_VICTIM;
  if(!out && v->pg->next)
    to_back(v->pg);
  v->pg = 0;
  release(&rc.lock);
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
  int write, written = 0, freed, gone = 0;

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
  acquire(&rc.lock);                          // (with no PTE left, the page keeps its copy)
  freed = page_ref_count(kva) == 1;
  v->pg->pflags &= ~(PG_VICTIM | PG_DIRTY);
  v->pg->pgno = 0x80;
  (void)gone;
  if(!freed){                                 // still mapped somewhere: to the back
    v->pg->prev->next = v->pg->next;
    v->pg->next->prev = v->pg->prev;
    v->pg->prev = rc.head.prev;
    v->pg->next = &rc.head;
    rc.head.prev->next = v->pg;
    rc.head.prev = v->pg;
  }
  v->pg = 0;                                  // out of the in-flight table
  release(&rc.lock);
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

  acquire(&rc.lock);
  for(pg = rc.head.next; pg != &rc.head; pg = pg->next){
    policy_aging_tick(pg, (pg->pflags & PG_REFD) != 0);
    pg->pflags &= ~PG_REFD;
  }
  release(&rc.lock);
}

// One batch of anonymous pages to swap. Returns the pages freed.
static int
anon_batch(uint *scanned)
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
    freed += finish(&rc.v[i]);
  acquire(&rc.lock);
  rc.nv = 0;
  release(&rc.lock);
  return freed;
}

// Free up to want pages. Returns how many were freed.
static int
reclaim_round(uint want)
{
  int freed, n, tries = 0;
  uint scanned = 0, f = buddy_free_pages();

  trace_record_cnt(TEV_RECLAIM, (uint[TRACE_NWORDS]){ 0, f, want, 0, 0, reclaim_policy },
                   VM_RECLAIM_ROUNDS, 1, VM_NONE, VM_NONE);
  freed = mobj_reclaim(want);
  vmstat_add(VM_RECLAIM_FILE_CLEAN, freed);
  while((uint)freed < want && tries < 4){
    n = anon_batch(&scanned);
    freed += n;
    tries = n > 0 ? 0 : tries + 1;
    if(scanned == 0)
      break;
  }
  vmstat_add(VM_RECLAIM_SCANS, scanned);
  if(trace_wants(TEV_RECLAIM))
    trace_record(TEV_RECLAIM, (uint[TRACE_NWORDS]){ 1, buddy_free_pages(), want, freed, scanned,
                                                   reclaim_policy });
  return freed;
}

// The low-watermark hook (page_alloc): wake the thread.
static void
reclaim_kick(void)
{
  if(rc.kick)
    return;
  acquire(&rc.lock);
  rc.kick = 1;
  wakeup(&rc.kick);
  release(&rc.lock);
}

static void
reclaim_thread(void)
{
  int freed;
  uint f;

  for(;;){
    acquire(&rc.lock);
    while(!rc.kick && buddy_free_pages() >= rc.low)
      sleep(&rc.kick, &rc.lock);
    rc.kick = 0;
    rc.begun++;
    release(&rc.lock);
    f = buddy_free_pages();
    acquiresleep(&rc.roundlock);
    freed = reclaim_round(f < rc.high ? rc.high - f : 1);
    releasesleep(&rc.roundlock);
    acquire(&rc.lock);
    rc.rounds++;
    rc.lastfreed = freed;
    wakeup(&rc.rounds);
    release(&rc.lock);
    if(freed == 0){                    // nothing to take: wait a tick before trying again
      acquire(&tickslock);
      sleep(&ticks, &tickslock);
      release(&tickslock);
    }
  }
}

// A fault found no memory: wait for a reclaim round that starts after
// now (one already running may have found this process's space busy).
// 0: try again; -ENOMEM: three such rounds freed nothing (memory and swap
// are full, or there is no swap); -EINTR: killed while waiting. Caller
// holds no lock and is in no VM critical section.
int
reclaim_wait(void)
{
  struct proc *p = myproc();
  uint total, used, target;
  int tries;

  swap_stat(&total, &used);
  if(total == 0 || p == 0 || p->fail_hit)
    return -ENOMEM;             // no swap, or an injected failure (faultinj): report it
  vmstat_inc(VM_RECLAIM_WAITS);
  acquire(&rc.lock);
  for(tries = 0; tries < 3; tries++){
    target = rc.begun + 1;
    rc.kick = 1;
    wakeup(&rc.kick);
    while((int)(rc.rounds - target) < 0){
      if(killed(p)){
        release(&rc.lock);
        return -EINTR;
      }
      sleep(&rc.rounds, &rc.lock);
    }
    if(rc.lastfreed > 0 || buddy_free_pages() > rc.low / 2){
      release(&rc.lock);
      return 0;
    }
  }
  release(&rc.lock);
  return -ENOMEM;
}

static void audit_alloc(void);

// Set up swap and start the reclaim thread. Call once from main, after
// the swap disk and processes are set up.
void
reclaim_start(void)
{
  uint total = buddy_total_pages();

  initlock(&rc.lock, "reclaim");
  initsleeplock(&rc.roundlock, "reclaim round");
  rc.head.next = rc.head.prev = &rc.head;
  rc.low = total / 64 + 32;
  rc.high = 2 * rc.low;
  swap_init();
  audit_alloc();
  if(kthread_start("reclaim", reclaim_thread) < 0)
    panic("reclaim_start: no memory");
  buddy_low_pages = rc.low;
  buddy_low = reclaim_kick;
}

// ---- audit (sysctl vm.swap_audit=1) ----------------------------------------

// The audit's counters, a ushort per slot: allocated at boot, because
// after heavy swapping free memory is too broken up for a block this big.
static ushort *audit_cnt;
static uint audit_order;

static void
audit_alloc(void)
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
  struct mobj *seen[MAXHELD * 4];
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

// Count, per slot, the references that exist: swap entries in every page
// table and swap copies of resident pages. cnt has a ushort per slot.
// Returns 0, or -1 if some address space stayed busy. Caller holds
// roundlock (no round in flight).
static int
count_refs(ushort *cnt)
{
  struct proc *held[MAXHELD], *p;
  struct page *pg;
  uint pdx, i;
  int pid = 0, nh = 0, busy = 0, k, nshared = 0;
  pte_t *table;
  static pte_t *shared[MAXSHARED];   // under roundlock: one audit at a time

  while(nh < MAXHELD && (p = proc_vm_hold_next(pid)) != 0){
    pid = p->pid;
    if(p->pgdir == 0)
      proc_vm_unhold(p);
    else
      held[nh++] = p;
  }
  busy = proc_vm_busy_spaces();
  rmap_lock_tables();
  acquire(&rc.lock);
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
  for(pg = rc.head.next; pg != &rc.head; pg = pg->next)
    if(pg->swap)
      cnt[pg->swap - 1]++;
  release(&rc.lock);
  rmap_unlock_tables();
  count_obj_slots(held, nh, cnt);
  for(k = 0; k < nh; k++)
    proc_vm_unhold(held[k]);
  return busy > 0 || nh == MAXHELD ? -1 : 0;
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
  acquiresleep(&rc.roundlock);
  for(tries = 0; tries < 50 && r == -EBUSY; tries++){
    memset(cnt, 0, total * sizeof(ushort));
    if(count_refs(cnt) == 0)
      r = swap_check_refs(cnt);
    else
      yield();
  }
  releasesleep(&rc.roundlock);
  return r;
}
