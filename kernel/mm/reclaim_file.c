// Reclaim of file pages: one batch from the page cache's LRU list
// (mobj.c). Each page, mapped or not, leaves every page table (rmap.c
// finds its PTEs through its object's mappings; only spaces reclaim holds
// are touched, and a page mapped in a busy space stays), TLBs are flushed,
// and then:
//
//   clean  it leaves the cache (counted in reclaim_file_clean); the next
//          touch reads it back from the file (a page-cache miss)
//   dirty  (a PTE's dirty bit, collected as msync does, or a store not yet
//          written back) it is written to its file first, as a write-back
//          of reason `evict`, then leaves (reclaim_file_dirty)
//
// A page some PTE marks accessed since the last look gets a second chance
// (the bits are cleared; it goes to the back of the list). A store that
// races with the write-back needs a fault first (the PTEs are gone), which
// maps the page again: the page is then in use and stays, its new dirty
// bit in the new PTE. A write-back that fails leaves the page in memory,
// dirty, and is reported (reclaim_file_errors, sysctl vm.reclaim_errors).
//
// Locks: the write-back takes the inode lock and begins log operations
// with no spinlock held; so nothing may wait for reclaim while holding an
// inode lock or inside a log operation (reclaim_int.h).
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "fs.h"
#include "fs/file.h"
#include "core/defs.h"
#include "mm/buddy.h"
#include "mm/vm.h"
#include "mm/mobj.h"
#include "mm/tlb.h"
#include "mm/swap.h"
#include "trace/trace.h"
#include "mm/reclaim_int.h"

int reclaim_file_errors;        // write-backs by reclaim that failed (sysctl vm.reclaim_errors)

// Remove the PTEs of every page in vs[0..n) that reclaim can take: hold
// the address spaces nobody is changing, take the pages out of them
// (rmap_reclaim_page), let go, flush TLBs. res[i]: rmap_reclaim_page's
// answer; files[i]: a file to write page i back through, or 0.
static void
unmap_batch(struct mobj_victim *vs, int n, int *res, struct file **files)
{
  struct proc *held[RECLAIM_MAXHELD];
  pde_t *pgdirs[RECLAIM_MAXHELD];
  struct tlb_batch b = { .mask = 0 };
  int i, nh;

  nh = reclaim_hold_spaces(held);
  for(i = 0; i < nh; i++)
    pgdirs[i] = held[i]->pgdir;
  for(i = 0; i < n; i++)
    res[i] = rmap_reclaim_page(vs[i].obj, vs[i].pgno, vs[i].kva, 2, pgdirs, nh, &b, &files[i]);
  for(i = 0; i < nh; i++)
    proc_vm_unhold(held[i]);
  tlb_batch_send(&b);
}

// Is victim i out of every page table (res >= 0) and dirty, with a file
// to write it back through?
static int
to_write(struct mobj_victim *vs, int *res, struct file **files, int i)
{
  return res[i] >= 0 && files[i] && (page_of(vs[i].kva)->pflags & PG_DIRTY);
}

// Write back the dirty victims, a run of consecutive pages of one file
// at a time (pcache_writeback writes such a run in few log operations).
// A page whose write-back fails stays in the cache, dirty; the failure is
// counted and reported (the 1st, 2nd, 4th, 8th, ... failure prints a
// line). Such a page is tried again once a fault maps it again; else
// msync, fsync, munmap or exit writes it (they write back every dirty
// page of a range).
static void
write_back(struct mobj_victim *vs, int *res, struct file **files, int n)
{
  int i, j, k, r, e;

  for(i = 0; i < n; i = j + 1){
    j = i;
    if(!to_write(vs, res, files, i))
      continue;
    while(j + 1 < n && vs[j + 1].obj == vs[i].obj && vs[j + 1].pgno == vs[j].pgno + 1 &&
          to_write(vs, res, files, j + 1))
      j++;
    r = pcache_writeback(files[i]->ip, vs[i].obj, vs[i].pgno, vs[j].pgno + 1, 0, TW_EVICT);
    if(r >= 0)
      continue;
    for(k = i; k <= j; k++){
      e = __sync_add_and_fetch(&reclaim_file_errors, 1);
      if((e & (e - 1)) == 0)
        printf("reclaim: writing back page %d of inode %d failed (error %d): it stays in "
               "memory, dirty (%d failures so far)\n", vs[k].pgno, vs[k].obj->inum, -r, e);
    }
  }
}

// One batch of file pages. Returns the pages freed; adds the pages looked
// at to *scanned. Caller holds reclaimer.roundlock and no spinlock.
int
reclaim_file_batch(uint *scanned)
{
  struct mobj_victim vs[RECLAIM_BATCH];
  struct file *files[RECLAIM_BATCH];
  int res[RECLAIM_BATCH], dirty[RECLAIM_BATCH];
  int i, n, freed = 0;

  if((n = mobj_file_pick(vs, RECLAIM_BATCH, scanned)) == 0)
    return 0;
  unmap_batch(vs, n, res, files);
  for(i = 0; i < n; i++)
    dirty[i] = to_write(vs, res, files, i);
  write_back(vs, res, files, n);
  for(i = 0; i < n; i++){
    if(res[i] >= 0 && mobj_file_evict(vs[i].obj, vs[i].pgno, vs[i].kva)){
      vmstat_inc(dirty[i] ? VM_RECLAIM_FILE_DIRTY : VM_RECLAIM_FILE_CLEAN);
      freed++;
    }
    if(files[i])
      file_close(files[i]);
    mobj_put(vs[i].obj);
    vm_user_page_put(vs[i].kva);
  }
  return freed;
}
