// The first user program. Opens the console as fds 0, 1 and 2, then either
// runs the scripted command in /runcmd once (see tools/run.py) or keeps an
// interactive shell running on the console.
#include "kernel/types.h"
#include "kernel/stat.h"
#include "kernel/fcntl.h"
#include "kernel/kalloctest.h"
#include "user/user.h"

#define CONSOLE_MAJOR 1   // the console's device number (PLAN.md)

// Open the console device (creating its node if needed) as fds 0, 1, 2.
static void
open_console(void)
{
  if (open("/console", O_RDWR) < 0) {
    mknod("/console", CONSOLE_MAJOR, 0);
    open("/console", O_RDWR);
  }
  dup(0);
  dup(0);
}

// Run argv as a child; wait for it and return its exit status
// (reaping any orphans that init inherits meanwhile).
static int
run(char **argv)
{
  int pid = fork();
  if (pid < 0) {
    perror("init: fork");
    return -1;
  }
  if (pid == 0) {
    exec(argv[0], argv);
    perror("init: exec");
    exit(127);
  }
  for (;;) {
    int status;
    int w = wait(&status);
    if (w == pid)
      return status;
    if (w < 0)
      return -1;
  }
}

int
main(void)
{
  open_console();
  struct stat st;
  if (stat("/runcmd", &st) == 0) {
    char *argv[] = { "/sh", "/runcmd", 0 };
    kalloctest(KAT_TESTMODE, (void *)1);   // a scripted run: allocator tests allowed
    printf("@@RUN-BEGIN@@\n");
    int status = run(argv);
    printf("@@RUN-END %d@@\n", status);
    poweroff();
    exit(status);
  }
  for (;;) {
    char *argv[] = { "/sh", 0 };
    printf("init: starting sh\n");
    if (run(argv) < 0)
      sleep(100);              // no memory for a fork: let others free some
  }
}
