// ln OLD NEW: another name for a file.  ln -s TARGET LINK: a symbolic link.
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char **argv)
{
  if (argc == 4 && strcmp(argv[1], "-s") == 0) {
    if (symlink(argv[2], argv[3]) < 0) {
      fprintf(2, "ln: %s: %s\n", argv[3], strerror(errno));
      return 1;
    }
    return 0;
  }
  if (argc != 3 || strcmp(argv[1], "-s") == 0) {
    fprintf(2, "usage: ln OLD NEW | ln -s TARGET LINK\n");
    return 1;
  }
  if (link(argv[1], argv[2]) < 0) {
    fprintf(2, "ln: %s -> %s: %s\n", argv[1], argv[2], strerror(errno));
    return 1;
  }
  return 0;
}
