// Page tables and user-memory access.
//
// The kernel page directory maps all physical memory at KERNBASE and the
// device region at DEVSPACE with 4 MiB pages; every user page directory
// starts as a copy of its kernel half. User pages are 4 KiB, in page tables
// allocated on demand, and every user page present in a page table is
// covered by a mapping (struct vma). Pages of a mapping appear lazily:
// vm_fault() resolves not-present and copy-on-write faults, and the
// copyin/copyout family walks page tables in software and calls the same
// resolver, so the kernel never touches a user address directly.
//
// TLB: a PTE changed here belongs to the running process (single-threaded:
// no other CPU uses its tables; a switch reloads CR3) or to one not loaded
// anywhere (exec's new image, fork's child). So each change is invalidated
// on this CPU only, one page at a time (tlb.c), and because the kernel
// never reads user memory through user addresses, a stale entry here
// cannot be used before that invalidation, even if its frame is freed
// first. Edits of other processes' tables go through rmap.c's shootdowns.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "errno.h"
#include "mman.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "mm/buddy.h"
#include "mm/vm.h"
#include "mm/vma.h"
#include "mm/mobj.h"
#include "mm/tlb.h"
#include "mm/swap.h"
#include "trace/trace.h"

#define BIGPAGE BIGPGSIZE             // bytes mapped by one PDE (4 MiB)
#define PGROUNDUP_BIG(a) (((a) + BIGPAGE - 1) & ~(BIGPAGE - 1))

static pde_t kpgdir[NPDENTRIES] __attribute__((aligned(PGSIZE)));

struct vmcounters vmcnt;
int vm_lazy = 1;
int vm_cow = 1;

#define COUNT(field) __sync_fetch_and_add(&vmcnt.field, 1)

// ---- kernel page directory --------------------------------------------------

// Build the kernel page directory: [KERNBASE, KERNBASE + phys_top) -> [0,
// phys_top) and [DEVSPACE, 4 GiB) identity-mapped uncached, all with 4 MiB
// pages, then load it on this CPU. Needs no allocation.
void
kvm_init(uint phys_top)
{
  uint pa, va;

  if(phys_top > PHYSMAX)
    phys_top = PHYSMAX;
  for(pa = 0; pa < phys_top; pa += BIGPAGE)
    kpgdir[PDX(KERNBASE + pa)] = pa | PTE_P | PTE_W | PTE_PS;
  for(va = DEVSPACE; va != 0; va += BIGPAGE)
    kpgdir[PDX(va)] = va | PTE_P | PTE_W | PTE_PS | PTE_PCD | PTE_PWT;
  kvm_switch();
}

// Load the kernel page directory on this CPU.
void
kvm_switch(void)
{
  lcr3(V2P(kpgdir));
}

void
switchkvm(void)
{
  kvm_switch();
}

// Make p's address space current on this CPU and point the TSS at p's
// kernel stack. A process whose address space is already gone (exiting)
// runs on the kernel page directory.
void
switchuvm(struct proc *p)
{
  if(p == 0 || p->kstack == 0)
    panic("switchuvm: no process or kernel stack");
  pushcli();
  tss_set_kstack((uint)p->kstack + KSTACKSIZE);
  lcr3(V2P(p->pgdir ? p->pgdir : kpgdir));
  popcli();
}

// ---- user page tables ---------------------------------------------------------

// A new page directory holding only the kernel mappings; 0 on ENOMEM.
// Page tables, like the directory, are kernel memory: they wait for
// reclaim (page_alloc_wait, in process context) but are never swapped.
pde_t *
uvm_create(void)
{
  pde_t *pgdir = page_alloc_wait(0);
  uint i;

  if(pgdir == 0)
    return 0;
  for(i = 0; i < NPDENTRIES; i++)
    pgdir[i] = i >= PDX(KERNBASE) ? kpgdir[i] : 0;
  return pgdir;
}

// Address of the PTE for user address va. With alloc, a missing page table
// is allocated (zeroed); returns 0 if the table is absent (or, with alloc,
// if there is no memory for it).
pte_t *
vm_walk(pde_t *pgdir, uint va, int alloc)
{
  pde_t *pde = &pgdir[PDX(va)];
  pte_t *table;

  if(va >= USERTOP)
    return 0;
  if(*pde & PTE_P){
    table = (pte_t *)P2V(PTE_ADDR(*pde));
  } else {
    if(!alloc || (table = page_alloc_wait(0)) == 0)
      return 0;
    memset(table, 0, PGSIZE);
    *pde = V2P(table) | PTE_P | PTE_W | PTE_U;
  }
  return &table[PTX(va)];
}

