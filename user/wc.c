// wc [FILE...]: print lines, words and bytes of each file (or stdin).
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/stat.h"
#include "user/user.h"

static char buf[4096];

// Count fd's lines, words and bytes and print them with name.
static int
count(int fd, const char *name)
{
  int lines = 0, words = 0, bytes = 0, inword = 0, n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    bytes += n;
    for (int i = 0; i < n; i++) {
      char c = buf[i];
      if (c == '\n')
        lines++;
      if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
        inword = 0;
      } else if (!inword) {
        inword = 1;
        words++;
      }
    }
  }
  if (n < 0) {
    fprintf(2, "wc: %s: %s\n", name, strerror(errno));
    return 1;
  }
  if (*name)
    printf("%d %d %d %s\n", lines, words, bytes, name);
  else
    printf("%d %d %d\n", lines, words, bytes);
  return 0;
}

int
main(int argc, char **argv)
{
  if (argc < 2)
    return count(0, "");
  int status = 0;
  for (int i = 1; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "wc: %s: %s\n", argv[i], strerror(errno));
      status = 1;
      continue;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && st.type == T_DIR) {
      fprintf(2, "wc: %s: is a directory\n", argv[i]);
      status = 1;
    } else {
      status |= count(fd, argv[i]);
    }
    close(fd);
  }
  return status;
}
