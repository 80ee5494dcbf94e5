// poweroff: switch the machine off.
#include "kernel/types.h"
#include "user/user.h"

int
main(void)
{
  poweroff();
  perror("poweroff");
  return 1;
}
