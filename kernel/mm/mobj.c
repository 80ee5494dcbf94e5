// Memory objects (mobj.h): the table of file objects, shared anonymous
// objects, the page index that maps (object, page number) to a page, and
// the LRU list of file pages that lets memory pressure and
// `sysctl vm.drop_caches=1` free clean cache pages nobody uses.
//
// One spinlock (the object lock, mc.lock) guards objects' refs and page
// counts, the file-object table, the index and the LRU list; it is never
// held while allocating memory, sleeping or taking another lock except
// the buddy lock (page reference counts). See mobj.h for the lock order.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "core/spinlock.h"
#include "core/defs.h"
#include "mm/buddy.h"
#include "mm/vm.h"
#include "mm/mobj.h"
#include "mm/pctrace.h"
#include "mm/swap.h"

#define OHASH 64        // chains of the file-object table
#define PHASH 4096      // chains of the page index

static struct {
  struct spinlock lock;
  struct mobj *files[OHASH];   // file objects, through hnext
  struct page *index[PHASH];   // pages of every object, through page.hnext
  struct page lru;             // sentinel: file pages, least recently used first
  uint nfile;                  // file pages in the index
} mc;

static int mobj_reclaim_hook(uint n);
static void *zero_page;         // all zeros, read-only everywhere; never freed

// Set up the object table and the zero page. Call once, after buddy_init.
void
mobj_init(void)
{
  initlock(&mc.lock, "mobj");
  mc.lru.next = mc.lru.prev = &mc.lru;
  if((zero_page = page_alloc(0)) == 0)
    panic("mobj_init: no page");
  memset(zero_page, 0, PGSIZE);
  buddy_reclaim = mobj_reclaim_hook;
}

// The zero page with a reference for the caller: what a read of a file
// mapping wholly past the end of the file sees (a store there is a bus
// error: the fault path checks mobj_is_zero_page first).
void *
mobj_zero_page(void)
{
  page_ref_inc(zero_page);
  return zero_page;
}

int
mobj_is_zero_page(void *kva)
{
  return kva == zero_page;
}

static uint
ohash(uint dev, uint inum)
{
  return (inum * 31 + dev) % OHASH;
}

static uint
phash(struct mobj *o, uint pgno)
{
  return (((uint)o >> 4) ^ (pgno * 2654435761u)) % PHASH;
}

static void
lru_unlink(struct page *pg)
{
  pg->prev->next = pg->next;
  pg->next->prev = pg->prev;
  pg->next = pg->prev = 0;
}

static void
lru_append(struct page *pg)
{
  pg->prev = mc.lru.prev;
  pg->next = &mc.lru;
  mc.lru.prev->next = pg;
  mc.lru.prev = pg;
}

// The page of o at pgno, or 0. Caller holds mc.lock.
static struct page *
index_find(struct mobj *o, uint pgno)
{
  struct page *pg;

  for(pg = mc.index[phash(o, pgno)]; pg; pg = pg->hnext)
    if(pg->obj == o && pg->pgno == pgno)
      return pg;
  return 0;
}

// Take pg out of the index (and the LRU list); it belongs to nobody after.
// Returns its kernel address: the caller drops the index's reference.
// Caller holds mc.lock.
static void *
index_remove(struct page *pg)
{
  struct page **pp;
  struct mobj *o = pg->obj;

  for(pp = &mc.index[phash(o, pg->pgno)]; *pp != pg; pp = &(*pp)->hnext)
    if(*pp == 0)
      panic("index_remove: page not in the index");
  *pp = pg->hnext;
  pg->hnext = 0;
  if(o->kind == MOBJ_FILE){
    lru_unlink(pg);
    mc.nfile--;
  }
  o->npages--;
  pg->obj = 0;
  pg->pflags = 0;
  return page_kva(pg);
}

// The file object of (dev, inum), or 0. Caller holds mc.lock.
static struct mobj *
file_find(uint dev, uint inum)
{
  struct mobj *o;

  for(o = mc.files[ohash(dev, inum)]; o; o = o->hnext)
    if(o->dev == dev && o->inum == inum)
      return o;
  return 0;
}

// The existing file object of (dev, inum) with a reference taken, or 0.
struct mobj *
mobj_file_find(uint dev, uint inum)
{
  struct mobj *o;

  acquire(&mc.lock);
  if((o = file_find(dev, inum)) != 0)
    o->ref++;
  release(&mc.lock);
  return o;
}

// The page cache of inode (dev, inum), made if there is none yet, with a
// reference taken; 0 when out of memory. Holds no lock on return.
struct mobj *
mobj_file_get(uint dev, uint inum)
{
  struct mobj *o, *fresh;

  if((o = mobj_file_find(dev, inum)) != 0)
    return o;
  if((fresh = kzalloc(sizeof(*fresh))) == 0)
    return 0;
  fresh->kind = MOBJ_FILE;
  fresh->dev = dev;
  fresh->inum = inum;
  fresh->ref = 1;
  acquire(&mc.lock);
  if((o = file_find(dev, inum)) != 0){       // made meanwhile by someone else
    o->ref++;
    release(&mc.lock);
    kfree(fresh);
    return o;
  }
  fresh->hnext = mc.files[ohash(dev, inum)];
  mc.files[ohash(dev, inum)] = fresh;
  release(&mc.lock);
  return fresh;
}

