// A suite that goes wrong on purpose, run by proctest.harness_cleans_up to
// check the test framework itself: its one test leaves a child holding
// memory and then never ends. The framework must report the timeout and
// kill the child, so the memory comes back.
#include "kernel/types.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define HOG_PAGES 256

static void
stuck(void)
{
  if (test_fork() == 0) {
    close(1);                        // whoever reads our output sees its end
    close(2);
    char *p = sbrk(HOG_PAGES * 4096);
    if (p == (char *)-1)
      exit(1);
    for (int i = 0; i < HOG_PAGES; i++)
      p[i * 4096] = 1;
    for (;;)
      sleep(1);
  }
  for (;;)
    sleep(1);
}

static struct test tests[] = {
  TEST(stuck),
};

int
main(int argc, char **argv)
{
  test_set_timeout(20);
  return test_run("testlib", tests, 1, argc, argv);
}
