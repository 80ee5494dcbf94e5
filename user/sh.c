// sh: the command interpreter.
//   sh           read commands from stdin; prompt "$ " when stdin is the console
//   sh FILE      run the commands in FILE
//   sh -c CMD    run the command line CMD
// Each input line is split into tokens, parsed by recursive descent into a
// command tree, and run. Grammar:
//   list     := pipeline { (';' | '&' | newline) pipeline } [';' | '&']
//   pipeline := command { '|' command }
//   command  := '(' list ')' { redir }  |  { word | redir }+
//   redir    := [digit] ('<' | '>' | '>>') word  |  [digit] '>&' digit
// Newlines may also follow '|' and '('; a command left open at the end of
// a line (open quote or parenthesis, trailing '|') continues on the next.
// Words may be quoted with '...' or "..." ('\' escapes " and \ inside "...");
// '#' at the start of a word begins a comment.
// Redirections may name the fd: 2>file, 2>>file, 2>&1. A command name
// without '/' is looked up in "/" first, then in the current directory.
// Builtins: cd [DIR], exit [N], wait (for every background command).
// The status of a list is its last command's.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"

// ---- memory: an arena per input line, freed at once after running it ----

struct block {
  struct block *next;
  int used, cap;
  char data[];
};

static struct block *arena;

static void
nomem(void)
{
  fprintf(2, "sh: out of memory\n");
  exit(1);
}

// Zeroed memory that lives until arena_reset().
static void *
alloc(int n)
{
  n = (n + 7) & ~7;
  if (arena == 0 || arena->used + n > arena->cap) {
    int cap = n > 4000 ? n : 4000;
    struct block *b = malloc(sizeof(struct block) + cap);
    if (b == 0)
      nomem();
    b->next = arena;
    b->used = 0;
    b->cap = cap;
    arena = b;
  }
  void *p = arena->data + arena->used;
  arena->used += n;
  memset(p, 0, n);
  return p;
}

static void
arena_reset(void)
{
  while (arena) {
    struct block *b = arena;
    arena = b->next;
    free(b);
  }
}

// ---- tokens ----

enum { TK_WORD, TK_PIPE, TK_SEMI, TK_NL, TK_AMP, TK_LPAREN, TK_RPAREN, TK_REDIR, TK_END };

struct token {
  int kind;
  char *text;   // TK_WORD: the word; otherwise the operator as typed
  int fd;       // TK_REDIR: which fd is redirected
  int mode;     // TK_REDIR: '<', '>', 'a' (>>) or 'd' (>&N)
  int target;   // TK_REDIR 'd': the fd duplicated
};