// A new, empty shared anonymous object of span pages with one reference;
// 0 on ENOMEM.
struct mobj *
mobj_anon_new(uint span)
{
  struct mobj *o = kzalloc(sizeof(*o));

  if(o == 0)
    return 0;
  if((o->swapslots = kzalloc(span * sizeof(uint))) == 0){
    kfree(o);
    return 0;
  }
  o->kind = MOBJ_ANON;
  o->span = span;
  o->ref = 1;
  return o;
}

void
mobj_hold(struct mobj *o)
{
  acquire(&mc.lock);
  o->ref++;
  release(&mc.lock);
}

// Take a file object with no references and no pages off the table. 1 if
// it did (the caller kfrees it). Caller holds mc.lock.
static int
file_unhash_if_idle(struct mobj *o)
{
  struct mobj **pp;

  if(o->ref > 0 || o->npages > 0)
    return 0;
  for(pp = &mc.files[ohash(o->dev, o->inum)]; *pp; pp = &(*pp)->hnext){
    if(*pp == o){
      *pp = o->hnext;
      return 1;
    }
  }
  panic("mobj: file object not in the table");
}

// Drop every page of an anonymous object that nobody maps any more.
// Caller holds no lock.
static void
anon_free_pages(struct mobj *o)
{
  mobj_remove_range(o, 0, o->span);
}

// Drop a reference. A shared anonymous object goes away with its last
// reference (pages and all); a file object stays while it has pages (the
// cache) and goes when the last reference is gone and it has none. Caller
// holds no spinlock (this may kfree).
void
mobj_put(struct mobj *o)
{
  int gone = 0;

  acquire(&mc.lock);
  if(o->ref < 1)
    panic("mobj_put: no reference");
  o->ref--;
  if(o->kind == MOBJ_FILE)
    gone = file_unhash_if_idle(o);
  else
    gone = o->ref == 0;
  release(&mc.lock);
  if(!gone)
    return;
  if(o->kind == MOBJ_ANON && o->npages > 0)
    anon_free_pages(o);
  if(o->kind == MOBJ_ANON)
    swap_obj_free(o);
  kfree(o);
}

// The page of o at pgno with a reference taken for the caller (it becomes
// the most recently used), or 0 if it is not in memory.
void *
mobj_lookup(struct mobj *o, uint pgno)
{
  struct page *pg;
  void *kva = 0;

  acquire(&mc.lock);
  if((pg = index_find(o, pgno)) != 0){
    kva = page_kva(pg);
    page_ref_inc(kva);
    if(o->kind == MOBJ_FILE){
      lru_unlink(pg);
      lru_append(pg);
    }
  }
  release(&mc.lock);
  return kva;
}

// Put the page kva (valid contents, one reference: the caller's) in o at
// pgno; that reference becomes the index's. Returns the page now at pgno
// with a new reference for the caller: kva, or the page someone else put
// there first (kva is then freed).
void *
mobj_insert(struct mobj *o, uint pgno, void *kva)
{
  struct page *pg, *old;
  void *res;

  acquire(&mc.lock);
  if((old = index_find(o, pgno)) != 0){
    res = page_kva(old);
    page_ref_inc(res);
    release(&mc.lock);
    vm_user_page_put(kva);
    return res;
  }
  pg = page_of(kva);
  pg->obj = o;
  pg->pgno = pgno;
  pg->pflags = 0;
  pg->hnext = mc.index[phash(o, pgno)];
  mc.index[phash(o, pgno)] = pg;
  if(o->kind == MOBJ_FILE){
    lru_append(pg);
    mc.nfile++;
  }
  o->npages++;
  page_ref_inc(kva);
  release(&mc.lock);
  return kva;
}

// Drop the pages of o numbered [from, to) from the index (truncation).
// Mappings must not map them any more (rmap_unmap); a caller still using
// one keeps it until it drops its reference. Caller holds no spinlock.
void
mobj_remove_range(struct mobj *o, uint from, uint to)
{
  struct page *pg;
  void *kva;
  uint n;

  for(n = from; n < to && o->npages > 0; n++){
    kva = 0;
    acquire(&mc.lock);
    if((pg = index_find(o, n)) != 0)
      kva = index_remove(pg);
    release(&mc.lock);
    if(kva){
      if(o->kind == MOBJ_FILE)
        trace_pcache(TEV_PCACHE_FREE, o->inum, n);
      vm_user_page_put(kva);
    }
  }
}

