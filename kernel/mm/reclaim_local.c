// Local replacement: a process held to a fixed number of frames
// (setframes(n)), the textbook setting in which page-replacement policies
// are compared on a reference string (Belady's anomaly needs exactly 3
// and then 4 frames, which global reclaim cannot give one process).
//
// A process with a frame set counts the private anonymous pages its own
// faults bring in (a first touch, TF_ZERO, or a read back from swap,
// TF_SWAP). When a fault brings in one more than its n frames allow, one
// of the process's own pages in the set goes to swap first, chosen by
// the policy of sysctl vm.policy applied to the set:
//
//   fifo    the page that came in first
//   clock   second chance: from the hand, a page accessed since the hand
//           last passed loses its accessed bit and is passed over
//   random  any page of the set
//   lru     aging: at each fault of the process every page's 8-bit
//           history shifts right and takes its accessed bit on top; the
//           lowest history goes (ties: the page that came in first)
//
// An eviction is the same as global reclaim's for one PTE: the page is
// written to a swap slot (not again if it still has a clean copy there)
// and the PTE becomes a swap entry. It is counted as a swap-out (and as an
// anonymous page reclaimed if that frees it), with a swap_out event.
// The process's next touch of the page is a major fault, which brings it
// back into the set. Pages mapped another way (eager allocation, file
// pages, copy-on-write copies of pages already counted) are not counted.
//
// Global reclaim leaves the accessed bits of such a process alone (they
// are its frame set's), though under memory pressure it may still take
// its pages like anyone's.
//
// The set belongs to the running process and is used only inside its own
// VM critical section (its page fault), so it needs no lock; the page's
// swap copy is taken with one atomic exchange, as swap_page_written does
// (a reclaim round may hold a reference of its own to the same slot).
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
#include "mm/tlb.h"
#include "mm/swap.h"
#include "trace/trace.h"
#include "mm/reclaim_int.h"

struct frameset {
  uint limit;                   // frames the process may use
  uint n;                       // frames in use: va[0..n)
  uint hand;                    // fifo: the oldest; clock: the hand
  uint clock;                   // arrivals so far: the pages its faults brought in
  uint va[FRAMES_MAX];          // the page each frame holds
  uint arrived[FRAMES_MAX];     // its arrival number
  uchar age[FRAMES_MAX];        // lru: its history of accessed bits
};

// Take the accessed bit of the PTE mapping va in pgdir: 1 if it was set
// (cleared now, and the TLB told), 0 if not or if va is not present.
static int
take_accessed(pde_t *pgdir, uint va)
{
  pte_t *pte = vm_walk(pgdir, va, 0);

  if(pte == 0 || (*pte & (PTE_P | PTE_A)) != (PTE_P | PTE_A))
    return 0;
  __sync_fetch_and_and(pte, ~PTE_A);
  tlb_local_one(pgdir, va);
  return 1;
}

// Which frame of fs goes, under the current policy. fs is full.
static uint
choose(struct proc *p, struct frameset *fs)
{
  uint i, k, best;

  switch(reclaim_policy){
  case POLICY_RANDOM:
    return policy_rand() % fs->n;
  case POLICY_CLOCK:
    for(k = 0; k < 2 * fs->n; k++){        // a full turn clears every bit
      i = fs->hand;
      if(!take_accessed(p->pgdir, fs->va[i]))
        return i;
      fs->hand = (i + 1) % fs->n;
    }
    return fs->hand;
  case POLICY_LRU:
    best = 0;
    for(i = 0; i < fs->n; i++)
      if(fs->age[i] < fs->age[best] ||
         (fs->age[i] == fs->age[best] && fs->arrived[i] < fs->arrived[best]))
        best = i;
    return best;
  default:                                  // POLICY_FIFO
    return fs->hand;
  }
}

// lru: shift every frame's history by the accessed bit since the last fault.
static void
age_frames(struct proc *p, struct frameset *fs)
{
  uint i;

  for(i = 0; i < fs->n; i++)
    fs->age[i] = (fs->age[i] >> 1) | (take_accessed(p->pgdir, fs->va[i]) ? 0x80 : 0);
}

