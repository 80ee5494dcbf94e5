// sysctl: show or change run-time kernel settings.
//   sysctl NAME          print "NAME = VALUE"
//   sysctl NAME=VALUE    change it, print "NAME = OLD -> VALUE"
// Settings: vm.lazy (1: sbrk/mmap memory appears on first touch, 0: at once);
// vm.policy also takes a name: fifo, clock, random or lru.
// Exits 1 if any argument named no setting or had a bad value.
#include "kernel/types.h"
#include "user/user.h"

#define MAXNAME 64

// Settings whose values have names: vm.policy=fifo|clock|random|lru.
static const char *policies[] = { "fifo", "clock", "random", "lru", 0 };

// The number a named value stands for, or -1.
static int
named_value(const char *name, const char *val)
{
  int i;

  if(strcmp(name, "vm.policy") != 0)
    return -1;
  for(i = 0; policies[i]; i++)
    if(strcmp(val, policies[i]) == 0)
      return i;
  return -1;
}

// Handle one argument; 0 or -1.
static int
one(const char *arg)
{
  char name[MAXNAME];
  const char *eq = strchr(arg, '=');
  int len = eq ? eq - arg : strlen(arg), newval = -1, old;

  if(len >= MAXNAME){
    fprintf(2, "sysctl: %s: name too long\n", arg);
    return -1;
  }
  memmove(name, arg, len);
  name[len] = 0;
  if(eq){
    if((newval = named_value(name, eq + 1)) >= 0)
      ;
    else if(eq[1] < '0' || eq[1] > '9'){
      fprintf(2, "sysctl: %s: value must be a number >= 0%s\n", arg,
              strcmp(name, "vm.policy") == 0 ? " or fifo, clock, random, lru" : "");
      return -1;
    } else
      newval = atoi(eq + 1);
  }
  if((old = sysctl(name, newval)) < 0){
    fprintf(2, "sysctl: %s: %s\n", name, strerror(errno));
    return -1;
  }
  if(eq)
    printf("%s = %d -> %d\n", name, old, newval);
  else
    printf("%s = %d\n", name, old);
  return 0;
}

int
main(int argc, char **argv)
{
  int i, bad = 0;

  if(argc < 2){
    fprintf(2, "usage: sysctl NAME[=VALUE]...\n");
    exit(1);
  }
  for(i = 1; i < argc; i++)
    if(one(argv[i]) < 0)
      bad = 1;
  exit(bad);
}
