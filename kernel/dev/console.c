// The console: output to the CGA text screen and COM1, line-edited input
// from the keyboard and COM1, kernel printf() and panic().
#include <stdarg.h>
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "arch/x86.h"
#include "errno.h"
#include "arch/traps.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "fs/file.h"
#include "core/defs.h"
#include "trace/trace.h"

volatile int panicked;           // set once a CPU has panicked: output freezes
static volatile int panic_apic = -1; // the CPU that panicked (it may still print)

static struct {
  struct spinlock lock;
  int locking;                   // 0 while panicking: print without the lock
} cons = { .lock = { .name = "console" }, .locking = 1 };

// ---- CGA text screen --------------------------------------------------
#define CGA_COLS  80
#define CGA_ROWS  25
#define CGA_ATTR  0x0700         // light grey on black
#define CRTC_INDEX 0x3D4
#define CRTC_DATA  0x3D5

static ushort *cga = (ushort *)P2V(0xB8000);

static int
cga_get_cursor(void)
{
  int pos;
  outb(CRTC_INDEX, 14);
  pos = inb(CRTC_DATA) << 8;
  outb(CRTC_INDEX, 15);
  return pos | inb(CRTC_DATA);
}

static void
cga_set_cursor(int pos)
{
  outb(CRTC_INDEX, 14);
  outb(CRTC_DATA, pos >> 8);
  outb(CRTC_INDEX, 15);
  outb(CRTC_DATA, pos);
}

// Put c on the screen at the cursor; handles newline, backspace, scrolling.
static void
cga_putc(int c)
{
  int pos = cga_get_cursor();

  if(c == '\n'){
    pos += CGA_COLS - pos % CGA_COLS;
  } else if(c == '\b'){
    if(pos > 0)
      pos--;
  } else {
    cga[pos++] = (c & 0xFF) | CGA_ATTR;
  }
  if(pos < 0 || pos > CGA_ROWS * CGA_COLS)
    pos = 0;
  if(pos >= CGA_ROWS * CGA_COLS){
    memmove(cga, cga + CGA_COLS, sizeof(cga[0]) * (CGA_ROWS - 1) * CGA_COLS);
    pos -= CGA_COLS;
    memset(cga + pos, 0, sizeof(cga[0]) * (CGA_ROWS * CGA_COLS - pos));
  }
  cga_set_cursor(pos);
  cga[pos] = ' ' | CGA_ATTR;
}

// ---- output ---------------------------------------------------------------
#define BACKSPACE 0x100          // erase the previous character on screen

// Write one character to both screens. After a panic elsewhere, stop here.
static void
cons_putc(int c)
{
  if(panicked && lapic_id() != panic_apic){
    cli();
    for(;;)
      hlt();
  }
  if(c == BACKSPACE){
    uart_putc('\b'); uart_putc(' '); uart_putc('\b');
    cga_putc('\b'); cga_putc(' '); cga_putc('\b');
  } else {
    uart_putc(c);
    cga_putc(c);
  }
}

static void
print_uint(uint x, int base)
{
  static const char digits[] = "0123456789abcdef";
  char buf[12];
  int i = 0;

  do {
    buf[i++] = digits[x % base];
    x /= base;
  } while(x != 0);
  while(--i >= 0)
    cons_putc(buf[i]);
}

// Print fmt with %d %u %x %p %s %c %% to the console.
void
printf(const char *fmt, ...)
{
  va_list ap;
  int locking = cons.locking;
  const char *s;
  int c;

  if(locking)
    acquire(&cons.lock);
  va_start(ap, fmt);
  for(; (c = *fmt & 0xFF) != 0; fmt++){
    if(c != '%'){
      cons_putc(c);
      continue;
    }
    c = *++fmt & 0xFF;
    switch(c){
    case 'd': {
      int v = va_arg(ap, int);
      if(v < 0){
        cons_putc('-');
        print_uint(-(uint)v, 10);
      } else {
        print_uint(v, 10);
      }
      break;
    }
    case 'u':
      print_uint(va_arg(ap, uint), 10);
      break;
    case 'x':
      print_uint(va_arg(ap, uint), 16);
      break;
    case 'p':
      cons_putc('0'); cons_putc('x');
      print_uint(va_arg(ap, uint), 16);
      break;
    case 's':
      s = va_arg(ap, const char *);
      if(s == 0)
        s = "(null)";
      for(; *s; s++)
        cons_putc(*s);
      break;
    case 'c':
      cons_putc(va_arg(ap, int));
      break;
    case '%':
      cons_putc('%');
      break;
    case 0:                      // '%' at the end of fmt
      fmt--;
      break;
    default:                     // unknown: show it as written
      cons_putc('%');
      cons_putc(c);
      break;
    }
  }
  va_end(ap);
  if(locking)
    release(&cons.lock);
}

