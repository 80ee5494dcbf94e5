// Memory objects: what shared memory is made of. A mapping (struct vma)
// of a file or of shared anonymous memory points at an object and an
// offset; the object owns the pages, so every mapping in every process,
// and read()/write() of the file, see one copy of each page.
//
//   MOBJ_FILE  the page cache of one inode (one object per (dev, inum)),
//              pages indexed by file page number (mobj.c, pcache.c)
//   MOBJ_ANON  shared anonymous memory (MAP_SHARED|MAP_ANONYMOUS), pages
//              zero-filled on first touch, shared across fork
//
// A page is in an object's index only once its contents are valid (filled
// from the file, or zeroed). The index holds one reference to the page;
// each PTE mapping it and each caller using it holds one more. Each object
// also lists the mappings that map it (the reverse map, rmap.c), so dirty
// bits can be collected from every page table.
//
// Lock order (outermost first); none is held while copying to or from
// user memory, except that a directory's or symlink's inode lock may be
// held while copying out to user memory (such inodes are never mapped):
//   inode sleeplock (log operation begun before it)
//     -> rmap lock (rmap.c: reverse maps, PTEs of object pages in other spaces)
//       -> object lock (mobj.c: objects' refs, the page index, the LRU list)
//         -> buddy lock (page reference counts)
// The reclaim thread takes inode locks and begins log operations to write
// dirty file pages back (reclaim_file.c): nothing may wait for reclaim
// while holding an inode lock or inside a log operation.
#ifndef KMOBJ_H
#define KMOBJ_H
#include "types.h"

#define MOBJ_FILE  1
#define MOBJ_ANON  2

// struct page.pflags
#define PG_DIRTY   1    // written through a mapping since the last write-back

struct vma;
struct inode;
struct file;
struct tlb_batch;

struct mobj {
  int kind;             // MOBJ_*
  int ref;              // mappings and callers using it (object lock)
  uint dev, inum;       // MOBJ_FILE: the inode
  uint npages;          // pages in the index (object lock)
  uint span;            // MOBJ_ANON: pages it covers (numbered 0 .. span-1)
  struct vma *maps;     // mappings of it, through vma->rnext (rmap lock)
  struct mobj *hnext;   // MOBJ_FILE: chain of the file-object table
  uint *swapslots;      // MOBJ_ANON: per page, its swap slot + 1 while it is
                        // in swap, else 0 (mm/swap.c, under its object-swap lock)
};

// A file page reclaim looks at (mobj_file_pick): the page and its object,
// each with a reference for reclaim.
struct mobj_victim {
  void *kva;
  struct mobj *obj;
  uint pgno;
};

// mobj.c
void  mobj_init(void);
struct mobj *mobj_file_get(uint dev, uint inum);  // with a reference; 0 on ENOMEM
struct mobj *mobj_file_find(uint dev, uint inum); // existing one with a reference, or 0
struct mobj *mobj_anon_new(uint span);            // 0 on ENOMEM
void  mobj_hold(struct mobj *o);
void  mobj_put(struct mobj *o);                   // may free it (and an anon object's pages)
void *mobj_lookup(struct mobj *o, uint pgno);     // page with a reference taken, or 0
void *mobj_insert(struct mobj *o, uint pgno, void *kva);  // resident page, referenced
void  mobj_remove_range(struct mobj *o, uint from, uint to);  // drop pages [from, to)
int   mobj_reclaim(uint n);                       // free up to n clean unused file pages
void  mobj_drop_caches(void);                     // free every clean unused file page
void  mobj_set_dirty(void *kva);
int   mobj_test_clear_dirty(void *kva);           // was it dirty? (now clean)
uint  mobj_cached_pages(void);                    // file pages in memory
struct mobj *mobj_hold_anon_owner(void *kva);     // the anon object of a page, referenced, or 0
int   mobj_evict(struct mobj *o, uint pgno, void *kva, int refs);  // drop page if only refs use it
void *mobj_zero_page(void);                       // the shared zero page, referenced
int   mobj_file_pick(struct mobj_victim *out, int n, uint *scanned);  // reclaim: LRU file pages
int   mobj_file_evict(struct mobj *o, uint pgno, void *kva);  // drop if clean and unused
int   mobj_is_zero_page(void *kva);

// pcache.c: the file side (caller holds no inode lock unless stated)
void *pcache_get_locked(struct inode *ip, struct mobj *o, uint pgno, int *err);
void *pcache_fault_page(struct inode *ip, struct mobj *o, uint pgno, int *err, int *major);
int   pcache_writeback(struct inode *ip, struct mobj *o, uint from, uint to,
                       uint va, int why);         // 0 or first -errno
int   pcache_sync(struct inode *ip, struct mobj *o, uint from, uint to,
                  uint va, int why);              // harvest dirty bits, then write back
void  pcache_update(struct mobj *o, uint off, const char *src, uint n, uint oldsize);
void  pcache_truncate(struct inode *ip, uint oldsize, uint newsize);  // caller holds ip->lock
int   pcache_read_kernel(struct inode *ip, char *dst, uint off, uint n);  // caller holds ip->lock

// rmap.c
void  rmap_add(struct vma *v);                    // v->obj and v->pgdir set
void  rmap_remove(struct vma *v);
int   rmap_harvest(struct mobj *o, uint from, uint to);  // move PTE dirty bits to pages
void  rmap_unmap(struct mobj *o, uint from, uint to);    // remove PTEs of those pages
void  rmap_lock_tables(void);                     // vm_unmap_range's side of the rmap lock
#define RMAP_BUSY  (-1)                           // rmap_reclaim_page: mapped elsewhere, or in use
#define RMAP_YOUNG (-2)                           // ... accessed since the last look: kept
int   rmap_reclaim_page(struct mobj *o, uint pgno, void *kva, int extra, pde_t **held,
                        int nheld, struct tlb_batch *b, struct file **fp);  // PTEs removed
void  rmap_unlock_tables(void);

// tlb.c
void  tlb_shootdown(uint cpumask);                // flush TLBs of those CPUs and wait
void  tlb_intr(void);                             // the shootdown IPI handler
#endif
