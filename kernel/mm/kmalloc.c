// Kernel object allocator: kmalloc(size) / kzalloc(size) / kfree(ptr).
//
// Design:
//  - Small requests (<= KM_MAXSMALL bytes) are rounded up to a power-of-two
//    size class (16, 32, ..., 2048 bytes). Each class carves objects out of
//    "slabs": single buddy pages cut into equal slots. A slab's bookkeeping
//    (class, free-object list, counts) lives in its struct page (buddy.h),
//    so objects carry no header. Free objects are chained through their
//    first word. Slabs that have a free slot are on their class's partial
//    list; full slabs are on no list; a slab whose last object is freed goes
//    straight back to the buddy allocator, so memory returns exactly to its
//    previous level when the objects are gone.
//  - Larger requests take a whole buddy block of the smallest sufficient
//    order (up to 4 MiB), marked PUSE_BIG in its head page.
//  - kfree() finds everything it needs from the page metadata: no size
//    argument. Freeing a pointer kmalloc did not return panics when detected.
// One spinlock covers the class lists and the counters; it is taken before
// the buddy lock when a slab is created or released.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "core/spinlock.h"
#include "core/defs.h"
#include "errno.h"
#include "memstat.h"
#include "mm/buddy.h"

#define KM_MINSHIFT  4                       // smallest class: 16 bytes
#define KM_MAXSHIFT  11                      // largest class: 2048 bytes
#define KM_NCLASS    (KM_MAXSHIFT - KM_MINSHIFT + 1)
#define KM_MAXSMALL  (1u << KM_MAXSHIFT)

static struct {
  struct spinlock lock;
  struct page partial[KM_NCLASS];   // sentinels of the partial-slab lists
  uint bytes;                       // bytes handed out (rounded sizes)
  uint pages;                       // pages held in slabs and big objects
  int ready;
} km;

static void
km_init(void)
{
  int c;

  initlock(&km.lock, "kmalloc");
  for(c = 0; c < KM_NCLASS; c++)
    km.partial[c].next = km.partial[c].prev = &km.partial[c];
  km.ready = 1;
}

static void
partial_add(int c, struct page *pg)
{
  struct page *head = &km.partial[c];

  pg->next = head->next;
  pg->prev = head;
  head->next->prev = pg;
  head->next = pg;
}

static void
partial_remove(struct page *pg)
{
  pg->prev->next = pg->next;
  pg->next->prev = pg->prev;
  pg->next = pg->prev = 0;
}

// Size class index for a small request.
static int
size_class(uint size)
{
  int c = 0;

  while((1u << (c + KM_MINSHIFT)) < size)
    c++;
  return c;
}

// Get a fresh page and cut it into objects of class c; 0 if out of memory.
// Caller holds km.lock.
static struct page *
slab_create(int c)
{
  uint objsize = 1u << (c + KM_MINSHIFT);
  struct page *pg;
  char *mem;
  uint off;

  mem = page_alloc(0);
  if(mem == 0)
    return 0;
  pg = page_of(mem);
  pg->use = PUSE_SLAB;
  pg->sclass = c;
  pg->ninuse = 0;
  pg->nfree = 0;
  pg->objs = 0;
  for(off = PGSIZE; off >= objsize; off -= objsize){
    *(void **)(mem + off - objsize) = pg->objs;
    pg->objs = mem + off - objsize;
    pg->nfree++;
  }
  partial_add(c, pg);
  km.pages++;
  return pg;
}

static void *
small_alloc(uint size)
{
  int c = size_class(size);
  struct page *pg;
  void *obj;

  acquire(&km.lock);
  pg = km.partial[c].next;
  if(pg == &km.partial[c] && (pg = slab_create(c)) == 0){
    release(&km.lock);
    return 0;
  }
  obj = pg->objs;
  pg->objs = *(void **)obj;
  pg->nfree--;
  pg->ninuse++;
  if(pg->nfree == 0)
    partial_remove(pg);
  km.bytes += 1u << (c + KM_MINSHIFT);
  release(&km.lock);
  return obj;
}

static void *
big_alloc(uint size)
{
  int order = 0;
  void *mem;

  while((PGSIZE << order) < size)
    if(++order > BUDDY_MAXORDER)
      return 0;
  mem = page_alloc(order);
  if(mem == 0)
    return 0;
  page_of(mem)->use = PUSE_BIG;
  acquire(&km.lock);
  km.bytes += PGSIZE << order;
  km.pages += 1u << order;
  release(&km.lock);
  return mem;
}

// Allocate size bytes (any size up to 4 MiB). Returns 0 when out of memory.
// Small objects are aligned to their class size, big ones to a page.
void *
kmalloc(uint size)
{
  if(!km.ready)
    km_init();
  if(fault_inject())
    return 0;
  if(size == 0)
    size = 1;
  if(size <= KM_MAXSMALL)
    return small_alloc(size);
  return big_alloc(size);
}

// kmalloc, then zero the object. 0 when out of memory.
void *
kzalloc(uint size)
{
  void *p = kmalloc(size);

  if(p)
    memset(p, 0, size);
  return p;
}

