// PIO driver for the primary ATA channel. Disk 0 (master) is the boot disk,
// disk 1 (slave) the file system. A buf's dev picks the drive. Requests wait
// in a FIFO queue; the head is on the controller. Both drives are set to
// "multiple" mode with one block's worth of sectors per data transfer, so a
// whole block moves through the data port at once and costs one interrupt
// (sector-at-a-time PIO costs one per sector, which an emulator makes slow).
#include "types.h"
#include "param.h"
#include "errno.h"
#include "arch/x86.h"
#include "arch/traps.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "fs/buf.h"
#include "core/defs.h"

// Primary-channel registers (I/O ports).
#define ATA_DATA     0x1F0
#define ATA_ERROR    0x1F1
#define ATA_COUNT    0x1F2
#define ATA_LBA0     0x1F3
#define ATA_LBA1     0x1F4
#define ATA_LBA2     0x1F5
#define ATA_DRIVE    0x1F6   // 0xE0 | drive<<4 | LBA bits 24..27
#define ATA_STATUS   0x1F7   // read
#define ATA_CMD      0x1F7   // write
#define ATA_CTRL     0x3F6   // device control: 0 = interrupts on

#define ST_BSY  0x80
#define ST_DRDY 0x40
#define ST_DF   0x20
#define ST_DRQ  0x08
#define ST_ERR  0x01

#define CMD_READ_MULT  0xC4  // READ MULTIPLE: one interrupt per data block
#define CMD_WRITE_MULT 0xC5  // WRITE MULTIPLE
#define CMD_SET_MULT   0xC6  // SET MULTIPLE MODE: sectors per data block
#define CMD_IDENTIFY   0xEC  // IDENTIFY DEVICE: 256 words about the drive

#define SECTSIZE   512
#define SECTS_PER_BLOCK (BSIZE / SECTSIZE)
#define LBA28_SECTORS (1u << 28)   // sectors a 28-bit disk address can name

static struct {
  struct spinlock lock;      // guards the queue and the fields below
  struct buf *head;          // request in progress; its qnext follow
  int present[2];            // which drives answered at boot
  uint nblocks[2];           // blocks on each drive (IDENTIFY), within LBA28
} ide;

// Spin until the controller is not busy. Returns 0, or -1 if it reports
// an error or a device fault.
static int
ide_wait(void)
{
  int st;

  while(((st = inb(ATA_STATUS)) & (ST_BSY | ST_DRDY)) != ST_DRDY)
    if((st & ST_BSY) == 0 && (st & (ST_ERR | ST_DF)))
      return -1;
  return (st & (ST_ERR | ST_DF)) ? -1 : 0;
}

// Select drive and look for a status other than "nothing there".
static int
ide_probe(int drive)
{
  int i;

  outb(ATA_DRIVE, 0xE0 | (drive << 4));
  for(i = 0; i < 1000; i++)
    if(inb(ATA_STATUS) != 0)
      return 1;
  return 0;
}

// Ask a drive to move SECTS_PER_BLOCK sectors per data transfer, polling
// with its interrupt masked. Returns 0, or -1 if the drive is not ready or
// refuses (every request depends on it: the drive is then not used).
static int
ide_set_multiple(int drive)
{
  outb(ATA_CTRL, 2);                   // nIEN: no interrupt for this one
  outb(ATA_DRIVE, 0xE0 | (drive << 4));
  if(ide_wait() < 0)
    return -1;
  outb(ATA_COUNT, SECTS_PER_BLOCK);
  outb(ATA_CMD, CMD_SET_MULT);
  return ide_wait();
}

// Ask a drive how many sectors it has (IDENTIFY words 60-61: the sectors
// 28-bit addresses reach), polling with its interrupt masked. Returns the
// whole blocks, or 0 if the drive does not say.
static uint
ide_identify(int drive)
{
  ushort id[256];
  uint sectors;

  outb(ATA_CTRL, 2);
  outb(ATA_DRIVE, 0xE0 | (drive << 4));
  if(ide_wait() < 0)
    return 0;
  outb(ATA_CMD, CMD_IDENTIFY);
  if(ide_wait() < 0 || (inb(ATA_STATUS) & ST_DRQ) == 0)
    return 0;
  insl(ATA_DATA, id, sizeof(id) / 4);
  sectors = id[60] | ((uint)id[61] << 16);
  if(sectors > LBA28_SECTORS)
    sectors = LBA28_SECTORS;
  return sectors / SECTS_PER_BLOCK;
}

// Blocks on disk dev; 0 if there is no such disk.
uint
ide_blocks(uint dev)
{
  return dev < 2 && ide.present[dev] ? ide.nblocks[dev] : 0;
}

