// cat [FILE...]: copy each file (or stdin; also for "-") to stdout.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/stat.h"
#include "user/user.h"

static char buf[4096];

// Copy fd to stdout; returns 0, or 1 after an error message.
static int
copy(int fd, const char *name)
{
  int n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) {
    if (write(1, buf, n) != n) {
      perror("cat: write");
      return 1;
    }
  }
  if (n < 0) {
    fprintf(2, "cat: %s: %s\n", name, strerror(errno));
    return 1;
  }
  return 0;
}

int
main(int argc, char **argv)
{
  if (argc < 2)
    return copy(0, "stdin");
  int status = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-") == 0) {
      status |= copy(0, "stdin");
      continue;
    }
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      fprintf(2, "cat: %s: %s\n", argv[i], strerror(errno));
      status = 1;
      continue;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && st.type == T_DIR) {
      fprintf(2, "cat: %s: is a directory\n", argv[i]);
      status = 1;
    } else {
      status |= copy(fd, argv[i]);
    }
    close(fd);
  }
  return status;
}