// PTE bits for a present page of a mapping with protection prot. x86
// cannot deny reads of a present user page, so PROT_READ and PROT_EXEC
// both mean "user-accessible"; a PROT_NONE page stays present for the
// kernel only (PTE_U clear), keeping its contents for a later mprotect.
int
vm_pte_bits(int prot)
{
  if((prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) == 0)
    return PTE_P;
  return PTE_P | PTE_U | ((prot & PROT_WRITE) ? PTE_W : 0);
}

// Map the page at kernel address kva at user address va with perm.
// 0, or -ENOMEM if a page table cannot be allocated. va must be unmapped.
int
vm_map_page(pde_t *pgdir, uint va, void *kva, int perm)
{
  pte_t *pte = vm_walk(pgdir, va, 1);

  if(pte == 0)
    return -ENOMEM;
  if(*pte & PTE_P)
    panic("vm_map_page: already mapped");
  *pte = V2P(kva) | perm | PTE_P;
  reclaim_track(kva);
  return 0;
}

// A zeroed page for user memory (reference count 1); 0 when out of memory
// (after waiting for reclaim where allowed: mm/allocwait.c).
void *
vm_user_page(void)
{
  void *kva = page_alloc_wait(0);

  if(kva == 0)
    return 0;
  memset(kva, 0, PGSIZE);
  COUNT(pages_alloc);
  return kva;
}

// Copy a whole page (fork's eager copy, a copy-on-write fault) with one
// string instruction: the byte loop of memmove costs several times more.
static void
copy_page(void *dst, const void *src)
{
  movsl(dst, src, PGSIZE / 4);
}

// Drop one reference to the user page at physical address pa; the last
// one frees it. Inlined into the page-table walks of fork and exit.
static inline void
put_frame(uint pa)
{
  int n;

  if((n = page_ref_add(page_of_frame(pa), -1)) < 0)
    panic("put_frame: count below zero");
  if(n == 0){
    reclaim_forget(P2V(pa));
    page_free(P2V(pa), 0);
    COUNT(pages_freed);
  }
}

// Drop one reference to a user page; the last one frees it.
void
vm_user_page_put(void *kva)
{
  put_frame(V2P(kva));
}

// True if every entry of a page table is empty.
static int
table_empty(pte_t *table)
{
  int i;

  for(i = 0; i < NPTENTRIES; i++)
    if(table[i])
      return 0;
  return 1;
}

// exit's and munmap's step for one non-empty entry being removed: drop
// what it held (a reference to its page, or to its swap slot).
static inline void
free_pte(pte_t old)
{
  if(old & PTE_P)
    put_frame(PTE_ADDR(old));
  else if(SWP_IS_ENTRY(old))
    swap_pte_free(old);
}

// ---- on-demand fork: page tables shared copy-on-write (vm.cow=2) ----------
//
// fork may give the child the parent's page table itself instead of a copy
// of its entries: both directories point at the table with the write bit
// clear in their PDEs, so no user store goes through it, and the table
// page's reference count says how many directories use it. The pages in a
// shared table hold one reference for the table, whatever the number of
// spaces using it. Before a space changes anything in such a table (a
// fault, populate, mprotect, munmap of part of it) it unshares it
// (table_unshare): takes it back if it is the last user, else copies it,
// the pages now shared copy-on-write between the two tables. Only tables
// whose every mapping is private anonymous memory are shared
// (table_shareable), so no reverse-map walker ever meets one with pages.

// Is the table at PDE value e shared on-demand (present, not writable)?
static inline int dup_pte(pte_t *spte, pte_t *dpte, int how);

static int
table_is_shared(pde_t e)
{
  return (e & (PTE_P | PTE_W)) == PTE_P;
}

// The same for reclaim (reclaim.c leaves shared tables alone: another
// space may cache their entries).
int
vm_table_shared(pde_t e)
{
  return table_is_shared(e);
}

// Drop one directory's use of a shared table; the last user frees its
// entries and the table. Caller holds the rmap lock (rmap.c: a walker of
// some mapping's tables must not see the table freed) and has already
// taken the table out of its directory.
static void
table_put(pte_t *table)
{
  int i;

  if(page_ref_dec(table) > 0)
    return;
  for(i = 0; i < NPTENTRIES; i++)
    if(table[i])
      free_pte(table[i]);
  page_free(table, 0);
}

