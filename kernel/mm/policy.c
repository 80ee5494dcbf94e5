// Replacement policies (sysctl vm.policy): which anonymous pages reclaim
// takes next. The reclaim list (reclaim.c) holds every anonymous user page
// in the order it was mapped, oldest first; a policy walks it and picks.
//
//   fifo    the oldest pages, whatever their use
//   clock   second chance: an oldest page whose accessed bit was set since
//           the hand last passed loses the bit and goes to the back
//   random  pages at random places in the list
//   lru     aging: each page keeps an 8-bit history of accessed bits (one
//           shift per reclaim round); the pages with the lowest value go
//
// Accessed bits reach pages as PG_REFD (reclaim.c moves them out of the
// PTEs before a clock or lru pick). Everything here runs with the reclaim
// lock held.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "core/spinlock.h"
#include "core/defs.h"
#include "mm/buddy.h"
#include "mm/swap.h"

static uint seed = 2463534242u;

// xorshift32: a fixed seed, so the same run takes the same pages.
uint
policy_rand(void)
{
  seed ^= seed << 13;
  seed ^= seed >> 17;
  seed ^= seed << 5;
  return seed;
}

static void
list_unlink(struct page *pg)
{
  pg->prev->next = pg->next;
  pg->next->prev = pg->prev;
}

static void
list_append(struct page *head, struct page *pg)
{
  pg->prev = head->prev;
  pg->next = head;
  head->prev->next = pg;
  head->prev = pg;
}

// lru: one aging step for a page (accessed: its bit this round). The
// history lives in pgno, unused by anonymous pages.
void
policy_aging_tick(struct page *pg, int accessed)
{
  if(pg->obj)
    return;                     // a shared page's pgno is its place in the object
  pg->pgno = ((pg->pgno & 0xFF) >> 1) | (accessed ? 0x80 : 0);
}

static int only_with_slot;      // swap is full: only pages that have a copy

// Can pg be taken? It must not be on its way out already, must still have
// a user (a reference taken for the caller if so), and when swap is full
// must have its own swap copy (it then needs no new slot).
static int
take(struct page *pg)
{
  if(pg->pflags & PG_VICTIM)
    return 0;
  if(only_with_slot && pg->swap == 0)
    return 0;
  if(!page_ref_get_unless_zero(page_kva(pg)))
    return 0;
  pg->pflags |= PG_VICTIM;
  return 1;
}

static int
pick_fifo(struct page *head, struct page **out, int n, uint *scanned)
{
  struct page *pg;
  int k = 0;

  for(pg = head->next; pg != head && k < n; pg = pg->next){
    (*scanned)++;
    if(take(pg))
      out[k++] = pg;
  }
  return k;
}

// Second chance, with the list as the clock face and its head as the hand.
static int
pick_clock(struct page *head, struct page **out, int n, uint *scanned, uint len)
{
  struct page *pg, *next;
  uint steps = 0;
  int k = 0;

  for(pg = head->next; pg != head && k < n && steps < 2 * len + n; pg = next, steps++){
    next = pg->next;
    (*scanned)++;
    if(pg->pflags & PG_VICTIM)
      continue;
    if(pg->pflags & PG_REFD){
      pg->pflags &= ~PG_REFD;
      list_unlink(pg);
      list_append(head, pg);
      if(next == head)
        next = head->next;
      continue;
    }
    if(take(pg))
      out[k++] = pg;
  }
  return k;
}

static int
pick_random(struct page *head, struct page **out, int n, uint *scanned, uint len)
{
  struct page *pg;
  uint tries, i, at;
  int k = 0;

  for(tries = 0; tries < 4 * (uint)n && k < n && len > 0; tries++){
    at = policy_rand() % len;
    for(pg = head->next, i = 0; i < at && pg != head; i++)
      pg = pg->next;
    (*scanned)++;
    if(pg != head && take(pg))
      out[k++] = pg;
  }
  return k;
}

// The pages with the lowest history value, oldest first among equals.
static int
pick_lru(struct page *head, struct page **out, int n, uint *scanned)
{
  struct page *pg;
  uint lim;
  int k = 0;

  for(lim = 0; k < n; lim = lim * 2 + 1){
    for(pg = head->next; pg != head && k < n; pg = pg->next){
      (*scanned)++;
      if((pg->obj ? 0x80 : pg->pgno & 0xFF) <= lim && take(pg))
        out[k++] = pg;
    }
    if(lim >= 0xFF)
      break;
  }
  return k;
}

// Choose up to n victims under the current policy (only pages with a
// swap copy if swapfull); each comes marked PG_VICTIM with a reference
// taken for the caller. Adds the pages looked at to *scanned. Returns how
// many. Caller holds the reclaim lock.
int
policy_pick(struct page *head, struct page **out, int n, uint *scanned, int swapfull)
{
  struct page *pg;
  uint len = 0;

  only_with_slot = swapfull;
  for(pg = head->next; pg != head; pg = pg->next)
    len++;
  switch(reclaim_policy){
  case POLICY_CLOCK:  return pick_clock(head, out, n, scanned, len);
  case POLICY_RANDOM: return pick_random(head, out, n, scanned, len);
  case POLICY_LRU:    return pick_lru(head, out, n, scanned);
  default:            return pick_fifo(head, out, n, scanned);
  }
}
