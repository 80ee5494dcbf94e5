// crashwriter N [ROUNDS [LINES]]: keep rewriting N files so that the host
// can kill the machine in the middle and check what the disk holds after
// log recovery (tests/host/test_crash.py).
//
// Each boot first checks what the disk holds after recovery: for each file
// it prints "cw check I G" (whole, one generation G), "cw check I none"
// (no file yet) or "cw bad I: why". Then it bumps a boot counter B kept in
// /cw/boots. With ROUNDS
// given and B > ROUNDS it prints "cw done B" and exits 0 without writing
// anything else, so the host's last boot only recovers and powers off.
// Otherwise it loops for ever: for generation G = B*1000000+1, +2, ...
// and each i in 0..N-1 it overwrites /cw/fI in place with LINES (default
// 320, 4160 bytes) lines "gen=%08d\n" of G, in ONE write() call (one log
// transaction), then prints "cw gen I G". The files never change size, so
// after a crash each must hold a single generation, all of it.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"

#define LINELEN 13                // "gen=" + 8 digits + '\n'
#define MAXLINES 4000

// Put "gen=%08d\n" of g into p.
static void
fmt_line(char *p, int g)
{
  int i;

  memmove(p, "gen=", 4);
  for(i = 11; i >= 4; i--){
    p[i] = '0' + g % 10;
    g /= 10;
  }
  p[12] = '\n';
}

// Overwrite path with nlines lines of generation g in one write().
// Returns 0, or -1 after printing why.
static int
put(const char *path, char *buf, int nlines, int g)
{
  int fd, i, n, len = nlines * LINELEN;

  for(i = 0; i < nlines; i++)
    fmt_line(buf + i * LINELEN, g);
  fd = open(path, O_CREATE | O_WRONLY);
  if(fd < 0){
    printf("cw error: open %s: %s\n", path, strerror(errno));
    return -1;
  }
  n = write(fd, buf, len);
  if(n != len){
    printf("cw error: write %s returned %d (%s)\n", path, n, strerror(errno));
    close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

// The generation number in the first line of path, or 0 if unreadable.
static int
get(const char *path)
{
  char line[LINELEN];
  int fd, g, i;

  fd = open(path, O_RDONLY);
  if(fd < 0)
    return 0;
  if(read(fd, line, LINELEN) != LINELEN || memcmp(line, "gen=", 4) != 0){
    close(fd);
    return 0;
  }
  close(fd);
  g = 0;
  for(i = 4; i < 12; i++)
    g = g * 10 + (line[i] - '0');
  return g;
}

// Check that path holds exactly nlines identical well-formed lines; print
// the verdict (see the top of the file). buf holds nlines lines.
static void
check(int i, const char *path, char *buf, int nlines)
{
  int fd, n, got = 0, len = nlines * LINELEN, l;
  char extra;

  fd = open(path, O_RDONLY);
  if(fd < 0){
    printf("cw check %d none\n", i);
    return;
  }
  while(got < len && (n = read(fd, buf + got, len - got)) > 0)
    got += n;
  n = read(fd, &extra, 1);
  close(fd);
  if(got != len || n != 0){
    printf("cw bad %d: size %d%s, expected %d\n", i, got, n ? "+" : "", len);
    return;
  }
  for(l = 0; l < nlines; l++){
    if(memcmp(buf + l * LINELEN, buf, LINELEN) != 0){
      printf("cw bad %d: line %d differs from line 0\n", i, l);
      return;
    }
  }
  if(memcmp(buf, "gen=", 4) != 0 || buf[LINELEN - 1] != '\n'){
    printf("cw bad %d: garbled line\n", i);
    return;
  }
  for(l = 4; l < LINELEN - 1; l++){
    if(buf[l] < '0' || buf[l] > '9'){
      printf("cw bad %d: garbled line\n", i);
      return;
    }
  }
  printf("cw check %d %d\n", i, get(path));
}

// "/cw/f" followed by the decimal i.
static void
file_name(char *dst, int i)
{
  char digits[12];
  int n = 0;

  strcpy(dst, "/cw/f");
  do {
    digits[n++] = '0' + i % 10;
    i /= 10;
  } while(i > 0);
  dst += strlen(dst);
  while(n > 0)
    *dst++ = digits[--n];
  *dst = 0;
}

int
main(int argc, char **argv)
{
  int nfiles, rounds = -1, nlines = 320, boots, g, i;
  char path[32], *buf;

  if(argc < 2 || argc > 4 || (nfiles = atoi(argv[1])) < 1 || nfiles > 1000){
    fprintf(2, "usage: crashwriter N [ROUNDS [LINES]]\n");
    return 2;
  }
  if(argc > 2)
    rounds = atoi(argv[2]);
  if(argc > 3)
    nlines = atoi(argv[3]);
  if(nlines < 1 || nlines > MAXLINES){
    fprintf(2, "crashwriter: LINES must be 1..%d\n", MAXLINES);
    return 2;
  }
  buf = malloc(nlines * LINELEN);
  if(buf == 0){
    fprintf(2, "crashwriter: out of memory\n");
    return 1;
  }
  mkdir("/cw");                       // fails harmlessly if it exists
  for(i = 0; i < nfiles; i++){
    file_name(path, i);
    check(i, path, buf, nlines);
  }

  boots = get("/cw/boots") + 1;
  if(rounds >= 0 && boots > rounds){
    printf("cw done %d\n", boots);
    return 0;
  }
  if(put("/cw/boots", buf, 1, boots) < 0)
    return 1;
  printf("cw boot %d\n", boots);

  for(g = boots * 1000000 + 1; ; g++){
    for(i = 0; i < nfiles; i++){
      file_name(path, i);
      if(put(path, buf, nlines, g) < 0)
        return 1;
      printf("cw gen %d %d\n", i, g);
    }
  }
}