// Make the shared table at *pde this directory's own: the last user takes
// it back (PDE writable again); otherwise its entries are copied to a new
// table, each present page one reference more and read-only in both
// tables (copy-on-write), and the old table loses a user. Permissions only
// grow for this space, so no TLB entry needs dropping; the caller
// invalidates the faulting page (which also drops cached PDEs). 0 or -ENOMEM.
static int
table_unshare(pde_t *pde)
{
  pte_t *old = (pte_t *)P2V(PTE_ADDR(*pde)), *copy;
  int i;

  if(page_ref_count(old) == 1){      // only this space: nobody can add a user now
    *pde |= PTE_W;
    COUNT(tables_reused);
    return 0;
  }
  if((copy = page_alloc_wait(0)) == 0)
    return -ENOMEM;
  memset(copy, 0, PGSIZE);
  for(i = 0; i < NPTENTRIES; i++)
    if(old[i])
      dup_pte(&old[i], &copy[i], VM_DUP_COW);
  rmap_lock_tables();
  *pde = V2P(copy) | PTE_P | PTE_W | PTE_U;
  table_put(old);
  rmap_unlock_tables();
  COUNT(tables_copied);
  return 0;
}

// Unshare every shared table that [start, end) (page-aligned) meets;
// with partial, only those it covers in part (munmap drops whole ones).
// 0 or -ENOMEM (tables done so far stay unshared: nobody can tell).
int
vm_unshare_range(pde_t *pgdir, uint start, uint end, int partial)
{
  uint va, tva;
  int r = 0, n = 0;

  for(va = start; va < end && va < USERTOP && r == 0; va = tva + BIGPAGE){
    tva = va & ~(BIGPAGE - 1);
    if(!table_is_shared(pgdir[PDX(va)]))
      continue;
    if(partial && start <= tva && end - tva >= BIGPAGE)
      continue;
    if((r = table_unshare(&pgdir[PDX(va)])) == 0)
      n++;
  }
  if(n)
    tlb_local_all(pgdir);            // cached PDEs of the old tables
  return r;
}

// munmap: drop this directory's use of every shared table that [start,
// end) (page-aligned) covers whole: its pages go with the range.
void
vm_drop_shared(pde_t *pgdir, uint start, uint end)
{
  uint tva;
  int n = 0;
  pte_t *table;

  rmap_lock_tables();
  for(tva = PGROUNDUP_BIG(start); tva < end && tva < USERTOP && end - tva >= BIGPAGE;
      tva += BIGPAGE){
    if(table_is_shared(pgdir[PDX(tva)])){
      table = (pte_t *)P2V(PTE_ADDR(pgdir[PDX(tva)]));
      pgdir[PDX(tva)] = 0;
      table_put(table);
      n++;
    }
  }
  rmap_unlock_tables();
  if(n)
    tlb_local_all(pgdir);
}

// Can fork share the table mapping user addresses [tva, tva + 4 MiB)?
// Only if every mapping there is private anonymous memory.
static int
table_shareable(struct vma *vmas, uint tva)
{
  struct vma *v;

  for(v = vma_overlap(vmas, tva, tva + BIGPAGE); v && v->start < tva + BIGPAGE; v = v->next)
    if((v->flags & MAP_SHARED) || v->ops || v->obj)
      return 0;
  return 1;
}

// On-demand fork: give dst every table of src that may be shared, the
// same table read-only in both directories (see above). Tables left for
// vm_copy_range are those with some other kind of mapping. Never fails.
void
vm_share_tables(pde_t *dst, pde_t *src, struct vma *vmas)
{
  struct tlb_local tlb;
  uint i;

  tlb_local_begin(&tlb, src);
  for(i = 0; i < PDX(USERTOP); i++){
    if((src[i] & PTE_P) == 0 || !table_shareable(vmas, i * BIGPAGE))
      continue;
    if(src[i] & PTE_W){
      src[i] &= ~PTE_W;
      tlb_local_all_later(&tlb);     // every page of 4 MiB lost write access
    }
    page_ref_inc(P2V(PTE_ADDR(src[i])));
    dst[i] = src[i];
    COUNT(tables_shared);
  }
  tlb_local_end(&tlb);
}

