// ls [PATH...]: one line per file: name, type, inode number, size.
// The type is the number from kernel/stat.h: 1 directory, 2 file, 3 device,
// 4 symbolic link. A directory lists its entries; a symbolic link shows
// "name -> target type ino size". Errors go to stderr; exit status 1.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/fs.h"
#include "kernel/param.h"
#include "user/user.h"

// "dir/name" in malloc'd memory (0 if out of memory).
static char *
join(const char *dir, const char *name)
{
  int n = strlen(dir);
  char *p = malloc(n + strlen(name) + 2);
  if (p == 0)
    return 0;
  strcpy(p, dir);
  if (n > 0 && dir[n - 1] != '/')
    strcat(p, "/");
  strcat(p, name);
  return p;
}

// Print the line for path, shown as name. Returns 0, or 1 on error.
static int
show(const char *path, const char *name)
{
  struct stat st;
  if (lstat(path, &st) < 0) {
    fprintf(2, "ls: %s: %s\n", path, strerror(errno));
    return 1;
  }
  if (st.type == T_SYMLINK) {
    char target[MAXPATH + 1];
    int n = readlink(path, target, MAXPATH);
    if (n < 0) {
      fprintf(2, "ls: %s: %s\n", path, strerror(errno));
      return 1;
    }
    target[n] = 0;
    printf("%s -> %s %d %d %d\n", name, target, st.type, st.ino, st.size);
    return 0;
  }
  printf("%-14s %d %d %d\n", name, st.type, st.ino, st.size);
  return 0;
}

// List the entries of directory path (open as fd).
static int
list_dir(int fd, const char *path)
{
  struct dirent de;
  char name[DIRSIZ + 1];
  int status = 0, n;
  while ((n = read(fd, &de, sizeof(de))) == sizeof(de)) {
    if (de.inum == 0)
      continue;
    memmove(name, de.name, DIRSIZ);
    name[DIRSIZ] = 0;
    char *full = join(path, name);
    if (full == 0) {
      perror("ls");
      return 1;
    }
    status |= show(full, name);
    free(full);
  }
  if (n < 0) {
    fprintf(2, "ls: %s: %s\n", path, strerror(errno));
    status = 1;
  }
  return status;
}

static int
ls(const char *path)
{
  struct stat st;
  if (lstat(path, &st) < 0) {
    fprintf(2, "ls: %s: %s\n", path, strerror(errno));
    return 1;
  }
  if (st.type != T_DIR)
    return show(path, path);
  int fd = open(path, O_RDONLY);
  if (fd < 0) {
    fprintf(2, "ls: %s: %s\n", path, strerror(errno));
    return 1;
  }
  int status = list_dir(fd, path);
  close(fd);
  return status;
}

int
main(int argc, char **argv)
{
  if (argc < 2)
    return ls(".");
  int status = 0;
  for (int i = 1; i < argc; i++)
    status |= ls(argv[i]);
  return status;
}
