// Run-time kernel settings by name ("vm.lazy"), read and changed with the
// sysctl system call. Each setting is an int with an allowed range; a
// subsystem adds a line to the table for a new one.
#include "types.h"
#include "param.h"
#include "errno.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "mm/vm.h"
#include "mm/vma.h"
#include "mm/swap.h"

struct setting {
  const char *name;
  int *value;
  int min, max;
  void (*apply)(int newval);   // called after a change, or 0
};

static int vm_drop_caches;      // reads as 0: writing 1 drops the caches

static void
drop_caches(int v)
{
  if(v == 1)
    mobj_drop_caches();
  vm_drop_caches = 0;
}

static int vm_swap_audit;       // writing 1 checks swap; reads the last result

// sysctl vm.swap_audit=1: check every swap slot's reference count against
// the swap entries and swap copies that exist; the setting then reads as
// the number of slots that disagree (0: consistent), or a -errno.
static void
swap_audit(int v)
{
  vm_swap_audit = v == 1 ? reclaim_audit() : 0;
}

static const struct setting settings[] = {
  { "vm.lazy", &vm_lazy, 0, 1 },    // 1: sbrk/mmap pages on first touch; 0: at once
  { "vm.cow",  &vm_cow,  0, 2 },    // 1: fork shares private pages copy-on-write; 0: copies; 2: on-demand fork
  { "kern.ncpu", &ncpu, 1, 0 },     // CPUs running processes (read-only: min > max)
  { "sched.steal_wait", &sched_steal_wait, 0, 1 },  // 1: idle CPUs leave a lone waiting process a tick
  { "vm.msync_all", &vm_msync_all, 0, 1 },  // 1: msync writes every cached page; 0: dirty ones
  { "vm.drop_caches", &vm_drop_caches, 0, 1, drop_caches },  // 1: free clean unused cache pages
  { "vm.policy", &reclaim_policy, 0, 3 },   // page replacement: 0 fifo, 1 clock, 2 random, 3 lru (aging)
  { "vm.swap_dirtybit", &swap_dirtybit, 0, 1 },  // 1: a page unchanged since swap-in is not written again
  { "vm.swap_audit", &vm_swap_audit, 0, 1, swap_audit },  // 1: check swap slot counts (then: slots wrong)
  { "vm.reclaim_errors", &reclaim_file_errors, 1, 0 },  // file pages reclaim failed to write back (read-only)
};

static const struct setting *
find_setting(const char *name)
{
  uint i;

  for(i = 0; i < NELEM(settings); i++)
    if(strncmp(settings[i].name, name, MAXPATH) == 0)
      return &settings[i];
  return 0;
}

// int sysctl(const char *name, int newval): the setting's old value; if
// newval is not -1 the setting becomes newval. -ENOENT (no such setting),
// -EINVAL (newval out of range), -EFAULT, -ENAMETOOLONG.
int
sys_sysctl(void)
{
  char name[MAXPATH];
  const struct setting *s;
  int newval, old, r;

  if((r = argstr(0, name, sizeof(name))) < 0)
    return r;
  if(argint(1, &newval) < 0)
    return -EFAULT;
  if((s = find_setting(name)) == 0)
    return -ENOENT;
  if(newval != -1 && (newval < s->min || newval > s->max))
    return -EINVAL;
  old = *s->value;
  if(newval != -1)
    *s->value = newval;
  if(newval != -1 && s->apply)
    s->apply(newval);
  return old;
}