// Remove the pages in [start, end) (page-aligned) from pgdir, dropping a
// reference to each, and free page tables left empty. A page table at a
// time; absent tables are skipped whole. Holds the rmap lock meanwhile, so
// no other process walks a table being freed.
void
vm_unmap_range(pde_t *pgdir, uint start, uint end)
{
  uint va, tend, from;
  pte_t *table;
  pde_t *pde;
  struct tlb_local tlb;

  tlb_local_begin(&tlb, pgdir);
  rmap_lock_tables();        // others may be walking these tables (rmap.c)
  for(va = start; va < end && va < USERTOP; va = tend){
    tend = (va & ~(BIGPAGE - 1)) + BIGPAGE;
    pde = &pgdir[PDX(va)];
    if((*pde & PTE_P) == 0)
      continue;
    table = (pte_t *)P2V(PTE_ADDR(*pde));
    if(table_is_shared(*pde)){
      if(va != tend - BIGPAGE || end - va < BIGPAGE)
        panic("vm_unmap_range: part of a shared page table");   // callers unshare first
      *pde = 0;
      table_put(table);
      tlb_local_all_later(&tlb);
      continue;
    }
    from = va;
    for(; va < tend && va < end; va += PGSIZE){
      pte_t *pte = &table[PTX(va)];
      pte_t old = *pte;
      if(old == 0)
        continue;
      *pte = 0;
      if(old & PTE_P)
        tlb_local_page(&tlb, va);
      free_pte(old);
    }
    if((from == tend - BIGPAGE && va == tend) || table_empty(table)){
      *pde = 0;
      page_free(table, 0);
    }
  }
  rmap_unlock_tables();
  tlb_local_end(&tlb);
}

// fork's step for one entry: give the child's empty PTE *dpte what the
// parent's PTE *spte holds, as how says (vm_copy_range): a present page,
// or a swap entry (one more reference to its slot, whatever how says: the
// page is read back by each space on its next touch). Returns 1 if it
// took write access from the parent's PTE (the caller invalidates it), 0,
// or -ENOMEM (*dpte stays empty).
static inline int
dup_pte(pte_t *spte, pte_t *dpte, int how)
{
  pte_t s = *spte;
  void *copy;

  if((s & PTE_P) == 0){
    if(SWP_IS_ENTRY(s)){
      swap_slot_dup(SWP_SLOT(s));
      *dpte = s;
    }
    return 0;
  }
  if(how == VM_DUP_COPY){
    if((copy = page_alloc_wait(0)) == 0)
      return -ENOMEM;
    COUNT(pages_alloc);
    copy_page(copy, P2V(PTE_ADDR(s)));
    *dpte = V2P(copy) | (PTE_FLAGS(s) & ~(PTE_D | PTE_A));
    reclaim_track(copy);
    return 0;
  }
  page_ref_add(page_of_frame(PTE_ADDR(s)), 1);
  if(how == VM_DUP_COW && (s & PTE_W)){
    __sync_fetch_and_and(spte, ~PTE_W);   // atomic: rmap.c may clear PTE_D meanwhile
    *dpte = s & ~(PTE_W | PTE_D | PTE_A);
    return 1;
  }
  *dpte = s & ~(PTE_D | PTE_A);
  return 0;
}

// fork, one page table: entries [from, to) of the parent's table stab,
// which maps from user address tva, go to the same entries of the child's
// table in dst (allocated when the first entry needs it, found once).
// Empty entries are skipped. 0 or -ENOMEM. Inlined, so that the common
// copy-on-write case gets a loop of its own (vm_copy_range).
static inline __attribute__((always_inline)) int
dup_table(pde_t *dst, pte_t *stab, uint tva, uint from, uint to, int how,
          struct tlb_local *tlb)
{
  pte_t *dtab = 0;
  uint i;
  int r;

  for(i = from; i < to; i++){
    if(stab[i] == 0)
      continue;
    if(dtab == 0 && (dtab = vm_walk(dst, tva, 1)) == 0)
      return -ENOMEM;
    if((r = dup_pte(&stab[i], &dtab[i], how)) < 0)
      return r;
    if(r)
      tlb_local_page(tlb, tva + i * PGSIZE);
  }
  return 0;
}

// fork: give dst the present pages of [start, end) of src, as how says:
// VM_DUP_COPY copies each page now; VM_DUP_COW shares it read-only in both
// spaces (the first write copies it, fault_cow); VM_DUP_SHARE shares it as
// it is (MAP_SHARED). A page table at a time; absent tables are skipped
// whole. Pages never touched stay absent in dst; dst's PTEs start clean
// (no dirty bit). 0, or -ENOMEM (pages done so far stay mapped in dst for
// the caller to free).
int
vm_copy_range(pde_t *dst, pde_t *src, uint start, uint end, int how)
{
  uint va, tva, to;
  int r = 0;
  struct tlb_local tlb;
  pte_t *stab;

  tlb_local_begin(&tlb, src);
  for(va = start; va < end && va < USERTOP && r == 0; va = tva + BIGPAGE){
    tva = va & ~(BIGPAGE - 1);
    if((src[PDX(va)] & PTE_P) == 0 || table_is_shared(dst[PDX(va)]))
      continue;                      // absent, or given whole (vm_share_tables)
    to = end - tva < BIGPAGE ? PTX(end) : NPTENTRIES;
    stab = (pte_t *)P2V(PTE_ADDR(src[PDX(va)]));
    if(how == VM_DUP_COW)            // the common case, with how a constant
      r = dup_table(dst, stab, tva, PTX(va), to, VM_DUP_COW, &tlb);
    else
      r = dup_table(dst, stab, tva, PTX(va), to, how, &tlb);
  }
  tlb_local_end(&tlb);
  return r;
}

