// xargs [-n N] CMD [ARGS...]: run CMD ARGS plus words read from stdin:
// once per input line (a line with more words than fit in one run takes
// several), or with -n N for every N words. A failing run does not stop
// the rest; the exit status is 1 if any run failed, else 0.
#include "kernel/types.h"
#include "kernel/param.h"
#include "user/user.h"

static char **fixed;   // CMD ARGS...
static int nfixed;
static int failed;

// Run fixed args followed by words[0..n-1] and wait for it.
static void
run(char **words, int n)
{
  char **argv = malloc((nfixed + n + 1) * sizeof(char *));
  if (argv == 0) {
    fprintf(2, "xargs: out of memory\n");
    exit(1);
  }
  memmove(argv, fixed, nfixed * sizeof(char *));
  memmove(argv + nfixed, words, n * sizeof(char *));
  argv[nfixed + n] = 0;
  int pid = fork();
  if (pid < 0) {
    perror("xargs: fork");
    failed = 1;
  } else if (pid == 0) {
    exec(argv[0], argv);
    if (errno == ENOENT && strchr(argv[0], '/') == 0) {
      char *full = malloc(strlen(argv[0]) + 2);
      if (full) {
        full[0] = '/';
        strcpy(full + 1, argv[0]);
        exec(full, argv);
      }
    }
    fprintf(2, "xargs: %s: %s\n", argv[0], strerror(errno));
    exit(127);
  } else {
    int st;
    while (wait(&st) != pid)
      ;
    if (st != 0)
      failed = 1;
  }
  free(argv);
}

// Read one line from stdin into malloc'd memory; 0 at end of input.
static char *
read_line(void)
{
  int cap = 128, n = 0;
  char *line = malloc(cap);
  char c;
  int got = 0;
  while (line && read(0, &c, 1) == 1) {
    got = 1;
    if (c == '\n')
      break;
    if (n + 1 >= cap) {
      char *bigger = malloc(2 * cap);
      if (bigger)
        memmove(bigger, line, n);
      free(line);
      line = bigger;
      cap *= 2;
      if (line == 0)
        break;
    }
    line[n++] = c;
  }
  if (line == 0) {
    fprintf(2, "xargs: out of memory\n");
    exit(1);
  }
  if (!got) {
    free(line);
    return 0;
  }
  line[n] = 0;
  return line;
}

// Split line in place into words (at spaces, tabs and CRs); returns their
// number. words must have room for strlen(line) / 2 + 1 entries.
static int
split(char *line, char **words)
{
  int n = 0;
  char *s = line;
  while (*s) {
    while (*s == ' ' || *s == '\t' || *s == '\r')
      *s++ = 0;
    if (*s == 0)
      break;
    words[n++] = s;
    while (*s && *s != ' ' && *s != '\t' && *s != '\r')
      s++;
  }
  return n;
}

int
main(int argc, char **argv)
{
  int per_run = 0;       // 0: one run per line
  int i = 1;
  if (i + 1 < argc && strcmp(argv[i], "-n") == 0) {
    per_run = atoi(argv[i + 1]);
    if (per_run <= 0) {
      fprintf(2, "xargs: -n needs a positive number\n");
      return 1;
    }
    i += 2;
  }
  if (i >= argc) {
    fprintf(2, "usage: xargs [-n N] CMD [ARGS...]\n");
    return 1;
  }
  fixed = argv + i;
  nfixed = argc - i;
  if (nfixed + (per_run ? per_run : 1) > MAXARG) {   // room for a word
    fprintf(2, "xargs: too many arguments\n");
    return 1;
  }
  int room = MAXARG - nfixed;   // words one run can take
  char **pending = malloc(room * sizeof(char *));   // -n: words waiting
  int npending = 0;
  if (pending == 0) {
    fprintf(2, "xargs: out of memory\n");
    return 1;
  }
  char *line;
  while ((line = read_line()) != 0) {
    char **words = malloc((strlen(line) / 2 + 1) * sizeof(char *));
    if (words == 0) {
      fprintf(2, "xargs: out of memory\n");
      return 1;
    }
    int n = split(line, words);
    if (per_run == 0) {
      // a line too long for one run is run in several, as Unix xargs does
      for (int w = 0; w < n; w += room)
        run(words + w, n - w < room ? n - w : room);
      free(words);
      free(line);
      continue;
    }
    // -n: words must outlive the line, so copy each one.
    for (int w = 0; w < n; w++) {
      char *copy = malloc(strlen(words[w]) + 1);
      if (copy == 0) {
        fprintf(2, "xargs: out of memory\n");
        return 1;
      }
      strcpy(copy, words[w]);
      pending[npending++] = copy;
      if (npending == per_run) {
        run(pending, npending);
        while (npending > 0)
          free(pending[--npending]);
      }
    }
    free(words);
    free(line);
  }
  if (npending > 0)
    run(pending, npending);
  return failed;
}
