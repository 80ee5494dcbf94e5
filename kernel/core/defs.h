// Functions that one kernel subsystem exports to the others, grouped by the
// file that defines them. Each section is owned by that file: add a
// prototype here when you export a new function.
#ifndef KDEFS_H
#define KDEFS_H
#include "types.h"

struct buf;
struct context;
struct cpu;
struct file;
struct inode;
struct pipe;
struct proc;
struct spinlock;
struct sleeplock;
struct stat;
struct superblock;
struct trapframe;
struct memstat;

// ---- arch: boot, CPUs, interrupts, devices ----------------------------
// console.c
void  console_init(void);
void  console_intr(int (*getc)(void));   // feed input chars from a device
void  printf(const char *fmt, ...);      // kernel printf to CGA + COM1
void  panic(const char *msg) __attribute__((noreturn));
// uart.c
void  uart_init(void);
void  uart_putc(int c);                  // COM1
void  uart_intr(void);
void  uart2_write(const void *buf, uint n); // COM2: raw bytes (trace dumps)
void  uart_early_init(void);             // polled output only, before interrupts exist
// kbd.c
void  kbd_intr(void);
// lapic.c
void  lapic_init(void);
int   lapic_id(void);
void  lapic_eoi(void);
void  lapic_startap(uchar apicid, uint addr);
void  microdelay(int us);
void  lapic_nmi_others(void);            // NMI every other CPU (panic)
void  lapic_ipi(uint apicid, uint vec);   // send interrupt vec to one CPU
extern volatile uint *lapic;
// ioapic.c
void  ioapic_init(void);
void  ioapic_enable(int irq, int cpunum);
// mp.c
void  mp_init(void);
struct cpu *mycpu(void);                 // call with interrupts off
int   cpuid(void);                       // index of this CPU in cpus[]; interrupts off
extern int ncpu;
// acpi.c
int   acpi_find_cpus(void);              // CPUs listed in the ACPI MADT (0: no MADT)
// memdetect.c
uint  mem_detect(void);                  // bytes of usable physical RAM from 0, capped at PHYSMAX
// seg.c
void  seg_init(void);                    // GDT + TSS for this CPU
void  tss_set_kstack(uint esp0);         // kernel stack used on user->kernel traps (interrupts off)
// trap.c
void  idt_init(void);
void  trap_vectors_init(void);
extern uint ticks;
extern struct spinlock tickslock;
// spinlock.c
void  initlock(struct spinlock *lk, const char *name);
void  acquire(struct spinlock *lk);
void  release(struct spinlock *lk);
int   holding(struct spinlock *lk);
void  pushcli(void);
void  popcli(void);
void  getcallerpcs(void *v, uint pcs[]);
// sleeplock.c
void  initsleeplock(struct sleeplock *lk, const char *name);
void  acquiresleep(struct sleeplock *lk);
void  releasesleep(struct sleeplock *lk);
int   holdingsleep(struct sleeplock *lk);
// string.c
void *memset(void *dst, int c, uint n);
void *memmove(void *dst, const void *src, uint n);
void *memcpy(void *dst, const void *src, uint n);
int   memcmp(const void *a, const void *b, uint n);
int   strlen(const char *s);
int   strncmp(const char *a, const char *b, uint n);
char *strncpy(char *dst, const char *src, int n);
char *safestrcpy(char *dst, const char *src, int n);
// power.c
void  power_off(void) __attribute__((noreturn));

