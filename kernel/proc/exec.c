// exec: replace the current process's program with an ELF32 executable.
//
// The new image (page directory + mappings) is built completely on the
// side; only when the program is loaded and the stack is built does the
// process switch to it and free the old one. Any failure frees the partial
// image and leaves the process untouched.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "errno.h"
#include "mman.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "arch/trapframe.h"
#include "core/defs.h"
#include "mm/vm.h"
#include "mm/vma.h"
#include "mm/swap.h"
#include "trace/trace.h"

#define EXEC_WAITS 8               // loads retried after waiting for reclaim, at most

// ELF32 file header and program header (facts from the ELF specification).
#define ELF_MAGIC    0x464C457FU   // "\x7FELF" read as a little-endian word
#define ELF_CLASS32  1
#define ELF_DATALSB  1
#define ELF_ET_EXEC  2
#define ELF_EM_386   3
#define ELF_PT_LOAD  1
#define ELF_PF_X     1
#define ELF_PF_W     2
#define ELF_PF_R     4
#define EXEC_MAXPH   32            // most program headers we accept

struct elf32_hdr {
  uint   magic;
  uchar  eclass;
  uchar  edata;
  uchar  eversion;
  uchar  pad[9];
  ushort type;
  ushort machine;
  uint   version;
  uint   entry;
  uint   phoff;
  uint   shoff;
  uint   flags;
  ushort ehsize;
  ushort phentsize;
  ushort phnum;
  ushort shentsize;
  ushort shnum;
  ushort shstrndx;
};

struct elf32_phdr {
  uint type;
  uint off;
  uint vaddr;
  uint paddr;
  uint filesz;
  uint memsz;
  uint flags;
  uint align;
};

// The image under construction.
struct image {
  pde_t *pgdir;
  struct vma *vmas;
  uint brk;          // first page after the highest segment
};

// Read exactly n bytes at off of ip into kernel buffer dst, through the
// page cache (so stores a shared mapping made to the program count).
// 0, -ENOEXEC (the file ends first) or the read's error (-EIO: damage, or
// a disk error, also part way).
static int
read_exact(struct inode *ip, void *dst, uint off, uint n)
{
  int r = pcache_read_kernel(ip, dst, off, n);

  if(r < 0)
    return r;
  return r == (int)n ? 0 : -ENOEXEC;
}

static int
check_header(struct elf32_hdr *eh)
{
  if(eh->magic != ELF_MAGIC || eh->eclass != ELF_CLASS32 || eh->edata != ELF_DATALSB)
    return -ENOEXEC;
  if(eh->type != ELF_ET_EXEC || eh->machine != ELF_EM_386)
    return -ENOEXEC;
  if(eh->phentsize != sizeof(struct elf32_phdr) || eh->phnum == 0 || eh->phnum > EXEC_MAXPH)
    return -ENOEXEC;
  if(eh->entry < PGSIZE || eh->entry >= UMMAP_TOP)
    return -ENOEXEC;
  return 0;
}

static int
elf_prot(uint flags)
{
  int prot = 0;

  if(flags & ELF_PF_R)
    prot |= PROT_READ;
  if(flags & ELF_PF_W)
    prot |= PROT_WRITE;
  if(flags & ELF_PF_X)
    prot |= PROT_EXEC;
  return prot;
}

// Add the mapping for one segment's pages [start, end). Segments that share
// a boundary page (ELF allows it) make that page's mapping carry the union
// of both permissions. 0, -ENOEXEC (segments out of order) or -ENOMEM.
static int
add_segment_vma(struct image *im, uint start, uint end, int prot)
{
  struct vma *last, *v;

  for(last = im->vmas; last && last->next; last = last->next)
    ;
  if(last && start < last->end){
    if(start < last->start)
      return -ENOEXEC;
    if(start > last->start && vma_split(last, start) == 0)
      return -ENOMEM;
    if(last->next)
      last = last->next;
    if(end < last->end && vma_split(last, end) == 0)
      return -ENOMEM;
    last->prot |= prot;
    start = last->end;
    if(start >= end)
      return 0;
  }
  if((v = vma_new(start, end, prot, MAP_PRIVATE, VMA_ANON)) == 0)
    return -ENOMEM;
  if(vma_insert(&im->vmas, v) < 0){
    kfree(v);
    return -ENOEXEC;
  }
  return 0;
}