// Send p's page at va to swap, as global reclaim would (see the top).
// Returns 0, or -1 if it stays (not a private anonymous page any more,
// swap full, a disk error). Caller is p, in its VM critical section.
static int
evict(struct proc *p, uint va)
{
  pte_t *pte = vm_walk(p->pgdir, va, 0), e;
  struct page *pg;
  void *kva;
  uint s;
  int write, freed;

  if(pte == 0 || ((e = *pte) & PTE_P) == 0)
    return 0;                               // gone already (unmapped, or reclaim took it)
  kva = P2V(PTE_ADDR(e));
  if((pg = page_of(kva)) == 0 || pg->obj || !reclaim_swappable(pg))
    return -1;
  if((s = __sync_lock_test_and_set(&pg->swap, 0)) != 0){
    s--;                                    // its clean copy: the entry takes that reference
    write = (e & PTE_D) || !swap_dirtybit;
  } else {
    int fresh = swap_slot_alloc();
    if(fresh < 0)
      return -1;
    s = fresh;
    write = 1;
  }
  if(write && swap_write(kva, s) < 0){
    swap_slot_put(s);                       // (marked bad; the page stays, without a copy)
    return -1;
  }
  vmstat_inc(write ? VM_SWAP_WRITES : VM_SWAP_WRITES_SAVED);
  freed = page_ref_count(kva) == 1;
  *pte = SWP_ENTRY(s);
  tlb_local_one(p->pgdir, va);              // (only this CPU runs p: others reloaded CR3)
  trace_record_cnt(TEV_SWAP_OUT, (uint[TRACE_NWORDS]){ V2P(kva), s, 1, write },
                   VM_SWAP_OUT, 1, freed ? VM_RECLAIM_ANON : VM_NONE, VM_NONE);
  vm_user_page_put(kva);
  return 0;
}

// A fault of p just brought its private anonymous page va in (TF_ZERO or
// TF_SWAP): count it in p's frame set, sending another of its pages to
// swap first if the set is full. Caller is p, in its VM critical section.
void
reclaim_local_admit(struct proc *p, uint va)
{
  struct frameset *fs = p->frames;
  uint i;

  va = PGROUNDDOWN(va);
  for(i = 0; i < fs->n; i++)
    if(fs->va[i] == va)
      return;                               // still counted (it left some other way)
  if(reclaim_policy == POLICY_LRU)
    age_frames(p, fs);
  if(fs->n < fs->limit){
    i = fs->n++;
  } else {
    i = choose(p, fs);
    if(evict(p, fs->va[i]) < 0)
      printf("pid %d: page 0x%x stays in memory past the frame limit (swap full or "
             "disk error)\n", p->pid, fs->va[i]);
    fs->hand = (i + 1) % fs->n;             // fifo: the next oldest; clock: past the new page
  }
  fs->va[i] = va;
  fs->arrived[i] = fs->clock++;
  fs->age[i] = 0x80;                        // just used
}

// Forget p's frame set (exec, the end of the process).
void
reclaim_local_forget(struct proc *p)
{
  if(p->frames){
    kfree(p->frames);
    p->frames = 0;
  }
}

// int setframes(int n): hold the calling process to n frames of its own
// private anonymous memory from now on (1 <= n <= FRAMES_MAX; pages
// resident already are not counted), or to none (n = 0); n = -1 changes
// nothing. Returns the number of pages its faults brought in under the
// frame set so far (0 without one): a fault count of this process alone,
// whatever others do meanwhile. A new program (exec) starts without a
// limit, and so does a child of fork. -EINVAL (n out of range), -ENODEV
// (no swap disk: a page could not leave), -ENOMEM.
int
sys_setframes(void)
{
  struct proc *p = myproc();
  struct frameset *fs;
  uint total, used;
  int n, count;

  if(argint(0, &n) < 0)
    return -EFAULT;
  if(n < -1 || n > FRAMES_MAX)
    return -EINVAL;
  count = p->frames ? (int)p->frames->clock : 0;
  if(n == -1)
    return count;
  swap_stat(&total, &used);
  if(n > 0 && total == 0)
    return -ENODEV;
  fs = n > 0 ? kzalloc_wait(sizeof(*fs)) : 0;
  if(n > 0 && fs == 0)
    return -ENOMEM;
  reclaim_local_forget(p);                  // (only p's own faults use it: no lock)
  if(fs){
    fs->limit = n;
    p->frames = fs;
  }
  return count;
}