static void
small_free(struct page *pg, void *obj)
{
  uint objsize = 1u << (pg->sclass + KM_MINSHIFT);

  if(((uint)obj & (objsize - 1)) != 0)
    panic("kfree: pointer inside an object");
  acquire(&km.lock);
  if(pg->ninuse == 0)
    panic("kfree: slab has no objects in use");
  *(void **)obj = pg->objs;
  pg->objs = obj;
  if(pg->nfree++ == 0)
    partial_add(pg->sclass, pg);
  pg->ninuse--;
  km.bytes -= objsize;
  if(pg->ninuse == 0){
    partial_remove(pg);
    pg->use = PUSE_NONE;
    pg->objs = 0;
    km.pages--;
    page_free((void *)PGROUNDDOWN((uint)obj), 0);
  }
  release(&km.lock);
}

// Free an object returned by kmalloc/kzalloc. kfree(0) does nothing.
void
kfree(void *p)
{
  struct page *pg;
  int order;

  if(p == 0)
    return;
  pg = page_of(p);
  if(pg == 0)
    panic("kfree: not a kmalloc pointer");
  if(pg->use == PUSE_SLAB){
    small_free(pg, p);
    return;
  }
  if(pg->use != PUSE_BIG || ((uint)p & (PGSIZE - 1)) != 0 || pg->state != PAGE_INUSE)
    panic("kfree: not a kmalloc pointer");
  order = pg->order;
  pg->use = PUSE_NONE;
  acquire(&km.lock);
  km.bytes -= PGSIZE << order;
  km.pages -= 1u << order;
  release(&km.lock);
  page_free(p, order);
}

// Fill kmalloc's part of ms.
void
kmalloc_stat(struct memstat *ms)
{
  if(!km.ready)
    km_init();
  acquire(&km.lock);
  ms->kmalloc_bytes = km.bytes;
  ms->kmalloc_pages = km.pages;
  release(&km.lock);
}

// ---- self-test ------------------------------------------------------------

#define KT_SLOTS   256        // objects live at once, at most
#define KT_ROUNDS  6000       // random steps

struct kt_slot {
  uchar *obj;                 // 0: empty slot
  uint size;
  uchar fill;                 // every byte of the object holds this
};

static uint kt_seed = 987654321;

static uint
kt_rand(void)
{
  kt_seed = kt_seed * 1103515245 + 12345;
  return (kt_seed >> 16) & 0x7fff;
}

// Mostly small sizes of every class (and just past the largest), some
// objects of several pages.
static uint
kt_size(void)
{
  if(kt_rand() % 16 == 0)
    return 1 + kt_rand() * 2;           // up to 64 KiB
  return 1 + kt_rand() % (KM_MAXSMALL + 64);
}

// The alignment kmalloc promises for an object of size bytes.
static uint
kt_align(uint size)
{
  uint a = 1u << KM_MINSHIFT;

  if(size > KM_MAXSMALL)
    return PGSIZE;
  while(a < size)
    a <<= 1;
  return a;
}

// Verify that every byte of a slot's object still holds its fill; 0 or -1.
static int
kt_intact(struct kt_slot *s)
{
  uint i;

  for(i = 0; i < s->size; i++)
    if(s->obj[i] != s->fill)
      return -1;
  return 0;
}

// Self-test: random kmalloc/kfree steps over KT_SLOTS slots with random
// sizes; each object is filled with its own byte and verified entirely
// before it is freed (so overlapping objects are caught) and its alignment
// checked. Afterwards the byte and page counters must be back where they
// were. Assumes nobody else uses kmalloc meanwhile. 0, -ENOMEM if it
// cannot start, or -EIO (the reason is printed).
int
kmalloc_selftest(void)
{
  struct kt_slot *slot;
  struct memstat before, after;
  const char *bad = 0;
  int r, i;

  if((slot = page_alloc(0)) == 0)
    return -ENOMEM;
  memset(slot, 0, KT_SLOTS * sizeof(*slot));
  kmalloc_stat(&before);
  for(r = 0; r < KT_ROUNDS && !bad; r++){
    i = kt_rand() % KT_SLOTS;
    if(slot[i].obj){
      if(kt_intact(&slot[i]) < 0)
        bad = "object overwritten";
      kfree(slot[i].obj);
      slot[i].obj = 0;
      continue;
    }
    slot[i].size = kt_size();
    slot[i].fill = r;
    if((slot[i].obj = kmalloc(slot[i].size)) == 0)
      continue;                         // out of memory is allowed
    if((uint)slot[i].obj % kt_align(slot[i].size) != 0)
      bad = "misaligned object";
    memset(slot[i].obj, slot[i].fill, slot[i].size);
  }
  for(i = 0; i < KT_SLOTS; i++){
    if(slot[i].obj == 0)
      continue;
    if(!bad && kt_intact(&slot[i]) < 0)
      bad = "object overwritten";
    kfree(slot[i].obj);
  }
  kmalloc_stat(&after);
  if(!bad && (after.kmalloc_bytes != before.kmalloc_bytes || after.kmalloc_pages != before.kmalloc_pages))
    bad = "byte or page counters not restored";
  page_free(slot, 0);
  if(bad){
    printf("kmalloc_selftest: %s\n", bad);
    return -EIO;
  }
  return 0;
}
