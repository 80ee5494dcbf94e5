// Per-page metadata shared by the buddy allocator (buddy.c), kmalloc.c and
// vm.c. buddy_init() places one struct page for every managed physical page
// in the memory just after the kernel image.
#ifndef KBUDDY_H
#define KBUDDY_H
#include "types.h"

// Page states (struct page.state), meaningful on the first page of a block.
#define PAGE_FREE   1   // heads a free block of 2^order pages
#define PAGE_INUSE  2   // heads an allocated block of 2^order pages
#define PAGE_INNER  3   // inside a block, not its first page

// What an allocated block is used for (struct page.use); set by the owner.
#define PUSE_NONE   0   // raw page_alloc() caller (kernel stacks, page tables, user pages)
#define PUSE_SLAB   1   // kmalloc slab of small objects
#define PUSE_BIG    2   // one large kmalloc object

struct page {
  struct page *next;    // free list (free blocks), or kmalloc's partial-slab list
  struct page *prev;
  int refcnt;           // users of the page (copy-on-write sharing)
  uchar order;          // log2 of the block's page count (heads only)
  uchar state;          // PAGE_*
  uchar use;            // PUSE_*
  uchar sclass;         // kmalloc size class (PUSE_SLAB)
  ushort nfree;         // kmalloc: free objects in this slab
  ushort ninuse;        // kmalloc: objects handed out from this slab
  void *objs;           // kmalloc: list of free objects in this slab
  // Pages owned by a memory object (mm/mobj.h): set and cleared under the
  // object lock (mobj.c); while obj is set, next/prev link the page on the
  // cache's LRU list (file pages only).
  struct mobj *obj;     // owner object, or 0
  uint pgno;            // page number inside obj (file page number)
  uint pflags;          // PG_* (mobj.h), changed with atomic operations
  struct page *hnext;   // chain in the (object, page number) index
  // Anonymous user pages (obj == 0) on the reclaim list (mm/reclaim.c):
  // next/prev link the list, pflags holds PG_* of mm/swap.h, and swap is
  // the slot of a copy on the swap disk plus one (0: none).
  uint swap;
};

// Metadata of the page holding kernel virtual address kva (0 if unmanaged).
struct page *page_of(void *kva);

// Metadata of managed frame pa (physical address) without a bounds check,
// for the page-table walkers of vm.c: a present user PTE always holds a
// managed frame.
extern struct page *buddy_frames;
static inline struct page *
page_of_frame(uint pa)
{
  return &buddy_frames[pa >> 12];
}

// Add n to a page's reference count; returns the new count. Atomic, no
// lock (see page_ref_inc in buddy.c); for the page-table walkers of vm.c,
// which hold the page's metadata already.
static inline int
page_ref_add(struct page *pg, int n)
{
  return __sync_add_and_fetch(&pg->refcnt, n);
}
// Kernel virtual address of the page described by pg.
void *page_kva(struct page *pg);
// The page cache's reclaimer (mobj.c), or 0: frees up to n clean unused
// cache pages, returns how many. page_alloc calls it before failing.
extern int (*buddy_reclaim)(uint n);
// Page reclaim (mm/reclaim.c), or 0: called, holding no lock, after an
// allocation that left fewer than buddy_low_pages pages free.
extern void (*buddy_low)(void);
extern uint buddy_low_pages;
uint buddy_free_pages(void);          // pages free now (a racy snapshot)
void *page_alloc_site(int order, void *site);  // page_alloc, its trace event naming site
uint buddy_total_pages(void);
int  page_ref_get_unless_zero(void *kva);  // take a reference if it has one; 1 if taken
#endif
