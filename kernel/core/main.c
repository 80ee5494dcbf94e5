// Boot-time initialisation: the boot CPU runs main(), the others ap_main().
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"

extern char end[];               // first address after the kernel (kernel.ld)
extern pde_t boot_pgdir[];       // entry.S
extern uchar _binary_out_boot_apstart_bin_start[];   // the AP trampoline
extern uchar _binary_out_boot_apstart_bin_size[];

#define AP_START_PA 0x7000       // where the trampoline runs (boot/apstart.S)

static void start_others(void);

// The boot CPU arrives here from entry.S on the boot stack, with the boot
// page directory (low 16 MiB only) and interrupts off.
int
main(void)
{
  uint phys_top;

  uart_early_init();             // printf works from here on
  phys_top = mem_detect();
  kvm_init(phys_top);            // map all of RAM and device space
  buddy_init(PGROUNDUP(V2P(end)), phys_top);
  mobj_init();                   // memory objects and the page cache
  mp_init();
  lapic_init();
  seg_init();
  ioapic_init();
  console_init();
  uart_init();
  trap_vectors_init();
  idt_init();
  binit();
  ide_init();
  swapdisk_init();               // the swap disk, if there is one
  proc_init();
  printf("\nkernel: %d cpus, %d MiB memory\n", ncpu, phys_top >> 20);
  start_others();   // before userinit: the APs' stacks must be allocated before tests run
  userinit();
  reclaim_start();               // the page reclaim thread
  scheduler();
}

// Where every other CPU lands from the trampoline, on its own stack but
// still on the boot page directory.
static void
ap_main(void)
{
  kvm_switch();
  seg_init();
  lapic_init();
  idt_init();
  printf("cpu %d: started\n", cpuid());
  xchg(&mycpu()->started, 1);    // start_others() may go on
  scheduler();
}

// Wake each other CPU in turn and wait until it is running.
static void
start_others(void)
{
  uchar *code = P2V(AP_START_PA);
  uint *params = (uint *)code;
  struct cpu *c;
  char *stack;

  memmove(code, _binary_out_boot_apstart_bin_start,
          (uint)_binary_out_boot_apstart_bin_size);
  mycpu()->started = 1;
  for(c = cpus; c < cpus + ncpu; c++){
    if(c == mycpu())
      continue;
    stack = page_alloc(1);       // KSTACKSIZE: its scheduler's stack
    if(stack == 0)
      panic("start_others: no memory for a stack");
    params[-1] = (uint)stack + KSTACKSIZE;
    params[-2] = (uint)ap_main;
    params[-3] = V2P(boot_pgdir);
    lapic_startap(c->apicid, AP_START_PA);
    while(c->started == 0)
      cpu_relax();
  }
}