// Copy the file bytes of a segment into freshly mapped, zeroed pages.
// The rest of the segment (bss) stays lazy: it is zero-filled on first use.
static int
load_segment(struct image *im, struct inode *ip, struct elf32_phdr *ph)
{
  uint va, end = ph->vaddr + ph->filesz, pos, n;
  char *kva;
  pte_t *pte;
  int r;

  for(va = PGROUNDDOWN(ph->vaddr); va < end; va += PGSIZE){
    pte = vm_walk(im->pgdir, va, 0);
    if(pte && (*pte & PTE_P)){
      kva = P2V(PTE_ADDR(*pte));       // page shared with the previous segment
    } else {
      if((kva = vm_user_page()) == 0)
        return -ENOMEM;
      if(vm_map_page(im->pgdir, va, kva, vm_pte_bits(vma_find(im->vmas, va)->prot)) < 0){
        vm_user_page_put(kva);
        return -ENOMEM;
      }
    }
    pos = va < ph->vaddr ? ph->vaddr : va;
    n = (va + PGSIZE < end ? va + PGSIZE : end) - pos;
    if((r = read_exact(ip, kva + (pos - va), ph->off + (pos - ph->vaddr), n)) < 0)
      return r;
  }
  return 0;
}

// Map and load every PT_LOAD segment of the open, locked file ip.
static int
load_program(struct image *im, struct inode *ip, uint *entry)
{
  struct elf32_hdr eh;
  struct elf32_phdr ph;
  uint i, off, start, end;
  int r;

  if((r = read_exact(ip, &eh, 0, sizeof(eh))) < 0 || (r = check_header(&eh)) < 0)
    return r;
  for(i = 0; i < eh.phnum; i++){
    off = eh.phoff + i * sizeof(ph);
    if(off < eh.phoff || (r = read_exact(ip, &ph, off, sizeof(ph))) < 0)
      return -ENOEXEC;
    if(ph.type != ELF_PT_LOAD || ph.memsz == 0)
      continue;
    if(ph.filesz > ph.memsz || ph.vaddr + ph.memsz < ph.vaddr || ph.off + ph.filesz < ph.off)
      return -ENOEXEC;
    if(ph.vaddr < PGSIZE || ph.vaddr + ph.memsz > UMMAP_TOP)
      return -ENOEXEC;               // page 0, the stack and the kernel are off limits
    start = PGROUNDDOWN(ph.vaddr);
    end = PGROUNDUP(ph.vaddr + ph.memsz);
    if((r = add_segment_vma(im, start, end, elf_prot(ph.flags))) < 0)
      return r;
    if((r = load_segment(im, ip, &ph)) < 0)
      return r;
    if(end > im->brk)
      im->brk = end;
  }
  if(im->brk == 0)
    return -ENOEXEC;
  *entry = eh.entry;
  return 0;
}

// Where the string s goes on the user stack when the one before it (or
// the top) starts at above: just below it, 4-byte aligned.
static uint
arg_below(uint above, const char *s)
{
  return (above - (strlen(s) + 1)) & ~3;
}

// Build the user stack: argument strings at the top, then the argv array,
// then argc and a fake return address, with *sp pointing at the latter.
// Returns 0, -E2BIG if there are more than MAXARG arguments or strings and
// argv take more than ARGMAX bytes, or a copy-out error.
static int
build_stack(struct image *im, char **argv, uint *sp)
{
  uint top = USTACK_TOP, uargv, frame[3], zero = 0;
  int argc, r;

  for(argc = 0; argv[argc]; argc++){
    if(argc >= MAXARG)
      return -E2BIG;
    top = arg_below(top, argv[argc]);
    if(USTACK_TOP - top + (argc + 2) * sizeof(uint) > ARGMAX)
      return -E2BIG;
    if((r = vm_copyout_space(im->pgdir, im->vmas, top, argv[argc],
                             strlen(argv[argc]) + 1)) < 0)
      return r;
  }
  // argv[]: the strings' addresses, found again the same way, then a 0.
  uargv = top - (argc + 1) * sizeof(uint);
  top = USTACK_TOP;
  for(int i = 0; i < argc; i++){
    top = arg_below(top, argv[i]);
    if((r = vm_copyout_space(im->pgdir, im->vmas, uargv + 4 * i, &top, 4)) < 0)
      return r;
  }
  if((r = vm_copyout_space(im->pgdir, im->vmas, uargv + 4 * argc, &zero, 4)) < 0)
    return r;
  top = uargv;
  frame[0] = 0xFFFFFFFF;      // fake return address: main must not return
  frame[1] = argc;
  frame[2] = top;             // argv
  top -= sizeof(frame);
  if((r = vm_copyout_space(im->pgdir, im->vmas, top, frame, sizeof(frame))) < 0)
    return r;
  *sp = top;
  return 0;
}

