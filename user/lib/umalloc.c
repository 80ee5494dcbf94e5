// malloc/free for user programs: a first-fit free list kept in address
// order, grown with sbrk in chunks of at least 16 KiB, coalescing on free.
#include "kernel/types.h"
#include "user/user.h"

struct chunk {
  struct chunk *next;   // next free chunk (free list only)
  uint units;           // size of this chunk in units of sizeof(struct chunk)
};

static struct chunk *freelist;   // sorted by address

// Put c on the free list, merging it with its neighbours when adjacent.
void
free(void *ptr)
{
  if (ptr == 0)
    return;
  struct chunk *c = (struct chunk *)ptr - 1;
  struct chunk **pp = &freelist;
  while (*pp && *pp < c)
    pp = &(*pp)->next;
  struct chunk *after = *pp;
  c->next = after;
  *pp = c;
  if (after && c + c->units == after) {
    c->units += after->units;
    c->next = after->next;
  }
  // merge with the chunk before, if any
  if (pp != &freelist) {
    struct chunk *before = (struct chunk *)((char *)pp - __builtin_offsetof(struct chunk, next));
    if (before + before->units == c) {
      before->units += c->units;
      before->next = c->next;
    }
  }
}

static int
grow(uint units)
{
  if (units < 2048)
    units = 2048;
  char *p = sbrk(units * sizeof(struct chunk));
  if (p == (char *)-1)
    return -1;
  struct chunk *c = (struct chunk *)p;
  c->units = units;
  free(c + 1);
  return 0;
}

// Allocate n bytes; returns 0 (errno ENOMEM) when the heap cannot grow.
void *
malloc(uint n)
{
  uint units = (n + sizeof(struct chunk) - 1) / sizeof(struct chunk) + 1;
  for (;;) {
    for (struct chunk **pp = &freelist; *pp; pp = &(*pp)->next) {
      struct chunk *c = *pp;
      if (c->units < units)
        continue;
      if (c->units == units) {
        *pp = c->next;
      } else {
        c->units -= units;
        c += c->units;
        c->units = units;
      }
      return c + 1;
    }
    if (grow(units) < 0)
      return 0;
  }
}
