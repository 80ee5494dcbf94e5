// Host unit test for the mapping list (kernel/mm/vma.c): insert, split, unmap
// (trim, punch, remove), merge, gap search and sbrk. Page-table work is
// stubbed: vm_unmap_range records the ranges it is asked to drop.
// Prints "PASS host.vma.NAME" / "FAIL host.vma.NAME"; exits 1 on failure.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernel/types.h"
#include "kernel/mman.h"
#include "kernel/errno.h"
#include "kernel/proc/proc.h"
#include "kernel/mm/vma.h"

void buddy_init(uint pa_start, uint pa_end);
int  host_arena(unsigned lo, unsigned hi);

static uint dropped;            // bytes vm_unmap_range was asked to drop
static int failures;

void vm_unmap_range(pde_t *pgdir, uint start, uint end) { (void)pgdir; dropped += end - start; }
int  vm_copy_range(pde_t *d, pde_t *s, uint a, uint b, int how) { (void)d; (void)s; (void)a; (void)b; (void)how; return 0; }
int  vm_lazy = 1;
int  vm_cow = 1;
int  vma_file_check(struct file *f, int prot, int flags) { (void)f; (void)prot; (void)flags; return 0; }
int  vma_file_attach(struct vma *v, struct file *f, uint off) { (void)v; (void)f; (void)off; return 0; }
int  vma_shared_attach(struct vma *v) { (void)v; return 0; }
static uint populated, protected;   // bytes vm_populate / vm_protect_range were asked for
int  vm_populate(pde_t *pg, struct vma *v, uint a, uint b) { (void)pg; (void)v; populated += b - a; return 0; }
void vm_protect_range(pde_t *pg, uint a, uint b, int prot) { (void)pg; (void)prot; protected += b - a; }
int  vm_unshare_range(pde_t *pg, uint a, uint b, int partial) { (void)pg; (void)a; (void)b; (void)partial; return 0; }
void vm_share_tables(pde_t *d, pde_t *s, struct vma *v) { (void)d; (void)s; (void)v; }
void vm_drop_shared(pde_t *pg, uint a, uint b) { (void)pg; (void)a; (void)b; }
// Waiting for reclaim and VM critical sections do not exist here.
void *kmalloc(uint size);
void *kzalloc(uint size);
void *kmalloc_wait(uint size) { return kmalloc(size); }
void *kzalloc_wait(uint size) { return kzalloc(size); }
void proc_vm_enter(struct proc *p) { (void)p; }
void proc_vm_leave(struct proc *p) { (void)p; }
int  vm_populate_proc(struct proc *p, uint a, uint b) { populated += b - a; (void)p; return 0; }

static void
check(const char *name, int ok)
{
  printf("%s host.vma.%s\n", ok ? "PASS" : "FAIL", name);
  if(!ok)
    failures++;
}

// The list as "start-end,start-end,..." (hex, page numbers).
static char *
show(struct vma *v)
{
  static char buf[512];
  char *s = buf;

  buf[0] = 0;
  for(; v; v = v->next)
    s += sprintf(s, "%s%x-%x", s == buf ? "" : ",", v->start >> 12, v->end >> 12);
  return buf;
}

static struct vma *
mk(struct vma **list, uint s, uint e, int kind)
{
  struct vma *v = vma_new(s << 12, e << 12, PROT_READ | PROT_WRITE, MAP_PRIVATE, kind);
  if(vma_insert(list, v) < 0){
    printf("insert failed\n");
    exit(1);
  }
  return v;
}

