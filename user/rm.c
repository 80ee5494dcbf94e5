// rm PATH...: remove files (and empty directories).
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(2, "usage: rm PATH...\n");
    return 1;
  }
  int status = 0;
  for (int i = 1; i < argc; i++) {
    if (unlink(argv[i]) < 0) {
      fprintf(2, "rm: %s: %s\n", argv[i], strerror(errno));
      status = 1;
    }
  }
  return status;
}