// The last component of a path, for the process name.
static const char *
base_name(const char *path)
{
  const char *s, *last = path;

  for(s = path; *s; s++)
    if(*s == '/' && s[1])
      last = s + 1;
  return last;
}

// Find the program at path and load it into a new image *im, inside one
// file-system operation (so its allocations do not wait for reclaim:
// mm/allocwait.c). 0 or -errno, with what was built left in *im.
static int
load_image(char *path, struct image *im, uint *entry)
{
  struct inode *ip;
  int r;

  begin_op();
  if((ip = namei_err(path, 1, &r)) == 0){
    end_op();
    return r;                    // -ENOENT, -ENOMEM, -EIO, ...
  }
  if((r = ilock(ip)) < 0)
    ;                            // a damaged inode: -EIO
  else if((im->pgdir = uvm_create()) == 0)
    r = -ENOMEM;
  else
    r = load_program(im, ip, entry);
  iunlockput(ip);
  end_op();
  return r;
}

// Load the program at path (a kernel string) with the kernel argument
// vector argv (0-terminated) into the current process. Returns 0, or a
// negative errno (ENOENT, ENOEXEC, E2BIG, ENOMEM, EFAULT, EIO and the
// other path errors) with the process unchanged. Out of memory while
// loading (inside the fs operation, where it may not wait), it drops the
// partial image, waits for reclaim outside and loads again, a few times
// while reclaim makes progress.
int
exec(char *path, char **argv)
{
  struct proc *p = myproc();
  struct image im = { 0, 0, 0 };
  struct vma *stack, *oldvmas;
  pde_t *oldpgdir;
  uint entry = 0, sp = 0;
  int r, tries;

  for(tries = 0; (r = load_image(path, &im, &entry)) == -ENOMEM && tries < EXEC_WAITS; tries++){
    if(im.pgdir)
      vm_space_free(im.pgdir, im.vmas);
    im.pgdir = 0;
    im.vmas = 0;
    im.brk = 0;
    if(reclaim_wait() != 0)
      break;
  }
  if(r < 0)
    goto fail;

  r = -ENOMEM;
  stack = vma_new(USTACK_BOTTOM, USTACK_TOP, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, VMA_STACK);
  if(stack == 0)
    goto fail;
  if(vma_insert(&im.vmas, stack) < 0){
    kfree(stack);
    r = -ENOEXEC;
    goto fail;
  }
  if((r = build_stack(&im, argv, &sp)) < 0)
    goto fail;

  // Commit: switch the process to the new image, then drop the old one.
  proc_vm_enter(p);              // reclaim keeps out while the space changes
  oldpgdir = p->pgdir;
  oldvmas = p->vmas;
  p->pgdir = im.pgdir;
  p->vmas = im.vmas;
  p->heapbase = p->sz = im.brk;
  p->tf->eip = entry;
  p->tf->esp = sp;
  safestrcpy(p->name, base_name(path), sizeof(p->name));
  switchuvm(p);
  vm_space_free(oldpgdir, oldvmas);  // inside the section: the swap audit waits for it
  reclaim_local_forget(p);           // a new program starts without a frame limit
  proc_vm_leave(p);
  trace_exec(p->name);
  return 0;

fail:
  if(im.pgdir)
    vm_space_free(im.pgdir, im.vmas);
  return r;
}