int
main(void)
{
  unsigned lo = 0x100000, hi = 0x900000;
  struct vma *list = 0, *v;
  struct proc p;
  int r;

  if(host_arena(lo, hi) < 0){
    printf("FAIL host.vma.setup\n");
    return 1;
  }
  buddy_init(lo, hi);

  mk(&list, 0x10, 0x20, VMA_ANON);
  mk(&list, 0x1, 0x5, VMA_ANON);
  mk(&list, 0x30, 0x40, VMA_ANON);
  check("insert_sorted", strcmp(show(list), "1-5,10-20,30-40") == 0);
  check("insert_overlap", vma_insert(&list, vma_new(0x4000, 0x11000, 1, 0, 0)) == -EINVAL);
  check("find", vma_find(list, 0x10000) && vma_find(list, 0x1ffff) && !vma_find(list, 0x20000) && !vma_find(list, 0));

  dropped = 0;
  r = vma_unmap(0, &list, 0x14000, 0x18000);          // punch a hole
  check("unmap_punch", r == 0 && strcmp(show(list), "1-5,10-14,18-20,30-40") == 0 && dropped == 0x4000);
  r = vma_unmap(0, &list, 0x3000, 0x12000);           // trim tail of one, head of next
  check("unmap_trim", r == 0 && strcmp(show(list), "1-3,12-14,18-20,30-40") == 0);
  r = vma_unmap(0, &list, 0x0, 0x35000);              // remove several, trim last
  check("unmap_many", r == 0 && strcmp(show(list), "35-40") == 0);
  r = vma_unmap(0, &list, 0x35000, 0x40000);
  check("unmap_all", r == 0 && list == 0);

  // File offsets follow the pages: trimming the head advances the offset,
  // a punched hole gives the tail its own, trimming the tail keeps it.
  v = mk(&list, 0x10, 0x20, VMA_ANON);
  v->offset = 0x40000;
  r = vma_unmap(0, &list, 0x10000, 0x12000);
  check("unmap_head_offset", r == 0 && list == v && v->start == 0x12000 && v->offset == 0x42000);
  r = vma_unmap(0, &list, 0x14000, 0x15000);
  check("unmap_punch_offset", r == 0 && strcmp(show(list), "12-14,15-20") == 0
        && v->offset == 0x42000 && v->next->offset == 0x45000);
  r = vma_unmap(0, &list, 0x1e000, 0x20000);
  check("unmap_tail_offset", r == 0 && strcmp(show(list), "12-14,15-1e") == 0 && v->next->offset == 0x45000);
  r = vma_unmap(0, &list, 0x11000, 0x16000);          // all of one, head of the next
  check("unmap_many_offset", r == 0 && strcmp(show(list), "16-1e") == 0 && list->offset == 0x46000);
  vma_unmap(0, &list, 0, USERTOP);

  mk(&list, 0x10, 0x20, VMA_ANON);
  mk(&list, 0x20, 0x28, VMA_ANON);
  mk(&list, 0x28, 0x30, VMA_HEAP);
  vma_merge(&list);
  check("merge", strcmp(show(list), "10-28,28-30") == 0);
  check("split", vma_split(list, 0x18000) && strcmp(show(list), "10-18,18-28,28-30") == 0);

  check("gap_top", vma_find_gap(list, 0x2000) == UMMAP_TOP - 0x2000);
  mk(&list, (UMMAP_TOP >> 12) - 4, UMMAP_TOP >> 12, VMA_ANON);
  mk(&list, USTACK_BOTTOM >> 12, USTACK_TOP >> 12, VMA_STACK);
  check("gap_below", vma_find_gap(list, 0x2000) == UMMAP_TOP - 0x6000);
  check("gap_none", vma_find_gap(list, 0x80000000u) == 0);
  vma_unmap(0, &list, 0, USERTOP);
  check("empty", list == 0);

  // sbrk on a process with data at [0x1000,0x3000), heap from 0x3000.
  memset(&p, 0, sizeof(p));
  mk(&p.vmas, 1, 3, VMA_ANON);
  mk(&p.vmas, USTACK_BOTTOM >> 12, USTACK_TOP >> 12, VMA_STACK);
  p.heapbase = p.sz = 0x3000;
  check("brk_grow", vma_brk(&p, 100) == 0x3000 && p.sz == 0x3064 && strcmp(show(p.vmas), "1-3,3-4,7ffc0-80000") == 0);
  check("brk_grow2", vma_brk(&p, 0x40000000) == 0x3064 && vma_find(p.vmas, 0x40003000));
  dropped = 0;
  check("brk_shrink", vma_brk(&p, -0x40000000) == 0x40003064 && p.sz == 0x3064 && dropped == 0x40000000
        && strcmp(show(p.vmas), "1-3,3-4,7ffc0-80000") == 0);
  check("brk_below", vma_brk(&p, -0x100) == -ENOMEM && p.sz == 0x3064);
  check("brk_to_base", vma_brk(&p, -0x64) == 0x3064 && strcmp(show(p.vmas), "1-3,7ffc0-80000") == 0);
  check("brk_collide", vma_brk(&p, UMMAP_TOP) == -ENOMEM && vma_brk(&p, UMMAP_TOP - 0x3000 + 1) == -ENOMEM);
  check("brk_max", vma_brk(&p, UMMAP_TOP - 0x3000) == 0x3000 && p.sz == UMMAP_TOP);
  check("brk_overflow", vma_brk(&p, 0x7fffffff) == -ENOMEM);

  // mmap placement, MAP_FIXED replacement, mprotect split/merge, covered.
  vma_unmap(0, &p.vmas, 0x3000, UMMAP_TOP);
  p.sz = 0x3000;
  check("mmap_top", vma_mmap(&p, 0, 0x2000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0) == (int)(UMMAP_TOP - 0x2000));
  check("mmap_hint", vma_mmap(&p, 0x10000, 0x4000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0) == 0x10000);
  check("mmap_hint_taken", vma_mmap(&p, 0x11000, 0x1000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0) == (int)(UMMAP_TOP - 0x3000));
  dropped = 0;
  check("mmap_fixed", vma_mmap(&p, 0x11000, 0x1000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0, 0) == 0x11000
        && dropped == 0x1000 && strncmp(show(p.vmas), "1-3,10-11,11-12,12-14,", 22) == 0);
  protected = 0;
  check("mprotect_merge", vma_protect(&p, 0x11000, 0x12000, PROT_READ | PROT_WRITE) == 0 && protected == 0x1000
        && strncmp(show(p.vmas), "1-3,10-14,", 10) == 0);
  check("mprotect_split", vma_protect(&p, 0x12000, 0x13000, PROT_NONE) == 0
        && strncmp(show(p.vmas), "1-3,10-12,12-13,13-14,", 22) == 0 && vma_find(p.vmas, 0x12000)->prot == PROT_NONE);
  check("covered", vma_covered(p.vmas, 0x10000, 0x14000) && !vma_covered(p.vmas, 0x10000, 0x15000)
        && !vma_covered(p.vmas, 0x3000, 0x4000) && vma_covered(p.vmas, 0x1000, 0x3000));
  populated = 0;
  check("mmap_populate", vma_mmap(&p, 0x20000, 0x3000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, 0, 0) == 0x20000
        && populated == 0x3000);
  vm_lazy = 0;
  populated = 0;
  check("brk_eager", vma_brk(&p, 0x2000) == 0x3000 && populated == 0x2000);
  vm_lazy = 1;
  check("mmap_nospace", vma_mmap(&p, 0, 0x7ffa0000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0) == -ENOMEM);
  // A hint whose first page is free but whose range meets a mapping goes elsewhere.
  r = vma_mmap(&p, 0x40000, 0x3000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0);
  vma_unmap(0, &p.vmas, 0x40000, 0x42000);
  r = r == 0x40000 ? vma_mmap(&p, 0x41000, 0x2000, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0) : -1;
  check("mmap_hint_overlap", r > 0 && r != 0x41000 && (r >= 0x43000 || r + 0x2000 <= 0x42000)
        && vma_find(p.vmas, 0x42000) && vma_find(p.vmas, 0x42000)->start == 0x42000);
  return failures ? 1 : 0;
}