void
ide_init(void)
{
  initlock(&ide.lock, "ide");
  ioapic_enable(IRQ_IDE, ncpu - 1);
  ide_wait();
  ide.present[1] = ide_probe(1);
  ide.present[0] = 1;
  for(int d = 0; d < 2; d++)
    if(ide.present[d]){
      ide.nblocks[d] = ide_identify(d);
      if(ide_set_multiple(d) < 0){
        printf("ide: disk %d refused multiple mode: not used\n", d);
        ide.present[d] = 0;
      }
    }
  outb(ATA_DRIVE, 0xE0);
  outb(ATA_CTRL, 0);
  if(!ide.present[1])
    printf("ide: no disk 1 (file system)\n");
}

// Program the controller for the queue head. Caller holds ide.lock.
static void
ide_start(struct buf *b)
{
  uint sector = b->blockno * SECTS_PER_BLOCK;
  int st;

  ide_wait();
  outb(ATA_CTRL, 0);
  outb(ATA_COUNT, SECTS_PER_BLOCK);
  outb(ATA_LBA0, sector & 0xFF);
  outb(ATA_LBA1, (sector >> 8) & 0xFF);
  outb(ATA_LBA2, (sector >> 16) & 0xFF);
  outb(ATA_DRIVE, 0xE0 | ((b->dev & 1) << 4) | ((sector >> 24) & 0x0F));
  if(b->dirty){
    outb(ATA_CMD, CMD_WRITE_MULT);
    while(((st = inb(ATA_STATUS)) & (ST_BSY | ST_DRQ)) != ST_DRQ)
      if((st & ST_BSY) == 0 && (st & (ST_ERR | ST_DF)))
        return;                  // refused: its interrupt reports the error
    outsl(ATA_DATA, b->data, BSIZE / 4);  // the whole block goes now
  } else {
    outb(ATA_CMD, CMD_READ_MULT);
  }
}

// Interrupt: the head request's block has been read (and waits in the data
// port) or written. Mark it, wake its waiter and start the next request.
void
ide_intr(void)
{
  struct buf *b;
  int st;

  acquire(&ide.lock);
  if((b = ide.head) == 0){
    inb(ATA_STATUS);             // acknowledge a stray interrupt
    release(&ide.lock);
    return;
  }
  st = inb(ATA_STATUS);          // reading status acknowledges the interrupt
  if(st & (ST_ERR | ST_DF)){
    // The request failed: ide_rw returns -EIO. A failed read leaves b
    // not valid; a failed write leaves b's data as it was (newer than
    // the disk): the caller decides (the log does not commit).
    printf("ide: disk %d block %d: %s error (status 0x%x)\n", b->dev, b->blockno,
           b->dirty ? "write" : "read", st);
    b->ioerr = 1;
  } else {
    if(!b->dirty)
      insl(ATA_DATA, b->data, BSIZE / 4);
    b->valid = 1;
  }
  b->dirty = 0;
  b->inflight = 0;
  ide.head = b->qnext;
  wakeup(b);
  if(ide.head)
    ide_start(ide.head);
  release(&ide.lock);
}

// Read b from disk if it is not valid, or write it if it is dirty; sleep
// until done. Returns 0, or -EIO if the disk reported an error or the
// block is not on the disk (b is then left not valid after a read, and
// not dirty either way). Caller holds b->lock.
int
ide_rw(struct buf *b)
{
  struct buf **pp;
  int err;

  if(!holdingsleep(&b->lock))
    panic("ide_rw: buf not locked");
  if(b->valid && !b->dirty)
    panic("ide_rw: nothing to do");
  if(b->dev > 1 || !ide.present[b->dev]){
    b->dirty = 0;
    return -EIO;               // (the boot said "no disk N")
  }
  // A block past the end of the disk, or one whose sector number would
  // wrap the 28-bit disk address onto another block, is never sent to the
  // drive. The file system checks its block numbers first (fscheck.c), so
  // this is the last line of defence: both fail with -EIO, reported.
  if((ide.nblocks[b->dev] && b->blockno >= ide.nblocks[b->dev]) ||
     b->blockno >= LBA28_SECTORS / SECTS_PER_BLOCK){
    printf("ide: disk %d block %d: past the end of the disk (%d blocks)\n",
           b->dev, b->blockno, ide.nblocks[b->dev]);
    b->dirty = 0;
    return -EIO;
  }

  acquire(&ide.lock);
  b->qnext = 0;
  b->ioerr = 0;
  b->inflight = 1;
  for(pp = &ide.head; *pp; pp = &(*pp)->qnext)
    ;
  *pp = b;
  if(ide.head == b)
    ide_start(b);
  while(b->inflight)
    sleep(b, &ide.lock);
  err = b->ioerr;
  release(&ide.lock);
  return err ? -EIO : 0;
}
