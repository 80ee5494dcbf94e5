// grep PATTERN [FILE...]: print the lines that match PATTERN.
// Patterns: literal characters, '.' (any character), 'c*' (zero or more of
// the item before), '^' (start of line, first only), '$' (end, last only),
// '\c' (c literally). Exit status 0 if a line matched, 1 if none, 2 on error.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/stat.h"
#include "user/user.h"

struct item {
  char c;      // the character to match (unless any)
  char any;    // '.'
  char star;   // followed by '*': repeat zero or more times
};

struct pattern {
  struct item *items;
  int n;
  int at_start, at_end;   // anchored by '^' / '$'
};

// Translate the pattern text into items. Returns 0, or -1 if malformed.
static int
compile(const char *re, struct pattern *p)
{
  int len = strlen(re);
  p->items = malloc((len + 1) * sizeof(struct item));
  p->n = 0;
  p->at_start = p->at_end = 0;
  if (p->items == 0)
    return -1;
  if (*re == '^') {
    p->at_start = 1;
    re++;
  }
  while (*re) {
    if (re[0] == '$' && re[1] == 0) {
      p->at_end = 1;
      break;
    }
    struct item *it = &p->items[p->n];
    it->any = it->star = 0;
    if (*re == '\\' && re[1]) {
      it->c = re[1];
      re += 2;
    } else if (*re == '*') {
      return -1;              // nothing to repeat
    } else {
      it->any = *re == '.';
      it->c = *re++;
    }
    if (*re == '*') {
      it->star = 1;
      re++;
    }
    p->n++;
  }
  return 0;
}

static int
item_ok(struct item *it, char c)
{
  return c != 0 && (it->any || it->c == c);
}

// Do items i.. match text from its start (to its end if anchored)?
static int
match_from(struct pattern *p, int i, const char *text)
{
  for (; i < p->n; i++) {
    struct item *it = &p->items[i];
    if (it->star) {
      // Take as many as possible, then give them back one by one.
      int k = 0;
      while (item_ok(it, text[k]))
        k++;
      for (; k >= 0; k--)
        if (match_from(p, i + 1, text + k))
          return 1;
      return 0;
    }
    if (!item_ok(it, *text))
      return 0;
    text++;
  }
  return !p->at_end || *text == 0;
}

static int
matches(struct pattern *p, const char *line)
{
  if (p->at_start)
    return match_from(p, 0, line);
  for (;; line++) {
    if (match_from(p, 0, line))
      return 1;
    if (*line == 0)
      return 0;
  }
}

static char buf[4096];

// Print fd's matching lines (prefixed "name:" if prefix). Sets *found.
// Returns 0, or 2 on a read error.
static int
grep(struct pattern *p, int fd, const char *name, int prefix, int *found)
{
  int cap = 256, len = 0, n;
  char *line = malloc(cap);
  if (line == 0)
    return 2;
  for (;;) {
    n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      fprintf(2, "grep: %s: %s\n", name, strerror(errno));
      free(line);
      return 2;
    }
    for (int i = 0; i < n || (n == 0 && len > 0); i++) {
      char c = n == 0 ? '\n' : buf[i];   // a last line without newline
      if (c != '\n') {
        if (len + 2 > cap) {
          char *bigger = malloc(cap * 2);
          if (bigger == 0) {
            free(line);
            return 2;
          }
          memmove(bigger, line, len);
          free(line);
          line = bigger;
          cap *= 2;
        }
        line[len++] = c;
        continue;
      }
      line[len] = 0;
      if (matches(p, line)) {
        *found = 1;
        if (prefix)
          printf("%s:%s\n", name, line);
        else
          printf("%s\n", line);
      }
      len = 0;
    }
    if (n == 0)
      break;
  }
  free(line);
  return 0;
}

int
main(int argc, char **argv)
{
  struct pattern p;
  if (argc < 2) {
    fprintf(2, "usage: grep PATTERN [FILE...]\n");
    return 2;
  }
  if (compile(argv[1], &p) < 0) {
    fprintf(2, "grep: bad pattern: %s\n", argv[1]);
    return 2;
  }
  int found = 0, err = 0;
  if (argc == 2)
    err = grep(&p, 0, "stdin", 0, &found);
  for (int i = 2; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "grep: %s: %s\n", argv[i], strerror(errno));
      err = 2;
      continue;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && st.type == T_DIR) {
      fprintf(2, "grep: %s: is a directory\n", argv[i]);
      err = 2;
      close(fd);
      continue;
    }
    if (grep(&p, fd, argv[i], argc > 3, &found))
      err = 2;
    close(fd);
  }
  if (err)
    return 2;
  return found ? 0 : 1;
}