// ---- memory ------------------------------------------------------------
// buddy.c: physical pages
void  buddy_init(uint pa_start, uint pa_end);
void *page_alloc(int order);             // 2^order contiguous pages (contents undefined) as a kernel VA; 0 if none
void  page_free(void *kva, int order);
void  page_ref_inc(void *kva);           // reference counts for copy-on-write
int   page_ref_dec(void *kva);           // returns the count left
int   page_ref_count(void *kva);
void  buddy_stat(struct memstat *ms);
int   buddy_selftest(void);                // 0 or -EIO (SYS_kalloctest)
// kmalloc.c: kernel objects of any size
void *kmalloc(uint size);                // 0 when out of memory
void *kzalloc(uint size);                // zeroed kmalloc
void  kfree(void *p);
void  kmalloc_stat(struct memstat *ms);    // fill kmalloc_bytes, kmalloc_pages
int   kmalloc_selftest(void);              // 0 or -EIO (SYS_kalloctest)
// allocwait.c: allocations that wait for reclaim (who may: the rule there)
void *page_alloc_wait(int order);        // page_alloc, waiting while reclaim frees memory; 0 if none
void *kmalloc_wait(uint size);           // kmalloc, the same
void *kzalloc_wait(uint size);           // kzalloc, the same
void  alloc_nowait_begin(void);          // a scope where they fail at once (fs operations)
void  alloc_nowait_end(void);
void  alloc_headroom(void);              // before a no-wait scope: wait for a few free pages
// kalloctest.c: SYS_kalloctest (self-tests and allocator benchmark)
int   kalloc_test(int mode, uint uva);     // 0 or -errno; modes in kalloctest.h
int   kalloc_testmode(void);               // 1 while the machine-wide test hooks may run
// vm.c: page tables and user-memory access
void  kvm_init(uint phys_top);           // build + switch to the kernel page directory
void  kvm_switch(void);                  // load the kernel page directory on this CPU
pde_t *uvm_create(void);                 // new page directory holding the kernel mappings; 0 on ENOMEM
void  switchuvm(struct proc *p);
void  switchkvm(void);
int   copyout(struct proc *p, uint dstva, const void *src, uint len);   // 0 or -EFAULT/-ENOMEM
int   copyin(struct proc *p, void *dst, uint srcva, uint len);          // 0 or -EFAULT/-ENOMEM
int   copyinstr(struct proc *p, char *dst, uint srcva, uint max);       // length or -EFAULT/-ENAMETOOLONG
int   either_copyout(int user_dst, uint dst, const void *src, uint len);  // user_dst: dst is a user VA of myproc()
int   either_copyin(void *dst, int user_src, uint src, uint len);
int   vm_fault(struct proc *p, uint va, uint err);  // resolve a user page fault: 0, or <0 with cause

// ---- processes -----------------------------------------------------------
// proc.c
void  proc_init(void);
struct proc *myproc(void);
void  userinit(void);
int   fork(void);
void  exit(int status) __attribute__((noreturn));
int   wait(uint status_uva);
int   kill(int pid);
int   killed(struct proc *p);
void  setkilled(struct proc *p);
void  sleep(void *chan, struct spinlock *lk);
void  wakeup(void *chan);
void  yield(void);
void  scheduler(void) __attribute__((noreturn));
void  sched_resched_intr(void);          // sched.c: the wake-up IPI arrived
void  sched_clock_tick(void);            // sched.c: this CPU's clock interrupt
void  procdump(void);
// swtch.S
void  swtch(struct context **old, struct context *new);
// exec.c
int   exec(char *path, char **argv);
// syscall.c
void  syscall(void);
int   argint(int n, int *ip);
int   arguint(int n, uint *ip);
int   argstr(int n, char *buf, int max);  // copy string arg into buf: length or -EFAULT/-ENAMETOOLONG

