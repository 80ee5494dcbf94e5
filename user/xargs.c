// xargs [-n N] CMD [ARGS...]: run CMD ARGS plus words read from stdin:
// once per input line (a line with more words or bytes than one exec
// takes, MAXARG and ARGMAX, runs in several), or with -n N for every N
// words. A failing run does not stop the rest; the exit status is 1 if any
// run failed, else 0.
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

// The next byte of stdin, read in blocks; -1 at the end (or an error).
static int
next_byte(void)
{
  static char buf[512];
  static int len, at;
  if (at == len) {
    len = read(0, buf, sizeof(buf));
    at = 0;
    if (len <= 0) {
      len = 0;
      return -1;
    }
  }
  return (uchar)buf[at++];
}

// Read one line from stdin into malloc'd memory; 0 at end of input.
static char *
read_line(void)
{
  int cap = 128, n = 0, c;
  char *line = malloc(cap);
  int got = 0;
  while (line && (c = next_byte()) >= 0) {
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

// Words waiting for a run, copied from their lines, and the bytes exec
// will need for them; a run takes at most limit words and ARGMAX bytes.
static char **pending;
static int npending, limit, fixed_bytes, pending_bytes;

// Bytes one argument takes in exec's budget: its string with the NUL,
// rounded up to 4, and its argv slot.
static int
arg_bytes(const char *s)
{
  return ((strlen(s) + 1 + 3) & ~3) + sizeof(char *);
}

// Run the pending words (if any) and forget them.
static void
flush(void)
{
  if (npending == 0)
    return;
  run(pending, npending);
  while (npending > 0)
    free(pending[--npending]);
  pending_bytes = 0;
}

// Queue a copy of word, running the queue first if the word would not
// fit in the same exec, and after if the queue is then full.
static void
add_word(const char *word)
{
  int b = arg_bytes(word);
  if (npending > 0 && fixed_bytes + pending_bytes + b > ARGMAX)
    flush();
  char *copy = malloc(strlen(word) + 1);
  if (copy == 0) {
    fprintf(2, "xargs: out of memory\n");
    exit(1);
  }
  strcpy(copy, word);
  pending[npending++] = copy;
  pending_bytes += b;
  if (npending == limit)
    flush();
}

int
main(int argc, char **argv)
{
  int per_run = 0;   // -n N: words per run; 0: one run per line
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
  fixed_bytes = sizeof(char *);                      // argv's final 0
  for (int k = 0; k < nfixed; k++)
    fixed_bytes += arg_bytes(fixed[k]);
  limit = per_run ? per_run : MAXARG - nfixed;
  pending = malloc(limit * sizeof(char *));
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
    for (int w = 0; w < n; w++)
      add_word(words[w]);
    if (per_run == 0)
      flush();       // one run per line (several if it is too long for one)
    free(words);
    free(line);
  }
  flush();
  return failed;
}
