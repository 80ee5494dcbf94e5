// false: do nothing, unsuccessfully (exit status 1). Arguments are ignored.
#include "kernel/types.h"
#include "user/user.h"

int
main(void)
{
  return 1;
}
