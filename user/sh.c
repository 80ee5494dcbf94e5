// sh: the command interpreter.
//   sh                  read commands from stdin; prompt "$ " when stdin is the console
//   sh FILE [ARG...]    run the script FILE; $0 is FILE, $1.. are the ARGs
//   sh -c CMD [ARG...]  run the command text CMD; $0 is the first ARG, $1.. the rest
// Text is split into tokens, parsed by recursive descent into a command
// tree, and run. Grammar:
//   list     := andor { (';' | '&' | newline) andor } [';' | '&']
//   andor    := pipeline { ('&&' | '||') {newline} pipeline }
//   pipeline := command { '|' {newline} command }
//   command  := '(' list ')' { redir }  |  { word | redir }+
//   redir    := [digit] ('<' | '>' | '>>') word  |  [digit] '>&' digit
// So '|' binds tightest, then '&&' and '||' (equal, grouped from the left),
// then ';', '&' and newline: `a && b &` runs all of `a && b` in the
// background. Newlines may also follow '('; a command left open at the end
// of a line (open quote or parenthesis, trailing '|', '&&' or '||')
// continues on the next.
// Words may be quoted with '...' or "..." ('\' escapes ", \ and $ inside
// "..."); '#' at the start of a word begins a comment.
// Expansions (not inside '...'): $? the status of the last pipeline, $NAME
// or ${NAME} a shell variable, $0..$9 the arguments, $# how many there are.
// An expansion never splits a word; an unquoted word that expands to
// nothing is dropped. A command made only of NAME=value words sets those
// variables; programs have no environment, so NAME=value before a command
// is an error.
// Redirections may name the fd: 2>file, 2>>file, 2>&1. A command name
// without '/' is looked up in "/" first, then in the current directory.
// Builtins: cd [DIR] (default /), exit [N] (default $?), wait (for every
// background command).
// A script (sh FILE, sh -c) is parsed whole before any of it runs. Commands
// from stdin run a line at a time. A syntax error is reported with its line
// and column; it makes sh exit with status 2 unless sh is interactive.
// The status of a list is its last command's.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "user/user.h"

// ---- memory: an arena per command text, freed at once after running it ----

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

// A NUL-terminated arena copy of s[0..n).
static char *
copy(const char *s, int n)
{
  char *c = alloc(n + 1);
  memmove(c, s, n);
  return c;
}

// ---- characters ----

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

