// Byte and string helpers for the kernel (no libc here).
#include "types.h"
#include "arch/x86.h"
#include "core/defs.h"

void *
memset(void *dst, int c, uint n)
{
  if(((uint)dst & 3) == 0 && (n & 3) == 0){
    uint b = c & 0xFF;
    stosl(dst, b | b << 8 | b << 16 | b << 24, n / 4);
  } else {
    stosb(dst, c, n);
  }
  return dst;
}

// Copy n bytes; the regions may overlap.
void *
memmove(void *dst, const void *src, uint n)
{
  const char *s = src;
  char *d = dst;

  if(s < d && s + n > d){
    // Overlap with dst above src: copy backwards.
    s += n;
    d += n;
    while(n-- > 0)
      *--d = *--s;
  } else {
    while(n-- > 0)
      *d++ = *s++;
  }
  return dst;
}

// gcc may emit calls to memcpy for structure copies, so it must exist.
void *
memcpy(void *dst, const void *src, uint n)
{
  return memmove(dst, src, n);
}

int
memcmp(const void *a, const void *b, uint n)
{
  const uchar *x = a, *y = b;

  for(; n > 0; n--, x++, y++)
    if(*x != *y)
      return *x - *y;
  return 0;
}

int
strlen(const char *s)
{
  int n = 0;
  while(s[n])
    n++;
  return n;
}

int
strncmp(const char *a, const char *b, uint n)
{
  for(; n > 0 && *a && *a == *b; n--, a++, b++)
    ;
  if(n == 0)
    return 0;
  return (uchar)*a - (uchar)*b;
}

// Copy at most n bytes of src; pads with NULs but may leave dst unterminated.
char *
strncpy(char *dst, const char *src, int n)
{
  int i = 0;

  for(; i < n && src[i]; i++)
    dst[i] = src[i];
  for(; i < n; i++)
    dst[i] = 0;
  return dst;
}

// Like strncpy, but always NUL-terminates (when n > 0) and does not pad.
char *
safestrcpy(char *dst, const char *src, int n)
{
  int i;

  if(n <= 0)
    return dst;
  for(i = 0; i < n - 1 && src[i]; i++)
    dst[i] = src[i];
  dst[i] = 0;
  return dst;
}
