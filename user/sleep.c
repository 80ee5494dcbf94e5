// sleep N: pause for N clock ticks.
#include "kernel/types.h"
#include "user/user.h"

// 1 if s is a non-empty string of decimal digits.
static int
isnumber(const char *s)
{
  if (*s == 0)
    return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return 0;
  return 1;
}

int
main(int argc, char **argv)
{
  if (argc != 2 || !isnumber(argv[1])) {
    fprintf(2, "usage: sleep TICKS (a number >= 0)\n");
    return 1;
  }
  if (sleep(atoi(argv[1])) < 0) {
    perror("sleep");
    return 1;
  }
  return 0;
}
