// 16550 serial ports: COM1 is a console (in and out), COM2 an output-only
// channel for raw trace bytes.
#include "types.h"
#include "param.h"
#include "arch/x86.h"
#include "arch/traps.h"
#include "core/defs.h"

#define COM1 0x3F8
#define COM2 0x2F8

// Register offsets from the port base.
#define UART_DATA 0     // receive / transmit (DLAB=0); divisor low (DLAB=1)
#define UART_IER  1     // interrupt enable; divisor high (DLAB=1)
#define UART_IIR  2     // interrupt identification (read)
#define UART_FCR  2     // FIFO control (write)
#define UART_LCR  3     // line control
#define UART_MCR  4     // modem control
#define UART_LSR  5     // line status

#define LCR_DLAB  0x80
#define LCR_8N1   0x03
#define MCR_DTR_RTS_OUT2 0x0B   // OUT2 gates the IRQ line on PCs
#define IER_RX    0x01
#define LSR_RX_READY 0x01
#define LSR_TX_EMPTY 0x20

static int com1_ok;             // a UART answered at COM1
static int com2_ok;

// Program a port for 115200 baud, 8N1, FIFOs on. Returns 0 if no UART.
static int
port_setup(ushort base)
{
  outb(base + UART_IER, 0);
  outb(base + UART_LCR, LCR_DLAB);
  outb(base + UART_DATA, 1);    // divisor 1: 115200 baud
  outb(base + UART_IER, 0);
  outb(base + UART_LCR, LCR_8N1);
  outb(base + UART_FCR, 0x07);  // enable and clear FIFOs
  outb(base + UART_MCR, MCR_DTR_RTS_OUT2);
  return inb(base + UART_LSR) != 0xFF;
}

// Make both ports usable for output. Safe to call before interrupts exist.
void
uart_early_init(void)
{
  com1_ok = port_setup(COM1);
  com2_ok = port_setup(COM2);
}

// Full set-up: also turn on COM1 receive interrupts (needs ioapic_init()).
void
uart_init(void)
{
  uart_early_init();
  if(!com1_ok)
    return;
  outb(COM1 + UART_IER, IER_RX);
  (void)inb(COM1 + UART_IIR);   // clear anything pending
  (void)inb(COM1 + UART_DATA);
  ioapic_enable(IRQ_COM1, 0);
}

static void
port_putc(ushort base, int c)
{
  int i;

  for(i = 0; i < 100000 && !(inb(base + UART_LSR) & LSR_TX_EMPTY); i++)
    cpu_relax();
  outb(base + UART_DATA, c);
}

// Send one byte to COM1.
void
uart_putc(int c)
{
  if(com1_ok)
    port_putc(COM1, c);
}

// Send n raw bytes to COM2 (trace dumps). Unlocked: the caller serialises.
void
uart2_write(const void *buf, uint n)
{
  const uchar *b = buf;

  if(!com2_ok)
    return;
  while(n-- > 0)
    port_putc(COM2, *b++);
}

// Next received byte on COM1, or -1 if none is waiting.
static int
uart_getc(void)
{
  if(!com1_ok || !(inb(COM1 + UART_LSR) & LSR_RX_READY))
    return -1;
  return inb(COM1 + UART_DATA);
}

// COM1 interrupt: hand every waiting byte to the console.
void
uart_intr(void)
{
  console_intr(uart_getc);
}
