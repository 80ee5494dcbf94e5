// Formatted output: printf(fmt, ...) to fd 1, fprintf(fd, fmt, ...), and
// snprintf(buf, size, fmt, ...) into memory (plus the va_list forms).
// Supports %d %u %x %p %s %c %% with an optional '0' or '-' (left-justify)
// flag and a field width, e.g. %5d %08x %-14s.
// Output to a file is collected in a buffer so that one call is usually
// one write().
#include "kernel/types.h"
#include "user/user.h"

struct outbuf {
  int fd;       // destination file, or -1 when writing into str
  char *str;    // destination string (fd == -1)
  int size;     // bytes available at str, including the final NUL
  int len;      // bytes pending in data (fd) or stored at str
  int total;    // characters produced so far
  char data[512];
};

static void
flush(struct outbuf *o)
{
  if (o->fd >= 0 && o->len > 0)
    write(o->fd, o->data, o->len);
  if (o->fd >= 0)
    o->len = 0;
}

static void
put(struct outbuf *o, char c)
{
  o->total++;
  if (o->fd < 0) {
    if (o->len + 1 < o->size)
      o->str[o->len++] = c;
    return;
  }
  if (o->len == sizeof(o->data))
    flush(o);
  o->data[o->len++] = c;
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

// The formatting engine shared by all the entry points.
static void
format(struct outbuf *o, const char *fmt, va_list ap)
{
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      put(o, *fmt);
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
      putnum(o, v < 0 ? -(uint)v : (uint)v, 10, v < 0, width, pad);
      break;
    }
    case 'u':
      putnum(o, va_arg(ap, uint), 10, 0, width, pad);
      break;
    case 'x':
      putnum(o, va_arg(ap, uint), 16, 0, width, pad);
      break;
    case 'p':
      put(o, '0');
      put(o, 'x');
      putnum(o, va_arg(ap, uint), 16, 0, 8, '0');
      break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      if (s == 0)
        s = "(null)";
      int len = strlen(s);
      for (; pad != '-' && width > len; width--)
        put(o, ' ');
      while (*s)
        put(o, *s++);
      for (; width > len; width--)
        put(o, ' ');
      break;
    }
    case 'c':
      put(o, (char)va_arg(ap, int));
      break;
    case 0:
      fmt--;
      break;
    case '%':
      put(o, '%');
      break;
    default:      // unknown conversion: print it as written
      put(o, '%');
      put(o, *fmt);
      break;
    }
  }
}

void
vfprintf(int fd, const char *fmt, va_list ap)
{
  struct outbuf o;
  o.fd = fd;
  o.len = o.total = 0;
  format(&o, fmt, ap);
  flush(&o);
}

void
fprintf(int fd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfprintf(fd, fmt, ap);
  va_end(ap);
}

void
printf(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfprintf(1, fmt, ap);
  va_end(ap);
}

// Format into buf (at most size-1 characters and a NUL). Returns the length
// the whole output would have had.
int
vsnprintf(char *buf, int size, const char *fmt, va_list ap)
{
  struct outbuf o;
  o.fd = -1;
  o.str = buf;
  o.size = size;
  o.len = o.total = 0;
  format(&o, fmt, ap);
  if (size > 0)
    buf[o.len] = 0;
  return o.total;
}

int
snprintf(char *buf, int size, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}