// Re-mark the present pages of [start, end) for protection prot
// (mprotect), keeping dirty and accessed bits. A page still shared
// (reference count > 1: copy-on-write, a cache page) does not become
// writable here: its first write copies it (private) or makes it writable
// (shared, fault_spurious).
void
vm_protect_range(pde_t *pgdir, uint start, uint end, int prot)
{
  uint va, bits = vm_pte_bits(prot), keep;
  pte_t *pte;
  struct tlb_local tlb;

  tlb_local_begin(&tlb, pgdir);
  for(va = start; va < end; va += PGSIZE){
    if(table_is_shared(pgdir[PDX(va)]))
      panic("vm_protect_range: shared page table");   // callers unshare first
    if((pgdir[PDX(va)] & PTE_P) == 0){
      va = (va & ~(BIGPAGE - 1)) + BIGPAGE - PGSIZE;   // skip the absent table
      continue;
    }
    pte = vm_walk(pgdir, va, 0);
    if(pte == 0 || (*pte & PTE_P) == 0)
      continue;
    keep = *pte & (PTE_D | PTE_A);      // a store not yet written back stays recorded
    if(bits & PTE_W)
      swap_page_written(P2V(PTE_ADDR(*pte)));   // its swap copy may go stale
    if((bits & PTE_W) && page_ref_count(P2V(PTE_ADDR(*pte))) > 1)
      *pte = PTE_ADDR(*pte) | (bits & ~PTE_W) | keep;
    else
      *pte = PTE_ADDR(*pte) | bits | keep;
    tlb_local_page(&tlb, va);
  }
  tlb_local_end(&tlb);
}

// Free a whole user address space: write back shared file pages, then
// every mapping (and its pages), any page table left, and the directory
// itself. pgdir must not be in use on any CPU. May sleep; holds no locks.
void
vm_space_free(pde_t *pgdir, struct vma *vmas)
{
  struct vma *v, *next;
  uint i;

  if(pgdir){
    rmap_lock_tables();
    for(i = 0; i < PDX(USERTOP); i++){       // shared tables go whole
      if(table_is_shared(pgdir[i])){
        pte_t *table = (pte_t *)P2V(PTE_ADDR(pgdir[i]));
        pgdir[i] = 0;
        table_put(table);
      }
    }
    rmap_unlock_tables();
  }
  for(v = vmas; v; v = next){
    next = v->next;
    if(pgdir && v->ops && v->ops->sync && (v->flags & MAP_SHARED))
      v->ops->sync(v, pgdir, v->start, v->end, TW_EXIT);
    if(pgdir)
      vm_unmap_range(pgdir, v->start, v->end);
    vma_free(v);
  }
  if(pgdir == 0)
    return;
  for(i = 0; i < PDX(KERNBASE); i++){
    if(pgdir[i] & PTE_P){
      pte_t *table = (pte_t *)P2V(PTE_ADDR(pgdir[i]));
      if(!table_empty(table))
        panic("vm_space_free: page outside any mapping");
      page_free(table, 0);
    }
  }
  page_free(pgdir, 0);
}

// ---- page faults --------------------------------------------------------------
//
// vm_fault_space() is the one entry point (trap.c via vm_fault(), and the
// copyin/copyout family). It finds the mapping, checks the access against
// its protection, then dispatches on two questions: is the page present,
// is this a write. Each resolution is a small function; the outcome is
// accounted exactly once, in fault_account() (the place for trace hooks).

// Account a fault's outcome how (TF_* in trace_events.h) once: its VM
// counter and, when tracing, a fault event timed from t0. No locks needed.
static void
fault_account(int how, uint va, uint err, uint64 t0)
{
  trace_fault(va, err, how, t0);
}

// Make the absent page at page-aligned va of mapping v present: its
// backing's fault operation, or a fresh zeroed page for anonymous memory.
// Shared by faults and by eager population. 0, 1 (the ops read it back
// from swap), 2 (from the file's disk), or -ENOMEM (or the ops' -errno).
static int
page_fill(pde_t *pgdir, struct vma *v, uint va, int write)
{
  void *kva;

  if(v->ops && v->ops->fault)
    return v->ops->fault(v, pgdir, va, write);
  if((kva = vm_user_page()) == 0)
    return -ENOMEM;
  if(vm_map_page(pgdir, va, kva, vm_pte_bits(v->prot)) < 0){
    vm_user_page_put(kva);
    return -ENOMEM;
  }
  return 0;
}