static int
isspace(char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

static int
isdigit(char c)
{
  return c >= '0' && c <= '9';
}

// Characters that end a word (outside quotes).
static int
isspecial(char c)
{
  return c == 0 || isspace(c) || c == '\n' || strchr("|;&()<>", c) != 0;
}

// Scan one word starting at *sp into newly allocated text; handles '...',
// "..." and backslash escapes. Returns 0 on an unterminated quote.
static char *
lex_word(char **sp)
{
  char *s = *sp;
  char *w = alloc(strlen(s) + 1), *o = w;
  while (!isspecial(*s)) {
    if (*s == '\'' || *s == '"') {
      char q = *s++;
      while (*s && *s != q) {
        if (q == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
          s++;
        *o++ = *s++;
      }
      if (*s != q)
        return 0;
      s++;
    } else if (*s == '\\' && s[1]) {
      *o++ = s[1];
      s += 2;
    } else {
      *o++ = *s++;
    }
  }
  *o = 0;
  *sp = s;
  return w;
}

// Split line into tokens (ending with TK_END). Returns the array, or 0 if
// the line cannot be split: after printing a message, or silently with
// *more set when more input could complete it (an open quote) and quiet.
static struct token *
lex(char *s, int quiet, int *more)
{
  int cap = 16, n = 0;
  struct token *t = alloc(cap * sizeof(*t));
  for (;;) {
    while (isspace(*s))
      s++;
    if (*s == '#')               // comment: the rest of the line
      while (*s && *s != '\n')
        s++;
    if (n + 1 >= cap) {
      struct token *bigger = alloc(2 * cap * sizeof(*t));
      memmove(bigger, t, n * sizeof(*t));
      t = bigger;
      cap *= 2;
    }
    struct token *k = &t[n++];
    char *start = s;
    if (*s == 0) {
      k->kind = TK_END;
      k->text = "end of line";
      return t;
    }
    if (isdigit(s[0]) && (s[1] == '<' || s[1] == '>')) {
      k->fd = *s++ - '0';
    } else {
      k->fd = *s == '<' ? 0 : 1;
    }
    switch (*s) {
    case '|': k->kind = TK_PIPE; s++; break;
    case ';': k->kind = TK_SEMI; s++; break;
    case '\n': k->kind = TK_NL; k->text = "newline"; s++; continue;
    case '&': k->kind = TK_AMP; s++; break;
    case '(': k->kind = TK_LPAREN; s++; break;
    case ')': k->kind = TK_RPAREN; s++; break;
    case '<':
      k->kind = TK_REDIR;
      k->mode = '<';
      s++;
      break;
    case '>':
      k->kind = TK_REDIR;
      k->mode = '>';
      s++;
      if (*s == '>') {
        k->mode = 'a';
        s++;
      } else if (*s == '&') {
        if (!isdigit(s[1]) || !isspecial(s[2])) {
          fprintf(2, "sh: bad redirection\n");
          return 0;
        }
        k->mode = 'd';
        k->target = s[1] - '0';
        s += 2;
      }
      break;
    default:
      k->kind = TK_WORD;
      if ((k->text = lex_word(&s)) == 0) {
        if (quiet)
          *more = 1;
        else
          fprintf(2, "sh: unterminated quote\n");
        return 0;
      }
      continue;
    }
    k->text = alloc(s - start + 1);
    memmove(k->text, start, s - start);
  }
}

// ---- command tree and parser ----

enum { N_EXEC, N_PIPE, N_SEQ, N_BACK, N_SUB };

struct redir {
  struct redir *next;
  int fd, mode, target;
  char *file;
};

struct node {
  int kind;
  int argc;
  char **argv;              // N_EXEC, null-terminated
  struct redir *redirs;     // N_EXEC, N_SUB, in order
  struct node *left, *right;
};

struct parser {
  struct token *tok;
  int pos;
  int failed;
  int quiet;   // a syntax error at the end of the input is not reported...
  int more;    // ...but noted here: more input might complete the command
};

static struct node *parse_list(struct parser *p);

static struct token *
peek(struct parser *p)
{
  return &p->tok[p->pos];
}

static struct token *
next(struct parser *p)
{
  struct token *t = &p->tok[p->pos];
  if (t->kind != TK_END)
    p->pos++;
  return t;
}

// Report a syntax error at the current token (only the first one).
static void
syntax(struct parser *p)
{
  if (!p->failed && p->quiet && peek(p)->kind == TK_END)
    p->more = 1;
  else if (!p->failed)
    fprintf(2, "sh: syntax error near '%s'\n", peek(p)->text);
  p->failed = 1;
}

static struct node *
mknode(int kind, struct node *left, struct node *right)
{
  struct node *n = alloc(sizeof(*n));
  n->kind = kind;
  n->left = left;
  n->right = right;
  return n;
}

// Parse one redirection (the current token is TK_REDIR) and append it to *list.
static void
parse_redir(struct parser *p, struct redir **list)
{
  struct token *t = next(p);
  struct redir *r = alloc(sizeof(*r));
  r->fd = t->fd;
  r->mode = t->mode;
  r->target = t->target;
  if (r->mode != 'd') {
    if (peek(p)->kind != TK_WORD) {
      syntax(p);
      return;
    }
    r->file = next(p)->text;
  }
  while (*list)
    list = &(*list)->next;
  *list = r;
}

// command := '(' list ')' { redir } | { word | redir }+
static struct node *
parse_command(struct parser *p)
{
  struct node *n;
  if (peek(p)->kind == TK_LPAREN) {
    next(p);
    struct node *inner = parse_list(p);
    if (p->failed)
      return 0;
    if (inner == 0 || peek(p)->kind != TK_RPAREN) {
      syntax(p);
      return 0;
    }
    next(p);
    n = mknode(N_SUB, inner, 0);
    while (peek(p)->kind == TK_REDIR && !p->failed)
      parse_redir(p, &n->redirs);
    return n;
  }
  n = mknode(N_EXEC, 0, 0);
  int cap = 8;
  n->argv = alloc(cap * sizeof(char *));
  for (;;) {
    struct token *t = peek(p);
    if (t->kind == TK_REDIR) {
      parse_redir(p, &n->redirs);
      if (p->failed)
        return 0;
    } else if (t->kind == TK_WORD) {
      if (n->argc + 1 >= cap) {
        char **bigger = alloc(2 * cap * sizeof(char *));
        memmove(bigger, n->argv, n->argc * sizeof(char *));
        n->argv = bigger;
        cap *= 2;
      }
      n->argv[n->argc++] = next(p)->text;
    } else {
      break;
    }
  }
  if (n->argc == 0 && n->redirs == 0) {
    syntax(p);
    return 0;
  }
  return n;
}

// Skip newline tokens (allowed after '|', '(' and between commands).
static void
skip_newlines(struct parser *p)
{
  while (peek(p)->kind == TK_NL)
    next(p);
}

// pipeline := command { '|' {newline} command }
static struct node *
parse_pipeline(struct parser *p)
{
  struct node *n = parse_command(p);
  while (!p->failed && peek(p)->kind == TK_PIPE) {
    next(p);
    skip_newlines(p);
    struct node *right = parse_command(p);
    n = mknode(N_PIPE, n, right);
  }
  return p->failed ? 0 : n;
}

// list := pipeline { (';' | '&' | newline) pipeline } [';' | '&'], with
// newlines allowed around it; 0 if empty.
static struct node *
parse_list(struct parser *p)
{
  struct node *list = 0;
  while (!p->failed) {
    skip_newlines(p);
    int k = peek(p)->kind;
    if (k == TK_END || k == TK_RPAREN)
      break;
    struct node *n = parse_pipeline(p);
    if (p->failed)
      break;
    k = peek(p)->kind;
    if (k == TK_AMP) {
      next(p);
      n = mknode(N_BACK, n, 0);
    } else if (k == TK_SEMI || k == TK_NL) {
      next(p);
    } else if (k != TK_END && k != TK_RPAREN) {
      syntax(p);
      break;
    }
    list = list ? mknode(N_SEQ, list, n) : n;
  }
  return p->failed ? 0 : list;
}

// Parse a whole command text. Sets *ok: 1 if it parsed (returns 0 for an
// empty text), 0 after a syntax error, -1 (nothing printed) if the text is
// incomplete, e.g. "echo a |" or "(echo a", and more is allowed.
static struct node *
parse(char *line, int more, int *ok)
{
  struct parser p;
  memset(&p, 0, sizeof(p));
  p.quiet = more;
  *ok = 0;
  if ((p.tok = lex(line, more, &p.more)) == 0) {
    if (p.more)
      *ok = -1;
    return 0;
  }
  struct node *n = parse_list(&p);
  if (!p.failed && peek(&p)->kind != TK_END)
    syntax(&p);
  if (p.failed) {
    if (p.more)
      *ok = -1;
    return 0;
  }
  *ok = 1;
  return n;
}

// ---- running commands ----

static int last_status;

static int run(struct node *n);

// Wait for child pid (reaping any others that finish first); its status.
static int
wait_for(int pid)
{
  for (;;) {
    int st;
    int w = wait(&st);
    if (w == pid)
      return st;
    if (w < 0)
      return -1;
  }
}

static int
forkorfail(void)
{
  int pid = fork();
  if (pid < 0)
    perror("sh: fork");
  return pid;
}

// Make fd (0..9) refer to what 'from' refers to. There is no dup2, so dup
// until the lowest free fd reaches fd, then close the extra copies.
// Returns 0, or -1 after printing a message.
static int
move_fd(int from, int fd)
{
  if (from == fd)
    return 0;
  close(fd);
  int extra[10], nextra = 0, d;
  while ((d = dup(from)) >= 0 && d < fd && nextra < 10)
    extra[nextra++] = d;
  while (nextra > 0)
    close(extra[--nextra]);
  if (d != fd) {
    fprintf(2, "sh: cannot redirect fd %d\n", fd);
    if (d >= 0)
      close(d);
    return -1;
  }
  return 0;
}

// Apply redirections in order. Returns 0, or -1 after printing a message.
static int
apply_redirs(struct redir *r)
{
  for (; r; r = r->next) {
    if (r->mode == 'd') {
      if (move_fd(r->target, r->fd) < 0)
        return -1;
      continue;
    }
    int flags = O_RDONLY;
    if (r->mode == '>')
      flags = O_WRONLY | O_CREATE | O_TRUNC;
    else if (r->mode == 'a')
      flags = O_WRONLY | O_CREATE | O_APPEND;
    int fd = open(r->file, flags);
    if (fd < 0) {
      fprintf(2, "sh: %s: %s\n", r->file, strerror(errno));
      return -1;
    }
    if (fd != r->fd) {
      int bad = move_fd(fd, r->fd);
      close(fd);
      if (bad)
        return -1;
    }
  }
  return 0;
}

// Exec a program: a name without '/' is looked up in "/" first, then in
// the current directory. Only returns on failure (errno set).
static void
exec_path(char **argv)
{
  char *name = argv[0];
  if (strchr(name, '/') == 0) {
    char *full = malloc(strlen(name) + 2);
    if (full) {
      full[0] = '/';
      strcpy(full + 1, name);
      exec(full, argv);
      free(full);
      if (errno != ENOENT)
        return;
    }
  }
  exec(name, argv);
}

// In a child: apply n's redirections and exec it. Never returns.
static void
exec_simple(struct node *n)
{
  if (apply_redirs(n->redirs) < 0)
    exit(1);
  if (n->argc == 0)
    exit(0);
  n->argv[n->argc] = 0;
  exec_path(n->argv);
  if (errno == ENOENT) {
    fprintf(2, "sh: %s: not found\n", n->argv[0]);
    exit(127);
  }
  fprintf(2, "sh: %s: %s\n", n->argv[0], strerror(errno));
  exit(126);
}

// Run builtin command n in the shell itself if it is one; returns 1 if it
// was (its status in *status), 0 if n is not a builtin.
static int
builtin(struct node *n, int *status)
{
  if (n->kind != N_EXEC || n->argc == 0)
    return 0;
  char **argv = n->argv;
  if (strcmp(argv[0], "cd") == 0) {
    char *dir = n->argc > 1 ? argv[1] : "/";
    *status = 0;
    if (chdir(dir) < 0) {
      fprintf(2, "sh: cd: %s: %s\n", dir, strerror(errno));
      *status = 1;
    }
    return 1;
  }
  if (strcmp(argv[0], "exit") == 0)
    exit(n->argc > 1 ? atoi(argv[1]) : last_status);
  if (strcmp(argv[0], "wait") == 0) {
    while (wait(0) >= 0)
      ;
    *status = 0;
    return 1;
  }
  return 0;
}

// In a child: run n and exit with its status; a plain command is exec'd
// directly instead of forking once more.
static void
run_in_child(struct node *n)
{
  int st = 0;
  if (n->kind == N_EXEC && !builtin(n, &st))
    exec_simple(n);
  if (n->kind == N_EXEC)
    exit(st);
  exit(run(n));
}

// a | b: both sides in children connected by a pipe; b's status.
static int
run_pipe(struct node *n)
{
  int fds[2];
  if (pipe(fds) < 0) {
    perror("sh: pipe");
    return 1;
  }
  int left = forkorfail();
  if (left == 0) {
    close(fds[0]);
    if (move_fd(fds[1], 1) < 0)
      exit(1);
    close(fds[1]);
    run_in_child(n->left);
  }
  int right = left < 0 ? -1 : forkorfail();
  if (right == 0) {
    close(fds[1]);
    if (move_fd(fds[0], 0) < 0)
      exit(1);
    close(fds[0]);
    run_in_child(n->right);
  }
  close(fds[0]);
  close(fds[1]);
  // Reap both sides, in whichever order they finish.
  int status = 1, st;
  int pending = (left > 0) + (right > 0);
  while (pending > 0) {
    int w = wait(&st);
    if (w < 0)
      break;
    if (w == left || w == right)
      pending--;
    if (w == right)
      status = st;
  }
  return status;
}

// Run command tree n from the shell process; returns its status.
static int
run(struct node *n)
{
  int pid, st;
  switch (n->kind) {
  case N_EXEC:
    if (builtin(n, &st))
      return st;
    if ((pid = forkorfail()) < 0)
      return 1;
    if (pid == 0)
      exec_simple(n);
    return wait_for(pid);
  case N_SUB:
    if ((pid = forkorfail()) < 0)
      return 1;
    if (pid == 0) {
      if (apply_redirs(n->redirs) < 0)
        exit(1);
      exit(run(n->left));
    }
    return wait_for(pid);
  case N_PIPE:
    return run_pipe(n);
  case N_SEQ:
    run(n->left);
    return run(n->right);
  case N_BACK:
    if ((pid = forkorfail()) < 0)
      return 1;
    if (pid == 0)
      run_in_child(n->left);
    return 0;
  }
  return 1;
}

// Parse and run a command text; updates last_status (2 on a syntax error).
// If more input may follow and the text is incomplete, returns 1 without
// running anything; otherwise 0.
static int
run_line(char *line, int more)
{
  int ok;
  struct node *n = parse(line, more, &ok);
  if (ok == 0)
    last_status = 2;
  else if (ok == 1 && n)
    last_status = run(n);
  arena_reset();
  return ok == -1;
}

// ---- input ----

// Where lines come from: a whole script already in memory (text != 0), or
// fd read one byte at a time, so that commands run from the shell can read
// the rest of a shared stdin themselves.
struct reader {
  int fd;
  char *text;
  int pos, len;
};

static int
getbyte(struct reader *r, char *c)
{
  if (r->text) {
    if (r->pos == r->len)
      return 0;
    *c = r->text[r->pos++];
    return 1;
  }
  return read(r->fd, c, 1) == 1;
}

// One input line (without its newline) in malloc'd memory; 0 at end of input.
static char *
read_line(struct reader *r)
{
  int cap = 128, n = 0;
  char *line = malloc(cap);
  char c;
  if (line == 0)
    nomem();
  int got = 0;
  while (getbyte(r, &c)) {
    got = 1;
    if (c == '\n')
      break;
    if (n + 1 >= cap) {
      char *bigger = malloc(2 * cap);
      if (bigger == 0)
        nomem();
      memmove(bigger, line, n);
      free(line);
      line = bigger;
      cap *= 2;
    }
    line[n++] = c;
  }
  if (!got) {
    free(line);
    return 0;
  }
  line[n] = 0;
  return line;
}

// Run every line from r; prompt before each when interactive.
static void
run_input(struct reader *r, int interactive)
{
  for (;;) {
    if (interactive)
      fprintf(2, "$ ");
    char *line = read_line(r);
    if (line == 0)
      break;
    // An incomplete command takes in following lines, joined by newlines.
    while (run_line(line, 1)) {
      if (interactive)
        fprintf(2, "> ");
      char *rest = read_line(r);
      if (rest == 0) {
        run_line(line, 0);   // reports the error
        break;
      }
      char *both = malloc(strlen(line) + strlen(rest) + 2);
      if (both == 0)
        nomem();
      strcpy(both, line);
      strcat(both, "\n");
      strcat(both, rest);
      free(line);
      free(rest);
      line = both;
    }
    free(line);
  }
}

// Read all of file path into r (so that the commands the script runs do not
// inherit its fd). Returns 0, or -1 after printing a message.
static int
load_script(const char *path, struct reader *r)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(2, "sh: %s: %s\n", path, strerror(errno));
    return -1;
  }
  int cap = 1024, n = 0;
  r->text = malloc(cap);
  r->len = r->pos = 0;
  while (r->text && (n = read(fd, r->text + r->len, cap - r->len)) > 0) {
    r->len += n;
    if (r->len == cap) {
      char *bigger = malloc(2 * cap);
      if (bigger)
        memmove(bigger, r->text, r->len);
      free(r->text);
      r->text = bigger;
      cap *= 2;
    }
  }
  close(fd);
  if (r->text == 0)
    nomem();
  if (n < 0) {
    fprintf(2, "sh: %s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

int
main(int argc, char **argv)
{
  static struct reader r;
  if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
    run_line(argv[2], 0);
    exit(last_status);
  }
  if (argc >= 2) {
    if (load_script(argv[1], &r) < 0)
      exit(127);
    run_input(&r, 0);
    exit(last_status);
  }
  struct stat st;
  int interactive = fstat(0, &st) == 0 && st.type == T_DEVICE;
  r.fd = 0;
  run_input(&r, interactive);
  exit(last_status);
}
