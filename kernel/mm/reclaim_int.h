// What the files of page reclaim share among themselves (not for other
// subsystems: they use swap.h).
//
//   reclaim.c        the list of anonymous pages, the reclaim thread and
//                    its rounds, processes waiting for memory
//   reclaim_anon.c   one batch of anonymous pages to swap: choose victims,
//                    take them out of every address space, write, free
//   reclaim_audit.c  the swap-slot audit (sysctl vm.swap_audit)
//   reclaim_file.c   one batch of file pages: drop clean ones, write dirty
//                    ones back to their file first
//
// reclaimer.lock guards the list, the page flags PG_* of swap.h, the in-flight
// table (v, nv) and the round counters. Order: rmap lock -> reclaimer.lock ->
// swap lock -> buddy lock; the ptable lock is taken inside it (sleep,
// wakeup). reclaimer.roundlock (a sleep lock) is held through a round and by the
// audit, before every spinlock. reclaim_file.c writes pages back with the
// round lock held: it takes inode locks and begins log operations (no
// spinlock held), so nothing may wait for reclaim while it holds an inode
// lock or is inside a log operation.
#ifndef KRECLAIM_INT_H
#define KRECLAIM_INT_H
#include "types.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"

#define RECLAIM_BATCH  32       // victims per round
#define RECLAIM_MAXHELD 64      // spaces held at once; a process past these counts as busy

struct page;
struct mobj;
struct proc;

// A page a round is taking away (in flight while its pg is set).
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

struct reclaim_state {
  struct spinlock lock;
  struct page head;             // sentinel: anonymous pages, oldest first
  int kick;                     // wake the thread
  uint begun;                   // rounds started
  uint rounds;                  // rounds finished
  int lastfreed;                // pages the last round freed
  struct victim v[RECLAIM_BATCH];  // this round's victims (in flight)
  int nv;
  uint low, high;               // watermarks (free pages)
  struct sleeplock roundlock;   // held through a round, and by the audit
};
extern struct reclaim_state reclaimer;

int  reclaim_swappable(struct page *pg);
int  reclaim_hold_spaces(struct proc **held);   // reclaim_anon.c
int  reclaim_anon_batch(uint *scanned);         // reclaim_anon.c: pages freed
void reclaim_audit_alloc(void);                 // reclaim_audit.c
int  reclaim_file_batch(uint *scanned);         // reclaim_file.c: pages freed
#endif