// Not-present page: fill it (a major fault if it came back from swap or
// from the file's disk).
static int
fault_missing(pde_t *pgdir, struct vma *v, uint va, int write, int *o)
{
  int r = page_fill(pgdir, v, va, write);

  if(r >= 0)
    *o = r == 1 ? TF_SWAP : r == 2 ? TF_FILE_MAJOR : v->ops ? TF_FILE : TF_ZERO;
  else
    *o = r == -ENOMEM ? TF_OOM : TF_BAD_ADDR;
  return r < 0 ? r : 0;
}

// Write to a present read-only page of a writable mapping: the page is
// shared copy-on-write (with another space, or with the page cache). Give
// this space its own copy (or, if nobody else uses the page any more and
// it belongs to no memory object, just make it writable).
static int
fault_cow(pde_t *pgdir, uint va, pte_t *pte, int *o)
{
  void *old = P2V(PTE_ADDR(*pte));
  void *kva;

  if(page_ref_count(old) == 1 && page_of(old)->obj == 0){
    *pte |= PTE_W;
    *o = TF_COW_REUSE;
  } else {
    if((kva = page_alloc_wait(0)) == 0){
      *o = TF_OOM;
      return -ENOMEM;
    }
    COUNT(pages_alloc);
    copy_page(kva, old);
    *pte = V2P(kva) | PTE_FLAGS(*pte) | PTE_W;
    reclaim_track(kva);
    tlb_local_one(pgdir, va);        // before the old frame may be freed
    vm_user_page_put(old);
    *o = TF_COW_COPY;
    return 0;
  }
  tlb_local_one(pgdir, va);
  return 0;
}

// Present page the mapping allows this access to: a stale TLB entry, the
// copy path asking again, or a write to a MAP_SHARED page left read-only
// (shared pages are never copied). Make the PTE match the mapping and retry.
static int
fault_spurious(pde_t *pgdir, struct vma *v, uint va, pte_t *pte, int *o)
{
  *pte |= vm_pte_bits(v->prot) & ((v->flags & MAP_SHARED) ? (PTE_U | PTE_W) : PTE_U);
  tlb_local_one(pgdir, va);
  *o = TF_SPURIOUS;
  return 0;
}

// Does the mapping allow this access?
static int
access_ok(struct vma *v, uint err)
{
  if((v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) == 0)
    return 0;
  if((err & PF_WRITE) && (v->prot & PROT_WRITE) == 0)
    return 0;
  return 1;
}

// A fault brought in the private anonymous page va of pgdir: if that is
// the running process's space and it is held to a number of frames
// (setframes), count the page there (reclaim_local.c).
static void
fault_count_frame(pde_t *pgdir, uint va)
{
  struct proc *p = myproc();

  if(p && p->frames && p->pgdir == pgdir)
    reclaim_local_admit(p, va);
}

// Resolve a fault at va in an address space (err: the CPU's error-code
// bits PF_*). Returns 0 when the access can be retried, -EFAULT (no
// mapping), -EACCES (the mapping forbids it) or -ENOMEM. The caller owns
// the address space (it is the running process, or exec building one).
int
vm_fault_space(pde_t *pgdir, struct vma *vmas, uint va, uint err)
{
  int o;
  struct vma *v;
  pte_t *pte;
  int r, write = (err & PF_WRITE) != 0;
  uint64 t0 = trace_start();

  v = va < USERTOP ? vma_find(vmas, va) : 0;
  if(v == 0){
    o = TF_BAD_ADDR;
    r = -EFAULT;
  } else if(!access_ok(v, err)){
    o = TF_BAD_ACCESS;
    r = -EACCES;
  } else if(table_is_shared(pgdir[PDX(va)]) && table_unshare(&pgdir[PDX(va)]) < 0){
    o = TF_OOM;
    r = -ENOMEM;
  } else {
    tlb_local_one(pgdir, PGROUNDDOWN(va));   // after an unshare: cached PDEs go
    pte = vm_walk(pgdir, PGROUNDDOWN(va), 0);
    if(pte && (*pte & PTE_P) && write && mobj_is_zero_page(P2V(PTE_ADDR(*pte)))){
      vm_user_page_put(P2V(PTE_ADDR(*pte)));   // past the end of a file when read:
      *pte = 0;                                // look again (the file may have grown)
      tlb_local_one(pgdir, PGROUNDDOWN(va));
    }
    if((r = swap_fault(pgdir, v, PGROUNDDOWN(va), pte, err, &o)) != 0)
      r = r > 0 ? 0 : r;                       // a swap entry: read back (swap.c)
    else if(pte == 0 || (*pte & PTE_P) == 0)
      r = fault_missing(pgdir, v, PGROUNDDOWN(va), write, &o);
    else if(write && (*pte & PTE_W) == 0 && (v->flags & MAP_SHARED) == 0)
      r = fault_cow(pgdir, PGROUNDDOWN(va), pte, &o);
    else
      r = fault_spurious(pgdir, v, PGROUNDDOWN(va), pte, &o);
  }
  fault_account(o, va, err, t0);
  if(r == 0 && (o == TF_ZERO || o == TF_SWAP) && (v->flags & MAP_SHARED) == 0)
    fault_count_frame(pgdir, va);
  return r;
}

