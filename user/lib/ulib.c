// String, memory and small file helpers for user programs.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"

char *
strcpy(char *dst, const char *src)
{
  char *d = dst;
  while ((*d++ = *src++) != 0)
    ;
  return dst;
}

// Copy at most n bytes; pads with NULs like the C library's strncpy.
char *
strncpy(char *dst, const char *src, int n)
{
  int i = 0;
  for (; i < n && src[i]; i++)
    dst[i] = src[i];
  for (; i < n; i++)
    dst[i] = 0;
  return dst;
}

char *
strcat(char *dst, const char *src)
{
  strcpy(dst + strlen(dst), src);
  return dst;
}

int
strcmp(const char *a, const char *b)
{
  while (*a && *a == *b)
    a++, b++;
  return (uchar)*a - (uchar)*b;
}

int
strncmp(const char *a, const char *b, int n)
{
  for (; n > 0; n--, a++, b++) {
    if (*a != *b || *a == 0)
      return (uchar)*a - (uchar)*b;
  }
  return 0;
}

int
strlen(const char *s)
{
  int n = 0;
  while (s[n])
    n++;
  return n;
}

char *
strchr(const char *s, char c)
{
  for (; *s; s++)
    if (*s == c)
      return (char *)s;
  return 0;
}

// The first place where needle occurs in hay, or 0.
char *
strstr(const char *hay, const char *needle)
{
  uint n = strlen(needle);

  for (; *hay; hay++)
    if (strncmp(hay, needle, n) == 0)
      return (char *)hay;
  return n == 0 ? (char *)hay : 0;
}

void *
memset(void *dst, int c, uint n)
{
  uchar *d = dst;
  while (n-- > 0)
    *d++ = c;
  return dst;
}

// Copy n bytes; the regions may overlap.
void *
memmove(void *dst, const void *src, int n)
{
  uchar *d = dst;
  const uchar *s = src;
  if (s < d && s + n > d) {
    while (n-- > 0)
      d[n] = s[n];
  } else {
    while (n-- > 0)
      *d++ = *s++;
  }
  return dst;
}

void *
memcpy(void *dst, const void *src, uint n)
{
  return memmove(dst, src, n);
}

int
memcmp(const void *a, const void *b, uint n)
{
  const uchar *x = a, *y = b;
  for (; n > 0; n--, x++, y++)
    if (*x != *y)
      return *x - *y;
  return 0;
}

// Decimal to int, with an optional leading '-'; stops at the first non-digit.
int
atoi(const char *s)
{
  int sign = 1, n = 0;
  if (*s == '-') {
    sign = -1;
    s++;
  }
  while (*s >= '0' && *s <= '9')
    n = n * 10 + (*s++ - '0');
  return sign * n;
}

// Read one line (including its newline) from fd 0 into buf, NUL-terminated.
// Returns buf; buf[0] == 0 at end of file.
char *
gets(char *buf, int max)
{
  int i = 0;
  char c;
  while (i + 1 < max) {
    if (read(0, &c, 1) < 1)
      break;
    buf[i++] = c;
    if (c == '\n' || c == '\r')
      break;
  }
  buf[i] = 0;
  return buf;
}

// fstat by path. Returns 0, or -1 with errno set.
int
stat(const char *path, struct stat *st)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return -1;
  int r = fstat(fd, st);
  close(fd);
  return r;
}

// Like stat, but a symbolic link is reported itself, not its target.
int
lstat(const char *path, struct stat *st)
{
  int fd = open(path, O_RDONLY | O_NOFOLLOW);
  if (fd < 0)
    return -1;
  int r = fstat(fd, st);
  close(fd);
  return r;
}

char *
strrchr(const char *s, char c)
{
  const char *last = 0;
  for (; *s; s++)
    if (*s == c)
      last = s;
  return (char *)last;
}
