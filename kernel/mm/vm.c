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
#include "mm/swap.h"
#include "trace/trace.h"

#define BIGPAGE BIGPGSIZE             // bytes mapped by one PDE (4 MiB)

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
pde_t *
uvm_create(void)
{
  pde_t *pgdir = page_alloc(0);
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
    if(!alloc || (table = page_alloc(0)) == 0)
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

// A zeroed page for user memory (reference count 1); 0 when out of memory.
void *
vm_user_page(void)
{
  void *kva = page_alloc(0);

  if(kva == 0)
    return 0;
  memset(kva, 0, PGSIZE);
  COUNT(pages_alloc);
  return kva;
}

// Drop one reference to a user page; the last one frees it.
void
vm_user_page_put(void *kva)
{
  if(page_ref_dec(kva) == 0){
    reclaim_forget(kva);
    page_free(kva, 0);
    COUNT(pages_freed);
  }
}

// Reload CR3 if pgdir is the directory this CPU is using, so removed or
// downgraded PTEs take effect. (Processes are single-threaded and CR3 is
// reloaded on every switch, so other CPUs hold no stale entries.)
void
vm_flush(pde_t *pgdir)
{
  if(rcr3() == V2P(pgdir))
    lcr3(V2P(pgdir));
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

// Remove the pages in [start, end) (page-aligned) from pgdir, dropping a
// reference to each, and free page tables left empty. Holds the rmap lock
// meanwhile, so no other process walks a table being freed.
void
vm_unmap_range(pde_t *pgdir, uint start, uint end)
{
  uint va, tend;
  pte_t *table;
  pde_t *pde;

  rmap_lock_tables();        // others may be walking these tables (rmap.c)
  for(va = start; va < end && va < USERTOP; va = tend){
    tend = (va & ~(BIGPAGE - 1)) + BIGPAGE;
    pde = &pgdir[PDX(va)];
    if((*pde & PTE_P) == 0)
      continue;
    table = (pte_t *)P2V(PTE_ADDR(*pde));
    for(; va < tend && va < end; va += PGSIZE){
      pte_t *pte = &table[PTX(va)];
      if(*pte & PTE_P)
        vm_user_page_put(P2V(PTE_ADDR(*pte)));
      else if(SWP_IS_ENTRY(*pte))
        swap_pte_free(*pte);
      *pte = 0;
    }
    if(table_empty(table)){
      *pde = 0;
      page_free(table, 0);
    }
  }
  rmap_unlock_tables();
  vm_flush(pgdir);
}

// Give dst the present page kva of src at va, mapped with PTE bits
// flags, for fork: share it (one more reference) or copy it now.
// 0 or -ENOMEM.
static int
dup_page(pde_t *dst, uint va, void *kva, int flags, int share)
{
  void *copy = kva;

  if(share){
    page_ref_inc(kva);
  } else {
    if((copy = page_alloc(0)) == 0)
      return -ENOMEM;
    COUNT(pages_alloc);
    memmove(copy, kva, PGSIZE);
  }
  if(vm_map_page(dst, va, copy, flags) < 0){
    vm_user_page_put(copy);
    return -ENOMEM;
  }
  return 0;
}

// fork: give dst the present pages of [start, end) of src, as how says:
// VM_DUP_COPY copies each page now; VM_DUP_COW shares it read-only in both
// spaces (the first write copies it, fault_cow); VM_DUP_SHARE shares it as
// it is (MAP_SHARED). Pages never touched stay absent in dst; dst's PTEs
// start clean (no dirty bit). 0, or -ENOMEM (pages done so far stay
// mapped in dst for the caller to free).
int
vm_copy_range(pde_t *dst, pde_t *src, uint start, uint end, int how)
{
  uint va;
  pte_t *pte;
  int r = 0;

  for(va = start; va < end && r == 0; va += PGSIZE){
    if((src[PDX(va)] & PTE_P) == 0){
      va = (va & ~(BIGPAGE - 1)) + BIGPAGE - PGSIZE;   // skip the absent table
      continue;
    }
    pte = vm_walk(src, va, 0);
    if(pte && SWP_IS_ENTRY(*pte))
      r = swap_pte_dup(dst, va, *pte);
    if(pte == 0 || (*pte & PTE_P) == 0)
      continue;
    if(how == VM_DUP_COW)
      *pte &= ~PTE_W;
    r = dup_page(dst, va, P2V(PTE_ADDR(*pte)), PTE_FLAGS(*pte) & ~(PTE_D | PTE_A),
                 how != VM_DUP_COPY);
  }
  if(how == VM_DUP_COW)
    vm_flush(src);
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

  for(va = start; va < end; va += PGSIZE){
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
  }
  vm_flush(pgdir);
}

// Free a whole user address space: write back shared file pages, then
// every mapping (and its pages), any page table left, and the directory
// itself. pgdir must not be in use on any CPU. May sleep; holds no locks.
void
vm_space_free(pde_t *pgdir, struct vma *vmas)
{
  struct vma *v, *next;
  uint i;

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
// Shared by faults and by eager population. 0 or -ENOMEM (or the ops' -errno).
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

// Not-present page: fill it.
static int
fault_missing(pde_t *pgdir, struct vma *v, uint va, int write, int *o)
{
  int r = page_fill(pgdir, v, va, write);

  if(r == 0)
    *o = v->ops ? TF_FILE : TF_ZERO;
  else
    *o = r == -ENOMEM ? TF_OOM : TF_BAD_ADDR;
  return r;
}

// Write to a present read-only page of a writable mapping: the page is
// shared copy-on-write (with another space, or with the page cache). Give
// this space its own copy (or, if nobody else uses the page any more and
// it belongs to no memory object, just make it writable).
static int
fault_cow(pde_t *pgdir, pte_t *pte, int *o)
{
  void *old = P2V(PTE_ADDR(*pte));
  void *kva;

  if(page_ref_count(old) == 1 && page_of(old)->obj == 0){
    *pte |= PTE_W;
    *o = TF_COW_REUSE;
  } else {
    if((kva = page_alloc(0)) == 0){
      *o = TF_OOM;
      return -ENOMEM;
    }
    COUNT(pages_alloc);
    memmove(kva, old, PGSIZE);
    *pte = V2P(kva) | PTE_FLAGS(*pte) | PTE_W;
    reclaim_track(kva);
    vm_user_page_put(old);
    *o = TF_COW_COPY;
  }
  vm_flush(pgdir);
  return 0;
}

// Present page the mapping allows this access to: a stale TLB entry, the
// copy path asking again, or a write to a MAP_SHARED page left read-only
// (shared pages are never copied). Make the PTE match the mapping and retry.
static int
fault_spurious(pde_t *pgdir, struct vma *v, pte_t *pte, int *o)
{
  *pte |= vm_pte_bits(v->prot) & ((v->flags & MAP_SHARED) ? (PTE_U | PTE_W) : PTE_U);
  vm_flush(pgdir);
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
  } else {
    pte = vm_walk(pgdir, PGROUNDDOWN(va), 0);
    if(pte && (*pte & PTE_P) && write && mobj_is_zero_page(P2V(PTE_ADDR(*pte)))){
      vm_user_page_put(P2V(PTE_ADDR(*pte)));   // past the end of a file when read:
      *pte = 0;                                // look again (the file may have grown)
      vm_flush(pgdir);
    }
    if((r = swap_fault(pgdir, v, PGROUNDDOWN(va), pte, err, &o)) != 0)
      r = r > 0 ? 0 : r;                       // a swap entry: read back (swap.c)
    else if(pte == 0 || (*pte & PTE_P) == 0)
      r = fault_missing(pgdir, v, PGROUNDDOWN(va), write, &o);
    else if(write && (*pte & PTE_W) == 0 && (v->flags & MAP_SHARED) == 0)
      r = fault_cow(pgdir, pte, &o);
    else
      r = fault_spurious(pgdir, v, pte, &o);
  }
  fault_account(o, va, err, t0);
  return r;
}

// Resolve a page fault of process p at va with the CPU's error code err,
// inside a VM critical section of p's space (reclaim keeps out). Out of
// memory, it waits outside the section for reclaim and tries again while
// reclaim makes progress. 0: retry the access; otherwise -EFAULT, -EACCES
// or -ENOMEM (the caller kills the process).
int
vm_fault(struct proc *p, uint va, uint err)
{
  int r;

  for(;;){
    proc_vm_enter(p);
    r = vm_fault_space(p->pgdir, p->vmas, va, err);
    proc_vm_leave(p);
    if(r != -ENOMEM || reclaim_wait() != 0)
      return r;
  }
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
  for(va = start; va < end; va += PGSIZE){
    pte = vm_walk(pgdir, va, 0);
    if(pte && (*pte & PTE_P))
      continue;
    if((r = page_fill(pgdir, v, va, (v->prot & PROT_WRITE) != 0)) == -ENXIO)
      break;                         // past the end of the file
    if(r < 0)
      return r;
    COUNT(pages_populated);
  }
  return 0;
}

// ---- copying to and from user memory ----------------------------------------

// Could user code make this access through pte without faulting?
static int
user_can(pte_t *pte, int write)
{
  if(pte == 0 || (*pte & (PTE_P | PTE_U)) != (PTE_P | PTE_U))
    return 0;
  return !write || (*pte & PTE_W);
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
  if(!user_can(pte, write)){
    fe = PF_USER | (write ? PF_WRITE : 0);
    if(pte && (*pte & PTE_P))
      fe |= PF_PRESENT;
    r = vm_fault_space(pgdir, vmas, va, fe);
    if(r < 0){
      *err = r == -ENOMEM ? -ENOMEM : -EFAULT;
      return 0;
    }
    pte = vm_walk(pgdir, va, 0);
    if(!user_can(pte, write)){
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

// Copy len bytes from kernel src to user address dstva of process p, in
// a VM critical section of its space; out of memory, wait for reclaim
// (outside the section) and copy again. 0, -EFAULT or -ENOMEM.
int
copyout(struct proc *p, uint dstva, const void *src, uint len)
{
  int r;

  for(;;){
    proc_vm_enter(p);
    r = vm_copyout_space(p->pgdir, p->vmas, dstva, src, len);
    proc_vm_leave(p);
    if(r != -ENOMEM || reclaim_wait() != 0)
      return r;
  }
}

static int copyin_once(struct proc *p, void *dst, uint srcva, uint len);
static int copyinstr_once(struct proc *p, char *dst, uint srcva, uint max);

// Copy len bytes from user address srcva of process p to kernel dst (a
// VM critical section; waits for reclaim like copyout). 0, -EFAULT or -ENOMEM.
int
copyin(struct proc *p, void *dst, uint srcva, uint len)
{
  int r;

  for(;;){
    proc_vm_enter(p);
    r = copyin_once(p, dst, srcva, len);
    proc_vm_leave(p);
    if(r != -ENOMEM || reclaim_wait() != 0)
      return r;
  }
}

// Copy a NUL-terminated string from user srcva of p (as copyin does; see
// copyinstr_once for the results).
int
copyinstr(struct proc *p, char *dst, uint srcva, uint max)
{
  int r;

  for(;;){
    proc_vm_enter(p);
    r = copyinstr_once(p, dst, srcva, max);
    proc_vm_leave(p);
    if(r != -ENOMEM || reclaim_wait() != 0)
      return r;
  }
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
