// find DIR [NAME] [-type f|d]: print the path of every entry below DIR
// whose name matches NAME (a glob: '*' any run of characters, '?' any one
// character; no NAME matches everything), optionally only files or only
// directories. The walk changes directory level by level, so paths of any
// length work; it never follows symbolic links or enters "." and "..".
// Entries that cannot be read get a message on stderr; the walk goes on.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/fs.h"
#include "user/user.h"

static const char *pattern;   // 0: any name
static int want_type;         // 0, T_FILE or T_DIR
static int status;

// Does name match glob pattern g?
static int
glob(const char *g, const char *name)
{
  for (; *g; g++, name++) {
    if (*g == '*') {
      for (const char *s = name;; s++) {
        if (glob(g + 1, s))
          return 1;
        if (*s == 0)
          return 0;
      }
    }
    if (*name == 0 || (*g != '?' && *g != *name))
      return 0;
  }
  return *name == 0;
}

// "dir/name" in malloc'd memory; exits if memory runs out.
static char *
join(const char *dir, const char *name)
{
  int n = strlen(dir);
  char *p = malloc(n + strlen(name) + 2);
  if (p == 0) {
    fprintf(2, "find: out of memory\n");
    exit(1);
  }
  strcpy(p, dir);
  if (n > 0 && dir[n - 1] != '/')
    strcat(p, "/");
  strcat(p, name);
  return p;
}

static void
complain(const char *path)
{
  fprintf(2, "find: %s: %s\n", path, strerror(errno));
  status = 1;
}

// Read the names in the current directory (not "." or "..") into a
// malloc'd array of DIRSIZ+1-byte strings; *count gets their number.
// The directory is closed again before the caller walks into subdirectories.
static char *
read_names(const char *path, int *count)
{
  int fd = open(".", O_RDONLY);
  if (fd < 0) {
    complain(path);
    return 0;
  }
  int cap = 16, n = 0, r;
  char *names = malloc(cap * (DIRSIZ + 1));
  struct dirent de;
  while (names && (r = read(fd, &de, sizeof(de))) == sizeof(de)) {
    if (de.inum == 0)
      continue;
    if (n == cap) {
      char *bigger = malloc(2 * cap * (DIRSIZ + 1));
      if (bigger)
        memmove(bigger, names, cap * (DIRSIZ + 1));
      free(names);
      names = bigger;
      cap *= 2;
      if (names == 0)
        break;
    }
    char *slot = names + n * (DIRSIZ + 1);
    memmove(slot, de.name, DIRSIZ);
    slot[DIRSIZ] = 0;
    if (strcmp(slot, ".") != 0 && strcmp(slot, "..") != 0)
      n++;
  }
  if (names == 0) {
    fprintf(2, "find: out of memory\n");
    exit(1);
  }
  if (r < 0)
    complain(path);
  close(fd);
  *count = n;
  return names;
}

// Walk the current directory, whose path for printing is path.
static void
walk(const char *path)
{
  int n;
  char *names = read_names(path, &n);
  if (names == 0)
    return;
  for (int i = 0; i < n; i++) {
    char *name = names + i * (DIRSIZ + 1);
    char *full = join(path, name);
    struct stat st;
    if (lstat(name, &st) < 0) {
      complain(full);
      free(full);
      continue;
    }
    if ((pattern == 0 || glob(pattern, name)) && (want_type == 0 || st.type == want_type))
      printf("%s\n", full);
    if (st.type == T_DIR) {
      if (chdir(name) < 0) {
        complain(full);
      } else {
        walk(full);
        if (chdir("..") < 0) {
          complain(full);
          exit(1);          // lost our place in the tree
        }
      }
    }
    free(full);
  }
  free(names);
}

static void
usage(void)
{
  fprintf(2, "usage: find DIR [NAME] [-type f|d]\n");
  exit(1);
}

int
main(int argc, char **argv)
{
  if (argc < 2)
    usage();
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "-type") == 0) {
      if (i + 1 >= argc)
        usage();
      i++;
      if (strcmp(argv[i], "f") == 0)
        want_type = T_FILE;
      else if (strcmp(argv[i], "d") == 0)
        want_type = T_DIR;
      else
        usage();
    } else if (pattern == 0) {
      pattern = argv[i];
    } else {
      usage();
    }
  }
  struct stat st;
  if (stat(argv[1], &st) < 0) {
    complain(argv[1]);
    return 1;
  }
  if (st.type != T_DIR) {
    fprintf(2, "find: %s: not a directory\n", argv[1]);
    return 1;
  }
  if (chdir(argv[1]) < 0) {
    complain(argv[1]);
    return 1;
  }
  walk(argv[1]);
  return status;
}
