// Page-table level of the virtual-memory system (vm.c), used by vma.c,
// exec.c and proc.c. An address space is a page directory plus the sorted
// list of mappings (struct vma, vma.h) that says what may be mapped in it.
#ifndef KVM_H
#define KVM_H
#include "types.h"

struct vma;

// User-page counters (fault counts live in the trace's vmstat counters).
// Bumped with atomic adds; read by debuggers and tests in the kernel.
struct vmcounters {
  uint pages_alloc;      // user pages allocated (faults, populate, fork copies)
  uint pages_freed;      // user pages freed
  uint pages_populated;  // pages made present ahead of use (MAP_POPULATE, vm.lazy=0)
  uint tables_shared;    // page tables fork gave a child whole (vm.cow=2)
  uint tables_copied;    // shared tables copied on first change (vm.cow=2)
  uint tables_reused;    // shared tables taken back by their last user
};
extern struct vmcounters vmcnt;
extern int vm_lazy;      // sysctl vm.lazy: 1 = sbrk/mmap pages appear on first touch
extern int vm_cow;       // sysctl vm.cow: 1 = fork shares private pages copy-on-write,
                         // 2 = also whole page tables of private anonymous memory (on-demand fork)

// How fork gives a child the present pages of a mapping (vm_copy_range).
#define VM_DUP_COPY   0  // copy each page now
#define VM_DUP_COW    1  // share read-only; the first write copies
#define VM_DUP_SHARE  2  // share as is (MAP_SHARED)

pte_t *vm_walk(pde_t *pgdir, uint va, int alloc);   // PTE for va; 0 if absent (or ENOMEM when alloc)
int   vm_pte_bits(int prot);                          // PTE bits for a present page of a PROT_* mapping
int   vm_map_page(pde_t *pgdir, uint va, void *kva, int perm);  // 0 or -ENOMEM
void *vm_user_page(void);                             // new zeroed user page, counted; 0 on ENOMEM
void  vm_user_page_put(void *kva);                    // drop a reference to a user page
void  vm_unmap_range(pde_t *pgdir, uint start, uint end);
int   vm_copy_range(pde_t *dst, pde_t *src, uint start, uint end, int how);  // 0 or -ENOMEM
void  vm_protect_range(pde_t *pgdir, uint start, uint end, int prot);  // re-mark present pages
int   vm_populate(pde_t *pgdir, struct vma *v, uint start, uint end);  // 0 or -ENOMEM
void  vm_space_free(pde_t *pgdir, struct vma *vmas);  // unmap everything, free the directory
void  vm_share_tables(pde_t *dst, pde_t *src, struct vma *vmas);   // on-demand fork (vm.cow=2)
int   vm_unshare_range(pde_t *pgdir, uint start, uint end, int partial);  // 0 or -ENOMEM
void  vm_drop_shared(pde_t *pgdir, uint start, uint end);           // shared tables covered whole
int   vm_fault_space(pde_t *pgdir, struct vma *vmas, uint va, uint err);
int   vm_table_shared(pde_t e);           // a page table shared by on-demand fork?
int   vm_copyout_space(pde_t *pgdir, struct vma *vmas, uint dstva, const void *src, uint len);
struct proc;
int   vm_populate_proc(struct proc *p, uint start, uint end);  // waits for reclaim: 0 or -ENOMEM
#endif