// Free up to n file pages that only the cache uses (no mapping, no caller)
// and that hold no unwritten stores, least recently used first. Returns
// how many were freed. Takes and drops mc.lock: the caller holds no
// object or rmap lock.
int
mobj_reclaim(uint n)
{
  struct page *pg, *next;
  uint ino, pgno;
  int freed = 0;
  void *kva;

  while((uint)freed < n){
    kva = 0;
    acquire(&mc.lock);
    for(pg = mc.lru.next; pg != &mc.lru; pg = next){
      next = pg->next;
      if(page_ref_count(page_kva(pg)) == 1 && (pg->pflags & PG_DIRTY) == 0){
        ino = pg->obj->inum;
        pgno = pg->pgno;
        kva = index_remove(pg);
        break;
      }
    }
    release(&mc.lock);
    if(kva == 0)
      break;
    trace_pcache(TEV_PCACHE_FREE, ino, pgno);
    vm_user_page_put(kva);
    freed++;
  }
  return freed;
}

// Reclaim (reclaim_file.c): up to n file pages from the front of the LRU
// list, least recently used first, each moved to the back (so one pass
// never meets a page twice) with a reference taken to the page and to its
// object for the caller. Returns how many; adds them to *scanned.
int
mobj_file_pick(struct mobj_victim *out, int n, uint *scanned)
{
  struct page *pg;
  int k = 0;

  acquire(&mc.lock);
  while(k < n && (uint)k < mc.nfile && (pg = mc.lru.next) != &mc.lru){
    lru_unlink(pg);
    lru_append(pg);
    out[k].kva = page_kva(pg);
    out[k].obj = pg->obj;
    out[k].pgno = pg->pgno;
    page_ref_inc(out[k].kva);
    pg->obj->ref++;
    k++;
  }
  release(&mc.lock);
  *scanned += k;
  return k;
}

// Reclaim: drop file page kva from o (at pgno) if it is still there, only
// the index and the caller use it (no PTE maps it, nobody is reading it)
// and it holds no unwritten store. Returns 1 if it did (the index's
// reference is dropped; the caller still holds its own).
int
mobj_file_evict(struct mobj *o, uint pgno, void *kva)
{
  struct page *pg = page_of(kva);
  int done = 0;

  acquire(&mc.lock);
  if(pg->obj == o && pg->pgno == pgno && page_ref_count(kva) == 2 &&
     (pg->pflags & PG_DIRTY) == 0){
    index_remove(pg);
    done = 1;
  }
  release(&mc.lock);
  if(done){
    trace_pcache(TEV_PCACHE_FREE, o->inum, pgno);
    vm_user_page_put(kva);
  }
  return done;
}

static int
mobj_reclaim_hook(uint n)
{
  return mobj_reclaim(n);
}

// sysctl vm.drop_caches=1: free every clean file page nobody uses, and
// the file objects left with no pages and no users.
void
mobj_drop_caches(void)
{
  struct mobj *o, *dead;
  uint i;

  mobj_reclaim(~0u);
  for(;;){
    dead = 0;
    acquire(&mc.lock);
    for(i = 0; i < OHASH && dead == 0; i++)
      for(o = mc.files[i]; o && dead == 0; o = o->hnext)
        if(file_unhash_if_idle(o))
          dead = o;
    release(&mc.lock);
    if(dead == 0)
      break;
    kfree(dead);
  }
}

void
mobj_set_dirty(void *kva)
{
  __sync_fetch_and_or(&page_of(kva)->pflags, PG_DIRTY);
}

int
mobj_test_clear_dirty(void *kva)
{
  return (__sync_fetch_and_and(&page_of(kva)->pflags, ~PG_DIRTY) & PG_DIRTY) != 0;
}

uint
mobj_cached_pages(void)
{
  return mc.nfile;
}

// The shared anonymous object owning page kva, with a reference taken, or
// 0 (a file page, a private page, or an object on its way out). Reclaim
// holds an object this way while it takes one of its pages to swap.
struct mobj *
mobj_hold_anon_owner(void *kva)
{
  struct page *pg = page_of(kva);
  struct mobj *o;

  acquire(&mc.lock);
  o = pg ? pg->obj : 0;
  if(o && (o->kind != MOBJ_ANON || o->ref < 1))
    o = 0;
  if(o)
    o->ref++;
  release(&mc.lock);
  return o;
}

// Take page kva out of o's index at pgno if it is still there and only
// refs references remain (the index's and the caller's: nobody maps it).
// Returns 1 if it did (the index's reference is dropped), else 0.
int
mobj_evict(struct mobj *o, uint pgno, void *kva, int refs)
{
  struct page *pg = page_of(kva);
  int done = 0;

  acquire(&mc.lock);
  if(pg->obj == o && pg->pgno == pgno && page_ref_count(kva) == refs){
    index_remove(pg);
    done = 1;
  }
  release(&mc.lock);
  if(done)
    vm_user_page_put(kva);
  return done;
}