// Evaluate op (an int: 0 or -errno) on process p's space inside a VM
// critical section of it (reclaim keeps out); out of memory, wait outside
// the section for reclaim and evaluate it again while reclaim makes
// progress. The value of op's last evaluation. op's own allocations do
// not wait (a no-wait scope, mm/allocwait.c): inside the section reclaim
// could not take this space's pages, and waiting here, outside, it can.
#define VM_RETRY(p, op) ({                                   \
  int r_;                                                    \
  for(;;){                                                   \
    proc_vm_enter(p);                                        \
    alloc_nowait_begin();                                    \
    r_ = (op);                                               \
    alloc_nowait_end();                                      \
    proc_vm_leave(p);                                        \
    if(r_ != -ENOMEM || reclaim_wait() != 0)                 \
      break;                                                 \
  }                                                          \
  r_; })

// Resolve a page fault of process p at va with the CPU's error code err
// (VM_RETRY: waits for reclaim when out of memory). 0: retry the access;
// otherwise -EFAULT, -EACCES or -ENOMEM (the caller kills the process).
int
vm_fault(struct proc *p, uint va, uint err)
{
  return VM_RETRY(p, vm_fault_space(p->pgdir, p->vmas, va, err));
}

// Make every absent page of [start, end) (page-aligned, inside mapping v)
// present now instead of on first touch (MAP_POPULATE, vm.lazy=0). Not
// counted as faults. A file mapping stops at the first page wholly past the
// end of the file: those stay absent (a read there gives zeros, a store a
// bus error, when it happens). 0, or -ENOMEM with the pages made so far
// left mapped.
int
vm_populate(pde_t *pgdir, struct vma *v, uint start, uint end)
{
  pte_t *pte;
  uint va;
  int r;

  if((v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) == 0)
    return 0;                        // PROT_NONE: nothing may be touched
  if((r = vm_unshare_range(pgdir, start, end, 0)) < 0)
    return r;
  for(va = start; va < end; va += PGSIZE){
    pte = vm_walk(pgdir, va, 0);
    if(pte && ((*pte & PTE_P) || SWP_IS_ENTRY(*pte)))
      continue;                      // there (or in swap, since an earlier try)
    if((r = page_fill(pgdir, v, va, (v->prot & PROT_WRITE) != 0)) == -ENXIO)
      break;                         // past the end of the file
    if(r < 0)
      return r;
    COUNT(pages_populated);
  }
  return 0;
}

// One try of vm_populate_proc: the mapping holding [start, end) whole.
static int
populate_once(struct proc *p, uint start, uint end)
{
  struct vma *v = vma_find(p->vmas, start);

  if(v == 0 || v->end < end)
    return -EFAULT;
  return vm_populate(p->pgdir, v, start, end);
}

// vm_populate of [start, end), which one mapping of process p holds
// whole (MAP_POPULATE, vm.lazy=0), with VM_RETRY: out of memory, it waits
// for reclaim outside the VM critical section, where reclaim may take
// the pages made so far (they stay, in memory or in swap), and goes on.
// 0, or -ENOMEM (memory and swap full) with the pages made so far mapped.
int
vm_populate_proc(struct proc *p, uint start, uint end)
{
  return VM_RETRY(p, populate_once(p, start, end));
}

// ---- copying to and from user memory ----------------------------------------

// Could user code make this access through pte without faulting?
static int
user_can(pde_t *pgdir, uint va, pte_t *pte, int write)
{
  if(pte == 0 || (*pte & (PTE_P | PTE_U)) != (PTE_P | PTE_U))
    return 0;
  return !write || ((*pte & PTE_W) && (pgdir[PDX(va)] & PTE_W));
}

