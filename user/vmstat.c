// vmstat: print the kernel's VM counters (kernel/trace_events.h lists them).
//
//   vmstat                 every counter since boot, "name value" per line
//   vmstat CMD [ARGS...]   run CMD, then print what each counter grew by
#include "kernel/types.h"
#include "kernel/tracectl.h"
#include "user/user.h"

static const char *names[] = {
#define VMSTAT_COUNTER(N, idx, name) name,
  VMSTAT_COUNTERS
#undef VMSTAT_COUNTER
};

static void
readall(struct vmstat *vs)
{
  if(vmstat(vs, sizeof(*vs)) < 0){
    perror("vmstat");
    exit(1);
  }
}

int
main(int argc, char **argv)
{
  struct vmstat a, b;
  char full[64];
  int i, pid, st = 0;

  readall(&a);
  if(argc > 1){
    if((pid = fork()) < 0){
      perror("vmstat: fork");
      exit(1);
    }
    if(pid == 0){
      exec(argv[1], argv + 1);
      if(strchr(argv[1], '/') == 0 && strlen(argv[1]) < (int)sizeof(full) - 1){
        full[0] = '/';
        strcpy(full + 1, argv[1]);
        exec(full, argv + 1);
      }
      fprintf(2, "vmstat: cannot run %s: %s\n", argv[1], strerror(errno));
      exit(127);
    }
    wait(&st);
    readall(&b);
    for(i = 0; i < VM_NCOUNTERS && i < (int)a.n; i++)
      printf("%s %d\n", names[i], b.v[i] - a.v[i]);
    exit(st);
  }
  for(i = 0; i < VM_NCOUNTERS && i < (int)a.n; i++)
    printf("%s %d\n", names[i], a.v[i]);
  exit(0);
}