static int
isnamestart(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
isnamechar(char c)
{
  return isnamestart(c) || isdigit(c);
}

// Characters that end a word (outside quotes).
static int
isspecial(char c)
{
  return c == 0 || isspace(c) || c == '\n' || strchr("|;&()<>", c) != 0;
}

// ---- tokens ----

enum {
  TK_WORD, TK_PIPE, TK_SEMI, TK_NL, TK_AMP, TK_AND, TK_OR, TK_LPAREN, TK_RPAREN,
  TK_REDIR, TK_END
};

struct token {
  int kind;
  char *text;   // TK_WORD: the word, encoded (below)
  char *src;    // where the token starts in the text
  char *shown;  // the token as typed, for messages
  int fd;       // TK_REDIR: which fd is redirected
  int mode;     // TK_REDIR: '<', '>', 'a' (>>) or 'd' (>&N)
  int target;   // TK_REDIR 'd': the fd duplicated
};

// Parser state over one command text.
struct parser {
  char *text;   // the whole text being parsed
  int line0;    // the line number of its first line
  struct token *tok;
  int pos;
  int failed;
  int quiet;    // an error at the end of the text is not reported...
  int more;     // ...but noted here: more input might complete the command
};

// Fail the parse at 'at' (a place in p->text), printing
// "sh: line L: MSG (column C)" unless the parse already failed, or unless
// the error is at the end of the text (at_end) while p->quiet: then only
// p->more is set.
static void
fail_at(struct parser *p, char *at, int at_end, const char *fmt, ...)
{
  if (p->failed)
    return;
  p->failed = 1;
  if (at_end && p->quiet) {
    p->more = 1;
    return;
  }
  int line = p->line0, col = 1;
  for (char *s = p->text; s < at; s++) {
    col++;
    if (*s == '\n') {
      line++;
      col = 1;
    }
  }
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  fprintf(2, "sh: line %d: %s (column %d)\n", line, msg, col);
}

// Words are kept encoded until they run. A byte stands for itself, except
// ESC, which starts a two-byte code: ESC ESC is a literal ESC byte;
// ESC QUOTED marks where quoting began (so '' is an empty word rather than
// none, and a\=b or 'a'=b are no assignments); ESC VAR NAME ESC VAREND is
// an expansion of NAME.
#define C_ESC    '\001'
#define C_QUOTED 'q'
#define C_VAR    '$'
#define C_VAREND '.'

// Output of the lexer: counts bytes only while out is 0.
struct emit {
  char *out;
  int n;
};

static void
put(struct emit *e, char c)
{
  if (e->out)
    e->out[e->n] = c;
  e->n++;
}

static void
put_lit(struct emit *e, char c)
{
  if (c == C_ESC)
    put(e, C_ESC);
  put(e, c);
}

static void
put_code(struct emit *e, char c)
{
  put(e, C_ESC);
  put(e, c);
}

// Length of the parameter name at s: a NAME, or one of ? # 0..9; 0 if none.
static int
namelen(char *s)
{
  if (*s == '?' || *s == '#' || isdigit(*s))
    return 1;
  int n = 0;
  if (isnamestart(*s))
    while (isnamechar(s[n]))
      n++;
  return n;
}

// Scan the expansion at *sp (a '$') into e and move *sp past it; a '$'
// that starts none is literal. Returns 0, or -1 after reporting a bad ${...}.
static int
lex_dollar(struct parser *p, char **sp, struct emit *e)
{
  char *name = *sp + 1, *end;
  if (*name == '{') {
    name++;
    end = name + namelen(name);
    if (end == name || *end != '}') {
      fail_at(p, *sp, 0, "bad substitution");
      return -1;
    }
    *sp = end + 1;
  } else {
    end = name + namelen(name);
    *sp = end;
    if (end == name) {
      put_lit(e, '$');
      return 0;
    }
  }
  put_code(e, C_VAR);
  while (name < end)
    put(e, *name++);
  put_code(e, C_VAREND);
  return 0;
}

// Scan the word at *sp into e, encoded, and move *sp past it. Returns 0,
// or -1 after a bad ${...} or an unterminated quote (see fail_at).
static int
lex_word(struct parser *p, char **sp, struct emit *e)
{
  char *s = *sp;
  while (!isspecial(*s)) {
    if (*s == '\'' || *s == '"') {
      char q = *s, *open = s++;
      put_code(e, C_QUOTED);
      while (*s && *s != q) {
        if (q == '"' && *s == '\\' && s[1] && strchr("\"\\$", s[1])) {
          put_lit(e, s[1]);
          s += 2;
        } else if (q == '"' && *s == '$') {
          if (lex_dollar(p, &s, e) < 0)
            return -1;
        } else {
          put_lit(e, *s++);
        }
      }
      if (*s != q) {
        fail_at(p, open, 1, "unterminated quote");
        return -1;
      }
      s++;
    } else if (*s == '\\' && s[1]) {
      put_code(e, C_QUOTED);
      put_lit(e, s[1]);
      s += 2;
    } else if (*s == '$') {
      if (lex_dollar(p, &s, e) < 0)
        return -1;
    } else {
      put_lit(e, *s++);
    }
  }
  *sp = s;
  return 0;
}

// Scan one operator or word at s into k; returns the end of it, or 0
// after an error (see fail_at).
static char *
lex_one(struct parser *p, char *s, struct token *k)
{
  k->fd = *s == '<' ? 0 : 1;
  if (isdigit(s[0]) && (s[1] == '<' || s[1] == '>'))
    k->fd = *s++ - '0';
  switch (*s) {
  case '|': k->kind = s[1] == '|' ? TK_OR : TK_PIPE; break;
  case '&': k->kind = s[1] == '&' ? TK_AND : TK_AMP; break;
  case ';': k->kind = TK_SEMI; break;
  case '\n': k->kind = TK_NL; break;
  case '(': k->kind = TK_LPAREN; break;
  case ')': k->kind = TK_RPAREN; break;
  case '<':
  case '>':
    k->kind = TK_REDIR;
    k->mode = *s++;
    if (k->mode == '>' && *s == '>') {
      k->mode = 'a';
      s++;
    } else if (k->mode == '>' && *s == '&') {
      if (!isdigit(s[1]) || !isspecial(s[2])) {
        fail_at(p, k->src, 0, "bad redirection");
        return 0;
      }
      k->mode = 'd';
      k->target = s[1] - '0';
      s += 2;
    }
    return s;
  default: {
    struct emit e = { 0, 0 };
    char *end = s;
    if (lex_word(p, &end, &e) < 0)
      return 0;
    e.out = alloc(e.n + 1);
    e.n = 0;
    lex_word(p, &s, &e);
    k->kind = TK_WORD;
    k->text = e.out;
    return s;
  }
  }
  return s + (k->kind == TK_OR || k->kind == TK_AND ? 2 : 1);
}

// Split p->text into tokens (ending with TK_END). Returns the array, or 0
// after an error (see fail_at).
static struct token *
lex(struct parser *p)
{
  int cap = 16, n = 0;
  struct token *t = alloc(cap * sizeof(*t));
  char *s = p->text;
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
    k->src = s;
    if (*s == 0) {
      k->kind = TK_END;
      k->shown = "end of input";
      return t;
    }
    if ((s = lex_one(p, s, k)) == 0)
      return 0;
    k->shown = k->kind == TK_NL ? "newline" : copy(k->src, s - k->src);
  }
}

