// Page reclaim: the list of anonymous user pages reclaim chooses from
// (policy.c), the reclaim thread and its rounds, and processes waiting
// for memory. reclaim_int.h says how the work is split between files and
// which locks guard what.
//
// When an allocation leaves fewer than the low watermark of free pages,
// the thread wakes and frees pages until the high watermark: clean file
// pages nobody maps first (mobj_reclaim), then file pages, mapped or
// dirty, which are written back to their file first (reclaim_file.c),
// then anonymous pages, which go to the swap disk (reclaim_anon.c).
//
// A process whose fault found no memory waits here (reclaim_wait) outside
// any VM critical section, so reclaim can take its pages too.
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

struct reclaim_state reclaimer;

int reclaim_policy = POLICY_CLOCK;

// Can reclaim take pg to swap: a private anonymous page, or a page of a
// shared anonymous object (not a file page, not the zero page)? Caller
// holds something that keeps pg's object alive (a mapping of it).
int
reclaim_swappable(struct page *pg)
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

  if(!reclaim_swappable(pg))
    return;
  acquire(&reclaimer.lock);
  if(pg->next == 0){
    if(pg->obj == 0)
      pg->pgno = 0x80;          // lru: just used (object pages keep their pgno)
    pg->prev = reclaimer.head.prev;
    pg->next = &reclaimer.head;
    reclaimer.head.prev->next = pg;
    reclaimer.head.prev = pg;
  }
  release(&reclaimer.lock);
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
    acquire(&reclaimer.lock);
    pg->prev->next = pg->next;
    pg->next->prev = pg->prev;
    pg->next = pg->prev = 0;
    pg->pflags = 0;
    release(&reclaimer.lock);
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

  acquire(&reclaimer.lock);
  for(i = 0; i < reclaimer.nv && !found; i++)
    if(reclaimer.v[i].slot == slot && reclaimer.v[i].pg){
      memmove(kva, page_kva(reclaimer.v[i].pg), PGSIZE);
      found = 1;
    }
  release(&reclaimer.lock);
  return found;
}


