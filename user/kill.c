// kill PID...: kill processes.
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(2, "usage: kill PID...\n");
    return 1;
  }
  int status = 0;
  for (int i = 1; i < argc; i++) {
    char *s = argv[i];
    while (*s >= '0' && *s <= '9')
      s++;
    if (*argv[i] == 0 || *s != 0) {
      fprintf(2, "kill: %s: not a process id\n", argv[i]);
      status = 1;
      continue;
    }
    if (kill(atoi(argv[i])) < 0) {
      fprintf(2, "kill: %s: %s\n", argv[i], strerror(errno));
      status = 1;
    }
  }
  return status;
}
