// Allocations that may wait for reclaim: page_alloc_wait, kmalloc_wait,
// kzalloc_wait. Out of memory, they kick the reclaim thread and wait for
// its rounds (reclaim_wait: bounded; it gives up when rounds free
// nothing, i.e. memory and swap are full, or there is no swap, or the
// failure was injected by faultinj, or the process is killed), then try
// again. They return 0 only when the memory is really not to be had, so
// their callers fail with -ENOMEM exactly as before. The plain page_alloc
// and kmalloc never wait.
//
// The rule (who may use the waiting forms, and where they fall back to
// failing at once by themselves):
//   - process context only: a system call or a page fault of a process,
//     never an interrupt handler (they use page_alloc and kmalloc). No
//     spinlock held (reclaim_wait sees one by the pushcli depth and
//     refuses, so a spinlock holder gets the atomic behaviour). Not a
//     kernel thread (the reclaim thread is one), nor anyone inside a round
//     or the swap audit: reclaim_wait refuses, the round it would wait for
//     being its own.
//   - no sleeplock that reclaim's write-back may need: no buffer lock,
//     no inode lock, and not inside a file-system operation (begin_op ..
//     end_op: writing a dirty file page back needs room in the log, which
//     the open operation holds until it ends). begin_op opens a no-wait
//     scope (alloc_nowait_begin) so every waiting form inside an fs
//     operation fails at once instead; before it does, it waits for a
//     little headroom (alloc_headroom). Code that must allocate there
//     fails with -ENOMEM, lets go of its locks and may try again (exec
//     does: exec.c). reclaim_wait itself refuses inside such a scope, so
//     a page fault on user memory there (a copy from a user buffer inside
//     a log operation) fails with -ENOMEM instead of waiting. The inode
//     locks reclaim's write-back takes are regular files' (pcache_writeback);
//     a regular file's read() and write() hold theirs only around the page
//     cache, never while copying to or from user memory (pcache.c). A
//     directory's read copies out holding the directory's lock, which
//     reclaim never takes.
//   - inside a VM critical section of its own space (proc_vm_enter) a
//     process may wait: reclaim cannot take that space's pages meanwhile,
//     but it still takes other spaces' pages, and when it can free
//     nothing reclaim_wait gives up after a few rounds; the caller fails,
//     leaves the section, and its outer retry (VM_RETRY in vm.c, fork)
//     waits again where its own pages can go too. VM_RETRY itself opens a
//     no-wait scope inside its section: it waits outside, for less.
// Kernel memory got this way (page tables, kmalloc objects, kernel
// stacks) is never on reclaim's list and never swapped.
#include "types.h"
#include "param.h"
#include "errno.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "mm/buddy.h"
#include "mm/swap.h"

#define ALLOC_WAITS 8           // reclaim_wait calls per allocation, at most
#define ALLOC_HEADROOM 16       // free pages wanted before a file-system operation

// May the running process wait for reclaim (see the rule above)?
// reclaim_wait checks the rest (spinlocks, reclaim itself).
static int
alloc_may_wait(void)
{
  struct proc *p = myproc();

  return p && p->allocnowait == 0;
}

// An allocation just failed: wait for reclaim if allowed. 1: try again.
static int
alloc_wait(int *waits)
{
  if(*waits >= ALLOC_WAITS || !alloc_may_wait())
    return 0;
  (*waits)++;
  return reclaim_wait() == 0;
}

// page_alloc(order), waiting for reclaim when out of memory (rule above).
void *
page_alloc_wait(int order)
{
  void *kva;
  int waits = 0;

  while((kva = page_alloc_site(order, __builtin_return_address(0))) == 0 && alloc_wait(&waits))
    ;
  return kva;
}

// kmalloc(size), waiting for reclaim when out of memory (rule above).
void *
kmalloc_wait(uint size)
{
  void *p;
  int waits = 0;

  while((p = kmalloc(size)) == 0 && alloc_wait(&waits))
    ;
  return p;
}

// kzalloc(size), waiting for reclaim when out of memory (rule above).
void *
kzalloc_wait(uint size)
{
  void *p = kmalloc_wait(size);

  if(p)
    memset(p, 0, size);
  return p;
}

// Before a no-wait scope opens (begin_op): if fewer than ALLOC_HEADROOM
// pages are free, wait for reclaim (as the waiting forms do) so that the
// scope's own allocations (inodes, path buffers, cache pages) are likely
// to find memory. A hint, not a reservation: they can still fail, with
// -ENOMEM. Same rule as the waiting forms (a process, no spinlock, not
// already in a scope).
void
alloc_headroom(void)
{
  int waits = 0;

  while(buddy_free_pages() < ALLOC_HEADROOM && alloc_wait(&waits))
    ;
}

// Open (and close) a scope of the current process in which the waiting
// forms fail at once: a file-system operation (begin_op .. end_op).
// Scopes nest. No-ops outside a process.
void
alloc_nowait_begin(void)
{
  struct proc *p = myproc();

  if(p)
    p->allocnowait++;
}

void
alloc_nowait_end(void)
{
  struct proc *p = myproc();

  if(p && --p->allocnowait < 0)
    panic("alloc_nowait_end: not begun");
}