// ---- files ---------------------------------------------------------------
// ide.c
void  ide_init(void);
void  ide_intr(void);
int   ide_rw(struct buf *b);               // 0 or -EIO
// bio.c
void  binit(void);
struct buf *bread(uint dev, uint blockno);  // 0 on a disk error
int   bwrite(struct buf *b);               // 0 or -EIO
void  binval(struct buf *b);               // forget the cached data
void  brelse(struct buf *b);
void  bpin(struct buf *b);
void  bunpin(struct buf *b);
// log.c
void  log_init(int dev, struct superblock *sb);
void  begin_op(void);
int   end_op(void);                       // 0, or -EIO: the commit failed
void  log_write(struct buf *b);
// fs.c
void  fs_init(int dev);
struct inode *namei(char *path);          // follows symlinks; 0 if not found
struct inode *namei_err(char *path, int follow, int *err);
struct inode *nameiparent(char *path, char *name);
struct inode *idup(struct inode *ip);
int   ilock(struct inode *ip);          // 0, or -EIO: the disk inode is damaged
void  iunlock(struct inode *ip);
void  iput(struct inode *ip);
void  iunlockput(struct inode *ip);
int   readi(struct inode *ip, int user_dst, uint dst, uint off, uint n);
int   writei(struct inode *ip, int user_src, uint src, uint off, uint n);
void  stati(struct inode *ip, struct stat *st);
// file.c
struct file *file_alloc(void);            // 0 on ENOMEM
struct file *file_dup(struct file *f);
void  file_close(struct file *f);
int   file_read(struct file *f, uint uaddr, int n);
int   file_write(struct file *f, uint uaddr, int n);
int   file_stat(struct file *f, uint uaddr);
// fd.c: per-process descriptor tables that grow on demand
int   fd_alloc(struct proc *p, struct file *f); // new fd or -ENOMEM
struct file *fd_get(struct proc *p, int fd);     // 0 if fd is not open
int   fd_copy_table(struct proc *dst, struct proc *src); // 0 or -ENOMEM
void  fd_close_all(struct proc *p);
// pipe.c
int   pipe_alloc(struct file **rf, struct file **wf);
void  pipe_close(struct pipe *pi, int writable);
int   pipe_read(struct pipe *pi, uint uaddr, int n);
int   pipe_write(struct pipe *pi, uint uaddr, int n);
// faultinj.c: failing the nth allocation of a system call (SYS_failnth)
int   fault_inject(void);                 // 1: fail this allocation
void  fault_syscall_begin(struct proc *p);
void  fault_syscall_end(struct proc *p);
// ide.c: size of a disk
uint  ide_blocks(uint dev);               // blocks on disk dev, 0 if unknown
// mm/pcache.c, mm/mobj.c, mm/tlb.c: the page cache (see mm/mobj.h)
int   pcache_file_read(struct file *f, uint uaddr, int n);   // read() of a regular file
int   pcache_file_write(struct file *f, uint uaddr, int n);  // write() of a regular file
void  pcache_truncate(struct inode *ip, uint oldsize, uint newsize);  // caller holds ip->lock
int   pcache_read_kernel(struct inode *ip, char *dst, uint off, uint n);  // caller holds ip->lock
void  mobj_init(void);
void  mobj_drop_caches(void);             // free clean cache pages nobody uses
void  tlb_intr(void);                     // TLB shootdown IPI handler
// dev/swapdisk.c: the swap disk (secondary ATA channel)
void  swapdisk_init(void);
void  swapdisk_intr(void);
uint  swapdisk_pages(void);               // pages on it, 0 if there is none
int   swapdisk_rw(void *kva, uint page, int write);  // 0 or -1; sleeps
// mm/reclaim.c, proc/proc.c: page reclaim (see mm/swap.h)
void  reclaim_start(void);
void  swap_memstat(struct memstat *ms);   // fill swap_pages, swap_used
int   kthread_start(const char *name, void (*fn)(void));  // 0 or -ENOMEM
void  proc_vm_enter(struct proc *p);      // VM critical section of p's space
void  proc_vm_leave(struct proc *p);
struct proc *proc_vm_hold_next(int after);  // reclaim: hold the next idle space
void  proc_vm_unhold(struct proc *p);
int   proc_vm_busy_spaces(void);          // processes in a VM critical section
int   proc_vm_unheld_spaces(void);        // processes with page tables the caller did not hold

#define NELEM(x) (sizeof(x) / sizeof((x)[0]))
#endif