// ---- command tree and parser ----

enum { N_EXEC, N_PIPE, N_SEQ, N_BACK, N_SUB, N_AND, N_OR };

struct redir {
  struct redir *next;
  int fd, mode, target;
  char *file;               // encoded
};

struct node {
  int kind;
  int nwords;
  char **words;             // N_EXEC, encoded
  int argc;
  char **argv;              // N_EXEC, the words expanded; null-terminated
  struct redir *redirs;     // N_EXEC, N_SUB, in order
  struct node *left, *right;
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

// Report a syntax error at the current token.
static void
syntax(struct parser *p)
{
  struct token *t = peek(p);
  fail_at(p, t->src, t->kind == TK_END, "syntax error near '%s'", t->shown);
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
  n->words = alloc(cap * sizeof(char *));
  for (;;) {
    struct token *t = peek(p);
    if (t->kind == TK_REDIR) {
      parse_redir(p, &n->redirs);
      if (p->failed)
        return 0;
    } else if (t->kind == TK_WORD) {
      if (n->nwords + 1 >= cap) {
        char **bigger = alloc(2 * cap * sizeof(char *));
        memmove(bigger, n->words, n->nwords * sizeof(char *));
        n->words = bigger;
        cap *= 2;
      }
      n->words[n->nwords++] = next(p)->text;
    } else {
      break;
    }
  }
  if (n->nwords == 0 && n->redirs == 0) {
    syntax(p);
    return 0;
  }
  return n;
}

// Skip newline tokens (allowed after '|', '&&', '||', '(' and between commands).
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

// andor := pipeline { ('&&' | '||') {newline} pipeline }, grouped from the left.
static struct node *
parse_andor(struct parser *p)
{
  struct node *n = parse_pipeline(p);
  while (!p->failed && (peek(p)->kind == TK_AND || peek(p)->kind == TK_OR)) {
    int kind = next(p)->kind == TK_AND ? N_AND : N_OR;
    skip_newlines(p);
    struct node *right = parse_pipeline(p);
    n = mknode(kind, n, right);
  }
  return p->failed ? 0 : n;
}

// list := andor { (';' | '&' | newline) andor } [';' | '&'], with
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
    struct node *n = parse_andor(p);
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

// Parse a whole command text whose first line is line number line0. Sets
// *ok: 1 if it parsed (returns 0 for an empty text), 0 after a syntax error
// (reported), -1 (nothing printed) if more is allowed and the text is
// incomplete, e.g. "echo a |" or "(echo a".
static struct node *
parse(char *text, int line0, int more, int *ok)
{
  struct parser p;
  memset(&p, 0, sizeof(p));
  p.text = text;
  p.line0 = line0;
  p.quiet = more;
  struct node *n = 0;
  if ((p.tok = lex(&p)) != 0) {
    n = parse_list(&p);
    if (!p.failed && peek(&p)->kind != TK_END)
      syntax(&p);
  }
  *ok = p.failed ? (p.more ? -1 : 0) : 1;
  return p.failed ? 0 : n;
}

// ---- parameters: $?, variables, arguments ----

static int last_status;   // $?: the status of the last pipeline
static char **args;       // $0, $1, ...
static int nargs;         // $#: how many after $0

struct var {
  struct var *next;
  char *value;            // malloc'd
  char name[];
};

static struct var *vars;

static struct var *
var_find(const char *name, int len)
{
  for (struct var *v = vars; v; v = v->next)
    if (strncmp(v->name, name, len) == 0 && v->name[len] == 0)
      return v;
  return 0;
}

// Set variable name[0..len) to a copy of value.
static void
var_set(const char *name, int len, const char *value)
{
  struct var *v = var_find(name, len);
  char *val = malloc(strlen(value) + 1);
  if (val == 0)
    nomem();
  strcpy(val, value);
  if (v == 0) {
    if ((v = malloc(sizeof(*v) + len + 1)) == 0)
      nomem();
    memmove(v->name, name, len);
    v->name[len] = 0;
    v->next = vars;
    vars = v;
  } else {
    free(v->value);
  }
  v->value = val;
}

// The value of parameter name[0..len) ("" if unset); numbers go into num.
static const char *
param(const char *name, int len, char *num, int size)
{
  if (*name == '?' || *name == '#') {
    snprintf(num, size, "%d", *name == '?' ? last_status : nargs);
    return num;
  }
  if (isdigit(*name))
    return *name - '0' <= nargs ? args[*name - '0'] : "";
  struct var *v = var_find(name, len);
  return v ? v->value : "";
}

// Expand encoded word w into out (when not 0); returns the length. Sets
// *quoted if some of w was quoted.
static int
expand_into(char *w, char *out, int *quoted)
{
  int n = 0;
  char num[16];
  *quoted = 0;
  while (*w) {
    if (*w != C_ESC || w[1] == C_ESC) {
      if (out)
        out[n] = *w;
      n++;
      w += *w == C_ESC ? 2 : 1;
    } else if (w[1] == C_QUOTED) {
      *quoted = 1;
      w += 2;
    } else {                   // C_VAR NAME C_ESC C_VAREND
      char *name = w += 2;
      while (*w != C_ESC)
        w++;
      const char *v = param(name, w - name, num, sizeof(num));
      int len = strlen(v);
      if (out)
        memmove(out + n, v, len);
      n += len;
      w += 2;
    }
  }
  return n;
}

// Encoded word w expanded, in the arena; *quoted as for expand_into.
static char *
expand(char *w, int *quoted)
{
  int n = expand_into(w, 0, quoted);
  char *s = alloc(n + 1);
  expand_into(w, s, quoted);
  return s;
}

// If encoded word w is an assignment NAME=..., the length of NAME; else 0.
static int
assignment(char *w)
{
  int n = 0;
  if (!isnamestart(w[0]))
    return 0;
  while (isnamechar(w[n]))
    n++;
  return w[n] == '=' ? n : 0;
}

// Expand simple command n's words into n->argv and n->argc, then perform
// its leading NAME=value assignments if nothing else follows them.
// Returns 0, or -1 after printing a message if something does.
static int
expand_command(struct node *n)
{
  int i = 0, quoted;
  while (i < n->nwords && assignment(n->words[i]))
    i++;
  int nassign = i;
  n->argv = alloc((n->nwords + 1) * sizeof(char *));
  n->argc = 0;
  for (; i < n->nwords; i++) {
    char *a = expand(n->words[i], &quoted);
    if (*a || quoted)
      n->argv[n->argc++] = a;
  }
  if (nassign > 0 && n->argc > 0) {
    fprintf(2, "sh: %s: an assignment cannot precede a command "
            "(programs have no environment)\n", expand(n->words[0], &quoted));
    return -1;
  }
  for (i = 0; i < nassign; i++) {
    char *w = n->words[i];
    int len = assignment(w);
    var_set(w, len, expand(w + len + 1, &quoted));
  }
  return 0;
}

// ---- running commands ----

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
    int flags = O_RDONLY, quoted;
    if (r->mode == '>')
      flags = O_WRONLY | O_CREATE | O_TRUNC;
    else if (r->mode == 'a')
      flags = O_WRONLY | O_CREATE | O_APPEND;
    char *file = expand(r->file, &quoted);
    int fd = open(file, flags);
    if (fd < 0) {
      fprintf(2, "sh: %s: %s\n", file, strerror(errno));
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

// In a child: apply expanded command n's redirections and exec it. Never returns.
static void
exec_simple(struct node *n)
{
  if (apply_redirs(n->redirs) < 0)
    exit(1);
  if (n->argc == 0)
    exit(0);
  exec_path(n->argv);
  if (errno == ENOENT) {
    fprintf(2, "sh: %s: not found\n", n->argv[0]);
    exit(127);
  }
  fprintf(2, "sh: %s: %s\n", n->argv[0], strerror(errno));
  exit(126);
}

// cd [DIR]: change directory, to / without DIR; its status.
static int
builtin_cd(struct node *n)
{
  if (n->argc > 2) {
    fprintf(2, "sh: cd: too many arguments\n");
    return 2;
  }
  char *dir = n->argc > 1 ? n->argv[1] : "/";
  if (chdir(dir) < 0) {
    fprintf(2, "sh: cd: %s: %s\n", dir, strerror(errno));
    return 1;
  }
  return 0;
}

// exit [N]: end the shell with status N (0..255), or $? without N; exits
// with 2 if N is no such number. Returns only when given too many arguments.
static int
builtin_exit(struct node *n)
{
  if (n->argc > 2) {
    fprintf(2, "sh: exit: too many arguments\n");
    return 2;
  }
  if (n->argc == 1)
    exit(last_status);
  char *a = n->argv[1];
  int i, v = 0;
  for (i = 0; isdigit(a[i]) && v <= 255; i++)
    v = 10 * v + a[i] - '0';
  if (i == 0 || a[i] != 0 || v > 255) {
    fprintf(2, "sh: exit: %s: not a status (0..255)\n", a);
    exit(2);
  }
  exit(v);
}

// Run expanded command n in the shell itself if it is a builtin; returns
// 1 if it was (its status in *status), 0 if n is not a builtin.
static int
builtin(struct node *n, int *status)
{
  if (n->argc == 0)
    return 0;
  char *name = n->argv[0];
  if (strcmp(name, "cd") == 0)
    *status = builtin_cd(n);
  else if (strcmp(name, "exit") == 0)
    *status = builtin_exit(n);
  else if (strcmp(name, "wait") == 0) {
    while (wait(0) >= 0)
      ;
    *status = 0;
  } else
    return 0;
  return 1;
}

// Simple command n from the shell process: expand it, run a builtin or
// fork and exec a program; returns its status.
static int
run_simple(struct node *n)
{
  int pid, st;
  if (expand_command(n) < 0)
    return 2;
  if (builtin(n, &st))
    return st;
  if (n->argc == 0 && n->redirs == 0)
    return 0;
  if ((pid = forkorfail()) < 0)
    return 1;
  if (pid == 0)
    exec_simple(n);
  return wait_for(pid);
}

// In a child: run n and exit with its status; a plain command is exec'd
// directly instead of forking once more.
static void
run_in_child(struct node *n)
{
  int st = 0;
  if (n->kind != N_EXEC)
    exit(run(n));
  if (expand_command(n) < 0)
    exit(2);
  if (builtin(n, &st))
    exit(st);
  exec_simple(n);
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
run_node(struct node *n)
{
  int pid;
  switch (n->kind) {
  case N_EXEC:
    return run_simple(n);
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
  case N_AND:
  case N_OR: {
    int st = run(n->left);
    if ((st == 0) == (n->kind == N_AND))
      st = run(n->right);
    return st;
  }
  case N_BACK:
    if ((pid = forkorfail()) < 0)
      return 1;
    if (pid == 0)
      run_in_child(n->left);
    return 0;
  }
  return 1;
}

// Run n and make its status $?; returns it.
static int
run(struct node *n)
{
  last_status = run_node(n);
  return last_status;
}

// Parse and run a command text whose first line is number line0. Returns
// 0 after running it, -1 after a syntax error (last_status is 2), or 1
// without running anything if more input is allowed and the text is
// incomplete.
static int
run_text(char *text, int line0, int more)
{
  int ok;
  struct node *n = parse(text, line0, more, &ok);
  if (ok == 0)
    last_status = 2;
  else if (ok == 1 && n)
    run(n);
  arena_reset();
  return ok == 1 ? 0 : ok == 0 ? -1 : 1;
}

// ---- input ----

// Commands come from fd one byte at a time, so that commands run from the
// shell can read the rest of a shared stdin themselves.
struct reader {
  int fd;
  int line;    // lines read so far
};

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
  while (read(r->fd, &c, 1) == 1) {
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
  r->line++;
  return line;
}

// Run every line from r; prompt before each when interactive. Exits with
// status 2 at a syntax error unless interactive.
static void
run_input(struct reader *r, int interactive)
{
  for (;;) {
    if (interactive)
      fprintf(2, "$ ");
    char *line = read_line(r);
    if (line == 0)
      break;
    int line0 = r->line, res;
    // An incomplete command takes in following lines, joined by newlines.
    while ((res = run_text(line, line0, 1)) == 1) {
      if (interactive)
        fprintf(2, "> ");
      char *rest = read_line(r);
      if (rest == 0) {
        res = run_text(line, line0, 0);   // reports the error
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
    if (res < 0 && !interactive)
      exit(2);
  }
}

// All of file path as a NUL-terminated malloc'd string (read whole, so that
// the commands the script runs do not inherit its fd); 0 after printing a
// message.
static char *
load_script(const char *path)
{
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(2, "sh: %s: %s\n", path, strerror(errno));
    return 0;
  }
  int cap = 1024, len = 0, n = 0;
  char *text = malloc(cap);
  while (text && (n = read(fd, text + len, cap - len - 1)) > 0) {
    len += n;
    if (len == cap - 1) {
      char *bigger = malloc(2 * cap);
      if (bigger)
        memmove(bigger, text, len);
      free(text);
      text = bigger;
      cap *= 2;
    }
  }
  close(fd);
  if (text == 0)
    nomem();
  if (n < 0) {
    fprintf(2, "sh: %s: %s\n", path, strerror(errno));
    free(text);
    return 0;
  }
  text[len] = 0;
  return text;
}

int
main(int argc, char **argv)
{
  static char *noargs[] = { "sh", 0 };
  args = noargs;
  if (argc >= 2 && strcmp(argv[1], "-c") == 0) {
    if (argc < 3) {
      fprintf(2, "usage: sh [-c CMD | FILE] [ARG...]\n");
      exit(2);
    }
    if (argc >= 4) {
      args = argv + 3;
      nargs = argc - 4;
    }
    exit(run_text(argv[2], 1, 0) < 0 ? 2 : last_status);
  }
  if (argc >= 2) {
    args = argv + 1;
    nargs = argc - 2;
    char *text = load_script(argv[1]);
    if (text == 0)
      exit(127);
    exit(run_text(text, 1, 0) < 0 ? 2 : last_status);
  }
  static struct reader r;
  struct stat st;
  int interactive = fstat(0, &st) == 0 && st.type == T_DEVICE;
  r.fd = 0;
  run_input(&r, interactive);
  exit(last_status);
}