// Kernel address of user byte va, first making its page present (and
// writable, for write). 0 with *err set (-EFAULT or -ENOMEM) if impossible.
static char *
user_byte(pde_t *pgdir, struct vma *vmas, uint va, int write, int *err)
{
  pte_t *pte;
  uint fe;
  int r;

  if(pgdir == 0 || va >= USERTOP){
    *err = -EFAULT;
    return 0;
  }
  pte = vm_walk(pgdir, va, 0);
  if(!user_can(pgdir, va, pte, write)){
    fe = PF_USER | (write ? PF_WRITE : 0);
    if(pte && (*pte & PTE_P))
      fe |= PF_PRESENT;
    r = vm_fault_space(pgdir, vmas, va, fe);
    if(r < 0){
      *err = r == -ENOMEM ? -ENOMEM : -EFAULT;
      return 0;
    }
    pte = vm_walk(pgdir, va, 0);
    if(!user_can(pgdir, va, pte, write)){
      *err = -EFAULT;
      return 0;
    }
  }
  if(write)
    *pte |= PTE_D;          // the kernel writes through its own mapping: msync must see it
  return (char *)P2V(PTE_ADDR(*pte)) + (va & (PGSIZE - 1));
}

// Copy len bytes from kernel src to user dstva of an address space.
// 0, -EFAULT or -ENOMEM.
int
vm_copyout_space(pde_t *pgdir, struct vma *vmas, uint dstva, const void *src, uint len)
{
  const char *s = src;
  uint n;
  char *k;
  int err;

  while(len > 0){
    if((k = user_byte(pgdir, vmas, dstva, 1, &err)) == 0)
      return err;
    n = PGSIZE - (dstva & (PGSIZE - 1));
    if(n > len)
      n = len;
    memmove(k, s, n);
    len -= n;
    s += n;
    dstva += n;
  }
  return 0;
}

// Copy len bytes from kernel src to user address dstva of process p
// (VM_RETRY). 0, -EFAULT or -ENOMEM.
int
copyout(struct proc *p, uint dstva, const void *src, uint len)
{
  return VM_RETRY(p, vm_copyout_space(p->pgdir, p->vmas, dstva, src, len));
}

static int copyin_once(struct proc *p, void *dst, uint srcva, uint len);
static int copyinstr_once(struct proc *p, char *dst, uint srcva, uint max);

// Copy len bytes from user address srcva of process p to kernel dst
// (VM_RETRY). 0, -EFAULT or -ENOMEM.
int
copyin(struct proc *p, void *dst, uint srcva, uint len)
{
  return VM_RETRY(p, copyin_once(p, dst, srcva, len));
}

// Copy a NUL-terminated string from user srcva of p (VM_RETRY; see
// copyinstr_once for the results).
int
copyinstr(struct proc *p, char *dst, uint srcva, uint max)
{
  return VM_RETRY(p, copyinstr_once(p, dst, srcva, max));
}

static int
copyin_once(struct proc *p, void *dst, uint srcva, uint len)
{
  char *d = dst;
  uint n;
  char *k;
  int err;

  while(len > 0){
    if((k = user_byte(p->pgdir, p->vmas, srcva, 0, &err)) == 0)
      return err;
    n = PGSIZE - (srcva & (PGSIZE - 1));
    if(n > len)
      n = len;
    memmove(d, k, n);
    len -= n;
    d += n;
    srcva += n;
  }
  return 0;
}

// Copy a NUL-terminated string from user srcva into dst, which has room for
// max bytes including the NUL. Returns the length (without the NUL),
// -EFAULT/-ENOMEM, or -ENAMETOOLONG if no NUL is found within max bytes.
static int
copyinstr_once(struct proc *p, char *dst, uint srcva, uint max)
{
  uint i = 0, n;
  char *k;
  int err;

  while(i < max){
    if((k = user_byte(p->pgdir, p->vmas, srcva + i, 0, &err)) == 0)
      return err;
    n = PGSIZE - ((srcva + i) & (PGSIZE - 1));
    for(; n > 0 && i < max; n--, i++, k++){
      dst[i] = *k;
      if(*k == 0)
        return i;
    }
  }
  if(max > 0)
    dst[max - 1] = 0;
  return -ENAMETOOLONG;
}

// Copy to a user address of the current process (user_dst) or to a kernel
// address. 0 or -errno.
int
either_copyout(int user_dst, uint dst, const void *src, uint len)
{
  if(user_dst)
    return copyout(myproc(), dst, src, len);
  memmove((void *)dst, src, len);
  return 0;
}

// Copy from a user address of the current process (user_src) or from a
// kernel address. 0 or -errno.
int
either_copyin(void *dst, int user_src, uint src, uint len)
{
  if(user_src)
    return copyin(myproc(), dst, src, len);
  memmove(dst, (void *)src, len);
  return 0;
}