// Free up to want pages. Returns how many were freed.
static int
reclaim_round(uint want)
{
  int freed, n, tries = 0;
  uint scanned = 0, f = buddy_free_pages(), limit, before;

  trace_record_cnt(TEV_RECLAIM, (uint[TRACE_NWORDS]){ 0, f, want, 0, 0, reclaim_policy },
                   VM_RECLAIM_ROUNDS, 1, VM_NONE, VM_NONE);
  freed = mobj_reclaim(want);
  vmstat_add(VM_RECLAIM_FILE_CLEAN, freed);
  limit = scanned + 2 * mobj_cached_pages() + RECLAIM_BATCH;
  while((uint)freed < want && scanned < limit){  // file pages, mapped or dirty: two
    before = scanned;                           // turns of the clock find any page not
    freed += reclaim_file_batch(&scanned);      // busy
    if(scanned == before)
      break;
  }
  while((uint)freed < want && tries < 4){
    before = scanned;
    n = reclaim_anon_batch(&scanned);
    freed += n;
    tries = n > 0 ? 0 : tries + 1;
    if(scanned == before)
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
  if(reclaimer.kick)
    return;
  acquire(&reclaimer.lock);
  reclaimer.kick = 1;
  wakeup(&reclaimer.kick);
  release(&reclaimer.lock);
}

static void
reclaim_thread(void)
{
  int freed;
  uint f;

  for(;;){
    acquire(&reclaimer.lock);
    while(!reclaimer.kick && buddy_free_pages() >= reclaimer.low)
      sleep(&reclaimer.kick, &reclaimer.lock);
    reclaimer.kick = 0;
    reclaimer.begun++;
    release(&reclaimer.lock);
    f = buddy_free_pages();
    acquiresleep(&reclaimer.roundlock);
    freed = reclaim_round(f < reclaimer.high ? reclaimer.high - f : 1);
    releasesleep(&reclaimer.roundlock);
    acquire(&reclaimer.lock);
    reclaimer.rounds++;
    reclaimer.lastfreed = freed;
    wakeup(&reclaimer.rounds);
    release(&reclaimer.lock);
    if(freed == 0){                    // nothing to take: wait a tick before trying again
      acquire(&tickslock);
      sleep(&ticks, &tickslock);
      release(&tickslock);
    }
  }
}

// Rounds that free nothing before a waiter gives up: a few, or more while
// another process's space is in a VM critical section (its pages cannot
// go now, but can in a moment) and swap has room.
#define RECLAIM_WAIT_EMPTY 3
#define RECLAIM_WAIT_BUSY  50

// Is it worth waiting for another round after one that freed nothing?
// Caller holds reclaimer.lock.
static int
reclaim_wait_more(struct proc *p, int empty)
{
  uint total, used;

  if(empty < RECLAIM_WAIT_EMPTY)
    return 1;
  if(empty >= RECLAIM_WAIT_BUSY)
    return 0;
  swap_stat(&total, &used);
  return used < total && proc_vm_busy_spaces() > (p->vmhold > 0);
}

// An allocation found no memory: wait for a reclaim round that starts
// after now (one already running may have found this process's space
// busy). 0: try again; -ENOMEM: rounds freed nothing (memory and swap
// are full, or there is no swap; see reclaim_wait_more), or the caller
// may not wait; -EINTR: killed while waiting. Caller is a process (a
// system call or its page fault) and holds no sleeplock reclaim needs
// (see allocwait.c); in its own VM critical section it may wait, but
// then rounds cannot take its own pages. A caller holding a spinlock, a
// kernel thread (no address space: the reclaim thread among them) and
// the audit (holding the round lock: the round is its own) get -ENOMEM
// at once.
int
reclaim_wait(void)
{
  struct proc *p = myproc();
  uint total, used, target;
  int empty, spin;

  swap_stat(&total, &used);
  if((total == 0 && mobj_cached_pages() == 0) || p == 0 || p->fail_hit)
    return -ENOMEM;             // nothing to reclaim, or an injected failure (faultinj): report it
  pushcli();
  spin = mycpu()->ncli > 1;     // a spinlock (or pushcli) of the caller's
  popcli();
  if(spin || p->pgdir == 0 || p->allocnowait > 0 || holdingsleep(&reclaimer.roundlock))
    return -ENOMEM;             // must not sleep here (a kernel thread: perhaps reclaim's own;
                                // inside a file-system operation: allocwait.c)
  vmstat_inc(VM_RECLAIM_WAITS);
  acquire(&reclaimer.lock);
  for(empty = 0; reclaim_wait_more(p, empty); empty++){
    target = reclaimer.begun + 1;
    reclaimer.kick = 1;
    wakeup(&reclaimer.kick);
    while((int)(reclaimer.rounds - target) < 0){
      if(killed(p)){
        release(&reclaimer.lock);
        return -EINTR;
      }
      sleep(&reclaimer.rounds, &reclaimer.lock);
    }
    if(reclaimer.lastfreed > 0 || buddy_free_pages() > reclaimer.low / 2){
      release(&reclaimer.lock);
      return 0;
    }
  }
  release(&reclaimer.lock);
  return -ENOMEM;
}


// Set up swap and start the reclaim thread. Call once from main, after
// the swap disk and processes are set up.
void
reclaim_start(void)
{
  uint total = buddy_total_pages();

  initlock(&reclaimer.lock, "reclaim");
  initsleeplock(&reclaimer.roundlock, "reclaim round");
  reclaimer.head.next = reclaimer.head.prev = &reclaimer.head;
  reclaimer.low = total / 64 + 32;
  reclaimer.high = 2 * reclaimer.low;
  swap_init();
  reclaim_audit_alloc();
  if(kthread_start("reclaim", reclaim_thread) < 0)
    panic("reclaim_start: no memory");
  buddy_low_pages = reclaimer.low;
  buddy_low = reclaim_kick;
}
