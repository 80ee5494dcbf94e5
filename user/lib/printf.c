// Formatted output: printf(fmt, ...) to fd 1 and fprintf(fd, fmt, ...).
// Supports %d %u %x %p %s %c %% with an optional '0' or '-' (left-justify)
// flag and a field width, e.g. %5d %08x %-14s.
// Output is collected in a buffer so that one call is usually one write().
#include "kernel/types.h"
#include "user/user.h"
#include <stdarg.h>

struct outbuf {
  int fd;
  int len;
  int total;   // characters put so far
  char data[512];
};

static void
flush(struct outbuf *o)
{
  if (o->len > 0)
    write(o->fd, o->data, o->len);
  o->len = 0;
}

static void
put(struct outbuf *o, char c)
{
  if (o->len == sizeof(o->data))
    flush(o);
  o->data[o->len++] = c;
  o->total++;
}

// Emit an unsigned number in base 10 or 16, negative if neg, padded to
// width (on the right instead when pad is '-').
static void
putnum(struct outbuf *o, uint v, int base, int neg, int width, char pad)
{
  if (pad == '-') {
    int start = o->total;
    putnum(o, v, base, neg, 0, ' ');
    for (int n = o->total - start; n < width; n++)
      put(o, ' ');
    return;
  }
  char digits[16];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v);
  int len = n + (neg ? 1 : 0);
  if (neg && pad == '0')
    put(o, '-');
  for (; width > len; width--)
    put(o, pad);
  if (neg && pad != '0')
    put(o, '-');
  while (n > 0)
    put(o, digits[--n]);
}

static void
format(int fd, const char *fmt, va_list ap)
{
  struct outbuf o = { .fd = fd, .len = 0, .total = 0 };
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      put(&o, *fmt);
      continue;
    }
    fmt++;
    char pad = ' ';
    int width = 0;
    if (*fmt == '0' || *fmt == '-') {
      pad = *fmt;
      fmt++;
    }
    while (*fmt >= '0' && *fmt <= '9')
      width = width * 10 + (*fmt++ - '0');
    if (*fmt == 'l')   // %ld / %lu: int and long are the same size here
      fmt++;
    switch (*fmt) {
    case 'd': {
      int v = va_arg(ap, int);
      putnum(&o, v < 0 ? -(uint)v : (uint)v, 10, v < 0, width, pad);
      break;
    }
    case 'u':
      putnum(&o, va_arg(ap, uint), 10, 0, width, pad);
      break;
    case 'x':
      putnum(&o, va_arg(ap, uint), 16, 0, width, pad);
      break;
    case 'p':
      put(&o, '0');
      put(&o, 'x');
      putnum(&o, va_arg(ap, uint), 16, 0, 8, '0');
      break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      if (s == 0)
        s = "(null)";
      int len = strlen(s);
      for (; pad != '-' && width > len; width--)
        put(&o, ' ');
      while (*s)
        put(&o, *s++);
      for (; width > len; width--)
        put(&o, ' ');
      break;
    }
    case 'c':
      put(&o, (char)va_arg(ap, int));
      break;
    case 0:
      fmt--;
      break;
    default:
      put(&o, '%');
      put(&o, *fmt);
      break;
    }
  }
  flush(&o);
}

void
fprintf(int fd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  format(fd, fmt, ap);
  va_end(ap);
}

void
printf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  format(1, fmt, ap);
  va_end(ap);
}
