// echo ARGS...: print the arguments separated by spaces, then a newline.
#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char **argv)
{
  int len = 1;
  for (int i = 1; i < argc; i++)
    len += strlen(argv[i]) + 1;
  char *out = malloc(len);
  if (out == 0) {
    perror("echo");
    return 1;
  }
  // Build the whole line first so that it reaches the output in one write.
  char *p = out;
  for (int i = 1; i < argc; i++) {
    if (i > 1)
      *p++ = ' ';
    strcpy(p, argv[i]);
    p += strlen(argv[i]);
  }
  *p++ = '\n';
  if (write(1, out, p - out) != p - out) {
    perror("echo: write");
    return 1;
  }
  return 0;
}
