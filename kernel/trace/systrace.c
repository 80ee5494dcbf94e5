// System calls for tracing and the VM counters (user API in tracectl.h).
#include "types.h"
#include "param.h"
#include "errno.h"
#include "core/spinlock.h"
#include "proc/proc.h"
#include "core/defs.h"
#include "trace/trace.h"

// int trace(int cmd, int arg, const char *s): control tracing (TRACE_*
// commands in tracectl.h). s is a label (TRACE_MARK) or a struct
// trace_status to fill (TRACE_STATUS); ignored otherwise.
int
sys_trace(void)
{
  struct trace_status st;
  char label[128];
  int cmd, arg, r;
  uint uva;

  if((r = argint(0, &cmd)) < 0 || (r = argint(1, &arg)) < 0 || (r = arguint(2, &uva)) < 0)
    return r;
  switch(cmd){
  case TRACE_STATUS:
    trace_status(&st);
    return copyout(myproc(), uva, &st, sizeof(st));
  case TRACE_DUMP:
    return trace_dump();
  case TRACE_MARK:
    if((r = argstr(2, label, sizeof(label))) < 0)
      return r;
    trace_marker(label, arg);
    return 0;
  case TRACE_BENCH:
    return trace_bench(arg);
  case TRACE_BENCHPART:
    return trace_bench_part(arg);
  case TRACE_CRASH:
    if(arg != TRACE_CRASH_YES)
      return -EINVAL;
    if(!kalloc_testmode())      // only in scripted runs (init turns it on)
      return -EPERM;
    panic("trace: crash requested (flight recorder test)");
  }
  return trace_ctl(cmd, arg);
}

// int vmstat(struct vmstat *vs, int size): copy the VM counters (at most
// size bytes of struct vmstat) to vs. Returns the bytes copied or -errno.
int
sys_vmstat(void)
{
  struct vmstat vs;
  uint uva;
  int size, r;

  if((r = arguint(0, &uva)) < 0 || (r = argint(1, &size)) < 0)
    return r;
  if(size < (int)sizeof(uint))
    return -EINVAL;
  if(size > (int)sizeof(vs))
    size = sizeof(vs);
  vmstat_read(&vs);
  if((r = copyout(myproc(), uva, &vs, size)) < 0)
    return r;
  return size;
}

// The first three argument words of the current system call num, for its
// sys_enter event (words that cannot be read are 0). Returns rdtsc().
uint64
trace_sys_enter_slow(uint num)
{
  uint w[TRACE_NWORDS] = { num };
  int i;

  for(i = 0; i < 3; i++)
    if(argint(i, (int *)&w[1 + i]) < 0)
      w[1 + i] = 0;
  if(trace_wants(TEV_SYS_ENTER))
    trace_record(TEV_SYS_ENTER, w);
  return rdtsc();
}
