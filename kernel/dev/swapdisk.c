// PIO driver for the swap disk: the master drive of the secondary ATA
// channel (qemu's index=2 drive). It moves whole 4 KiB pages: the drive is
// put in "multiple" mode with 8 sectors per data block, so a page costs one
// interrupt. Requests wait in a FIFO queue; the head is on the controller.
// Its content is scratch: nothing on it is trusted or needed after a
// reboot (mm/swap.c writes a page before it ever reads it back).
#include "types.h"
#include "param.h"
#include "arch/x86.h"
#include "arch/traps.h"
#include "arch/mmu.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"

#define SD_DATA     0x170
#define SD_COUNT    0x172
#define SD_LBA0     0x173
#define SD_LBA1     0x174
#define SD_LBA2     0x175
#define SD_DRIVE    0x176
#define SD_STATUS   0x177
#define SD_CMD      0x177
#define SD_CTRL     0x376

#define ST_BSY  0x80
#define ST_DRDY 0x40
#define ST_DF   0x20
#define ST_DRQ  0x08
#define ST_ERR  0x01

#define CMD_READ_MULT  0xC4
#define CMD_WRITE_MULT 0xC5
#define CMD_SET_MULT   0xC6
#define CMD_IDENTIFY   0xEC

#define SECTS_PER_PAGE (PGSIZE / 512)
#define LBA28_SECTORS  (1u << 28)

struct sdreq {
  void *kva;             // the page
  uint page;             // page number on the disk
  int write;
  int done;              // set by the interrupt (sd.lock)
  int err;               // 0 or -EIO
  struct sdreq *next;
};

static struct {
  struct spinlock lock;  // guards the queue
  struct sdreq *head;    // request in progress; its next follow
  uint npages;           // pages on the disk; 0: no swap disk
} sd;

// Spin until the drive is not busy; -1 on an error or device fault.
static int
sd_wait(void)
{
  int st, n = 0;

  while(((st = inb(SD_STATUS)) & (ST_BSY | ST_DRDY)) != ST_DRDY){
    if((st & ST_BSY) == 0 && (st & (ST_ERR | ST_DF)))
      return -1;
    if(st == 0 || st == 0xFF || ++n > 10000000)
      return -1;                    // nothing there (or it never answers)
  }
  return (st & (ST_ERR | ST_DF)) ? -1 : 0;
}

// Find the drive and its size (polled, interrupt masked). Pages, or 0.
static uint
sd_identify(void)
{
  ushort id[256];
  uint sectors;
  int i, st = 0;

  outb(SD_CTRL, 2);
  outb(SD_DRIVE, 0xE0);
  for(i = 0; i < 1000 && (st = inb(SD_STATUS)) == 0; i++)
    ;
  if(st == 0 || st == 0xFF || sd_wait() < 0)
    return 0;
  outb(SD_CMD, CMD_IDENTIFY);
  if(sd_wait() < 0 || (inb(SD_STATUS) & ST_DRQ) == 0)
    return 0;
  insl(SD_DATA, id, sizeof(id) / 4);
  sectors = id[60] | ((uint)id[61] << 16);
  if(sectors > LBA28_SECTORS)
    sectors = LBA28_SECTORS;
  outb(SD_COUNT, SECTS_PER_PAGE);
  outb(SD_CMD, CMD_SET_MULT);
  if(sd_wait() < 0){
    printf("swapdisk: drive refused multiple mode: not used\n");
    return 0;
  }
  return sectors / SECTS_PER_PAGE;
}

// Look for the swap disk. Call once at boot, before any process runs.
void
swapdisk_init(void)
{
  initlock(&sd.lock, "swapdisk");
  sd.npages = sd_identify();
  outb(SD_CTRL, 0);
  if(sd.npages){
    ioapic_enable(IRQ_IDE2, ncpu - 1);
    printf("swap: %d KiB on disk 2\n", sd.npages * (PGSIZE / 1024));
  }
}

// Pages on the swap disk (0: none).
uint
swapdisk_pages(void)
{
  return sd.npages;
}

// Program the drive for the queue head. Caller holds sd.lock.
static void
sd_start(struct sdreq *r)
{
  uint sector = r->page * SECTS_PER_PAGE;

  sd_wait();
  outb(SD_CTRL, 0);
  outb(SD_COUNT, SECTS_PER_PAGE);
  outb(SD_LBA0, sector & 0xFF);
  outb(SD_LBA1, (sector >> 8) & 0xFF);
  outb(SD_LBA2, (sector >> 16) & 0xFF);
  outb(SD_DRIVE, 0xE0 | ((sector >> 24) & 0x0F));
  if(r->write){
    outb(SD_CMD, CMD_WRITE_MULT);
    while((inb(SD_STATUS) & (ST_BSY | ST_DRQ)) != ST_DRQ)
      ;
    outsl(SD_DATA, r->kva, PGSIZE / 4);
  } else {
    outb(SD_CMD, CMD_READ_MULT);
  }
}

// Interrupt: the head request is done (a read's data waits in the port).
void
swapdisk_intr(void)
{
  struct sdreq *r;
  int st;

  acquire(&sd.lock);
  st = inb(SD_STATUS);
  if((r = sd.head) == 0){
    release(&sd.lock);
    return;
  }
  if(st & (ST_ERR | ST_DF)){
    printf("swapdisk: page %d: %s error (status 0x%x)\n", r->page,
           r->write ? "write" : "read", st);
    r->err = -1;
  } else if(!r->write)
    insl(SD_DATA, r->kva, PGSIZE / 4);
  r->done = 1;
  sd.head = r->next;
  wakeup(r);
  if(sd.head)
    sd_start(sd.head);
  release(&sd.lock);
}

// Read (write=0) or write page number page of the swap disk to or from
// the kernel page kva; sleeps until done. 0, or -1 if the drive reported
// an error or the page is past the end. Caller holds no spinlock.
int
swapdisk_rw(void *kva, uint page, int write)
{
  struct sdreq r, **pp;

  if(page >= sd.npages)
    return -1;
  r.kva = kva;
  r.page = page;
  r.write = write;
  r.done = 0;
  r.err = 0;
  r.next = 0;
  acquire(&sd.lock);
  for(pp = &sd.head; *pp; pp = &(*pp)->next)
    ;
  *pp = &r;
  if(sd.head == &r)
    sd_start(&r);
  while(!r.done)
    sleep(&r, &sd.lock);
  release(&sd.lock);
  return r.err;
}