// Print "panic: msg" and a call trace, stop every other CPU, halt.
void
panic(const char *msg)
{
  uint pcs[10];
  int i;

  cli();
  cons.locking = 0;              // the lock may be what we died holding
  printf("panic: %s\n", msg);
  getcallerpcs(&msg, pcs);
  printf("  cpu %d, stack:", lapic_id());
  for(i = 0; i < 10 && pcs[i]; i++)
    printf(" %p", pcs[i]);
  printf("\n");
  panic_apic = lapic_id();
  panicked = 1;
  lapic_nmi_others();
  trace_panic_dump();            // the flight recorder: what led here
  for(;;)
    hlt();
}

// ---- input ------------------------------------------------------------
#define INPUT_SIZE 128
#define C(x) ((x) - '@')         // control-x

// Typed characters wait in a ring buffer: [r, w) are complete lines ready
// for console_read, [w, e) the line still being edited.
static struct {
  char buf[INPUT_SIZE];
  uint r;                        // next to read
  uint w;                        // end of committed input
  uint e;                        // end of the edit line
} in;

// Take characters from getc() until it returns -1, applying line editing.
// Called from interrupt handlers.
void
console_intr(int (*getc)(void))
{
  int c, want_procdump = 0, want_tracedump = 0;

  acquire(&cons.lock);
  while((c = getc()) >= 0){
    switch(c){
    case 0:
      break;
    case C('P'):
      want_procdump = 1;         // procdump() takes other locks: do it later
      break;
    case C('T'):
      want_tracedump = 1;        // dump the trace buffers to COM2, later
      break;
    case C('U'):                 // kill the line being edited
      while(in.e != in.w && in.buf[(in.e - 1) % INPUT_SIZE] != '\n'){
        in.e--;
        cons_putc(BACKSPACE);
      }
      break;
    case C('H'):
    case 0x7F:                   // backspace / delete
      if(in.e != in.w){
        in.e--;
        cons_putc(BACKSPACE);
      }
      break;
    default:
      if(in.e - in.r >= INPUT_SIZE)
        break;                   // buffer full: drop it
      if(c == '\r')
        c = '\n';
      in.buf[in.e++ % INPUT_SIZE] = c;
      if(c != C('D'))
        cons_putc(c);
      if(c == '\n' || c == C('D') || in.e - in.r == INPUT_SIZE){
        in.w = in.e;
        wakeup(&in.r);
      }
      break;
    }
  }
  release(&cons.lock);
  if(want_procdump)
    procdump();
  if(want_tracedump)
    trace_console_dump();
}

// devsw read: copy up to n bytes of the next input line to dst. Blocks
// until a line (or ^D) is there. Like a Unix tty, ^D hands over what was
// typed so far; ^D at the start of a line means end of file (returns 0).
// The copy to dst happens without the console lock held, since it may
// fault in a page.
static int
console_read(int user_dst, uint dst, int n)
{
  char kbuf[INPUT_SIZE];
  int got = 0, r;
  char c;

  if(n <= 0)
    return 0;
  if(n > (int)sizeof(kbuf))
    n = sizeof(kbuf);
  acquire(&cons.lock);
  while(in.r == in.w){
    if(myproc() && killed(myproc())){
      release(&cons.lock);
      return -EINTR;
    }
    sleep(&in.r, &cons.lock);
  }
  while(got < n && in.r != in.w){
    c = in.buf[in.r++ % INPUT_SIZE];
    if(c == C('D'))              // ends the read; alone, it is end of file
      break;
    kbuf[got++] = c;
    if(c == '\n')
      break;
  }
  release(&cons.lock);
  if(got > 0 && (r = either_copyout(user_dst, dst, kbuf, got)) < 0)
    return r;                    // -EFAULT or -ENOMEM
  return got;
}

// devsw write: show n bytes from src. Returns n, or -EFAULT if nothing
// could be copied.
static int
console_write(int user_src, uint src, int n)
{
  char chunk[128];
  int done = 0, k, i, r;

  while(done < n){
    k = n - done < (int)sizeof(chunk) ? n - done : (int)sizeof(chunk);
    if((r = either_copyin(chunk, user_src, src + done, k)) < 0)
      return done > 0 ? done : r;   // -EFAULT or -ENOMEM
    acquire(&cons.lock);
    for(i = 0; i < k; i++)
      cons_putc(chunk[i] & 0xFF);
    release(&cons.lock);
    done += k;
  }
  return done;
}

// Register the console device and turn on keyboard interrupts.
void
console_init(void)
{
  initlock(&cons.lock, "console");
  cons.locking = 1;
  devsw[CONSOLE].read = console_read;
  devsw[CONSOLE].write = console_write;
  ioapic_enable(IRQ_KBD, 0);
}
