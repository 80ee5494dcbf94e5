// trace: control kernel event tracing (kernel/tracectl.h, trace/FORMAT.md).
//
//   trace run [-p|-a] [-e EVENTS] [-s N] [-m flight|stop] CMD [ARGS...]
//              clear, enable, run CMD, disable, dump to COM2: the usual use.
//              Records CMD and every process it forks (and theirs);
//              -p: only CMD's process; -a: every process;
//              -e: event list (default all but sys_enter,sys_exit and
//              the sched_* events);
//              -s: records per CPU
//   trace on | off | clear | status | dump
//   trace events fault,page_alloc,...|all     which event types to record
//   trace pid N                               only process N (0: all)
//   trace follow N                            process N and its later descendants
//   trace size N                              records per CPU (rounded up to a power of two)
//   trace mode flight|stop                    overwrite oldest / drop newest when full
//   trace mark LABEL [N]                      put a marker event in the log
//   trace bench [N]                           cycles one event costs, off and on
#include "kernel/types.h"
#include "kernel/tracectl.h"
#include "user/user.h"

#ifndef NELEM
#define NELEM(x) (sizeof(x) / sizeof((x)[0]))
#endif

static const struct { const char *name; int code; } evnames[] = {
#define TRACE_EVENT(N, code, name, fields) { name, code },
  TRACE_EVENTS
#undef TRACE_EVENT
};

static void
usage(void)
{
  fprintf(2, "usage: trace run [-p|-a] [-e EVENTS] [-s N] [-m flight|stop] CMD [ARGS...]\n"
             "       trace on|off|clear|status|dump\n"
             "       trace events LIST|all   trace pid N   trace follow N   trace size N\n"
             "       trace mode flight|stop  trace mark LABEL [N]   trace bench [N]\n");
  exit(2);
}

// Run trace(cmd, arg, s); on failure print why and exit 1.
static int
ctl(int cmd, int arg, const char *s, const char *what)
{
  int r = trace(cmd, arg, s);

  if(r < 0){
    fprintf(2, "trace: %s: %s\n", what, strerror(errno));
    exit(1);
  }
  return r;
}

// "fault,page_alloc" or "all" -> event mask; -1 if a name is unknown.
static int
parse_events(const char *list)
{
  char word[32];
  int mask = 0, i, n;

  if(strcmp(list, "all") == 0)
    return ~1;
  while(*list){
    for(n = 0; list[n] && list[n] != ',' && n < (int)sizeof(word) - 1; n++)
      word[n] = list[n];
    word[n] = 0;
    list += n;
    if(*list == ',')
      list++;
    for(i = 0; i < (int)NELEM(evnames); i++)
      if(strcmp(word, evnames[i].name) == 0)
        break;
    if(i == (int)NELEM(evnames)){
      fprintf(2, "trace: unknown event '%s'\n", word);
      return -1;
    }
    mask |= 1 << evnames[i].code;
  }
  return mask;
}

// A decimal number >= 0 (at most 9 digits); anything else is a usage error.
static int
parse_num(const char *s)
{
  int n = 0, i;

  for(i = 0; s[i]; i++)
    if(s[i] < '0' || s[i] > '9' || i >= 9){
      fprintf(2, "trace: '%s' is not a number\n", s);
      exit(2);
    }
  if(i == 0)
    usage();
  for(i = 0; s[i]; i++)
    n = n * 10 + (s[i] - '0');
  return n;
}

// Set the buffer size; say so when the kernel rounded it up.
static void
set_size(int n)
{
  struct trace_status st;

  ctl(TRACE_SIZE, n, 0, "size");
  memset(&st, 0, sizeof(st));
  ctl(TRACE_STATUS, 0, (const char *)&st, "status");
  if((int)st.cap != n)
    fprintf(2, "trace: buffer size %d records per cpu (a power of two)\n", st.cap);
}

static int
parse_mode(const char *s)
{
  if(strcmp(s, "flight") == 0)
    return TRACE_FLIGHT;
  if(strcmp(s, "stop") == 0)
    return TRACE_STOP;
  fprintf(2, "trace: mode is flight or stop\n");
  exit(2);
}

static void
print_status(int fd)
{
  struct trace_status st;
  int i, first = 1;

  memset(&st, 0, sizeof(st));
  ctl(TRACE_STATUS, 0, (const char *)&st, "status");
  fprintf(fd, "tracing %s, mode %s, %d records/cpu, pid %d%s, tsc %d kHz, events ",
          st.enabled ? "on" : "off", st.mode == TRACE_STOP ? "stop" : "flight",
          st.cap, st.pid, st.follow ? " and descendants" : "", st.tsc_khz);
  for(i = 0; i < (int)NELEM(evnames); i++)
    if(st.mask & (1 << evnames[i].code)){
      fprintf(fd, "%s%s", first ? "" : ",", evnames[i].name);
      first = 0;
    }
  fprintf(fd, "\n");
  for(i = 0; i < st.ncpu; i++)
    fprintf(fd, "cpu %d: recorded %d lost %d held %d paused-lost %d\n",
            i, st.cpu[i].recorded, st.cpu[i].lost, st.cpu[i].held, st.cpu[i].paused);
}

// exec path, or /path if path has no slash.
static void
run_exec(char **argv)
{
  char full[64];

  exec(argv[0], argv);
  if(strchr(argv[0], '/') == 0 && strlen(argv[0]) < (int)sizeof(full) - 1){
    full[0] = '/';
    strcpy(full + 1, argv[0]);
    exec(full, argv);
  }
  fprintf(2, "trace: cannot run %s: %s\n", argv[0], strerror(errno));
  exit(127);
}

// trace run: clear, enable, run the command (held at a pipe until tracing is
// set up for it), disable, dump. Exits with the command's status.
static void
cmd_run(int argc, char **argv)
{
  int who = TRACE_FOLLOW, mask = TRACE_MASK_DEFAULT, size = 0, mode = -1, fds[2], pid;
  int st = 0, n;
  char go = 'g';

  while(argc > 0 && argv[0][0] == '-'){
    if(strcmp(argv[0], "-p") == 0){
      who = TRACE_PID; argc--; argv++;
    } else if(strcmp(argv[0], "-a") == 0){
      who = 0; argc--; argv++;
    } else if(argc >= 2 && strcmp(argv[0], "-e") == 0){
      if((mask = parse_events(argv[1])) == -1)
        exit(2);
      argc -= 2; argv += 2;
    } else if(argc >= 2 && strcmp(argv[0], "-s") == 0){
      if((size = parse_num(argv[1])) == 0){
        fprintf(2, "trace: size must be at least 1\n");
        exit(2);
      }
      argc -= 2; argv += 2;
    } else if(argc >= 2 && strcmp(argv[0], "-m") == 0){
      mode = parse_mode(argv[1]); argc -= 2; argv += 2;
    } else
      usage();
  }
  if(argc == 0)
    usage();
  ctl(TRACE_OFF, 0, 0, "off");
  if(size > 0)
    set_size(size);
  if(mode >= 0)
    ctl(TRACE_MODE, mode, 0, "mode");
  ctl(TRACE_MASK, mask, 0, "events");
  ctl(TRACE_PID, 0, 0, "pid");
  ctl(TRACE_CLEAR, 0, 0, "clear");
  if(pipe(fds) < 0){
    perror("trace: pipe");
    exit(1);
  }
  if(!who)
    ctl(TRACE_ON, 0, 0, "on");
  if((pid = fork()) < 0){
    perror("trace: fork");
    exit(1);
  }
  if(pid == 0){
    close(fds[1]);
    read(fds[0], &go, 1);            // wait until tracing is set up for us
    close(fds[0]);
    run_exec(argv);
  }
  close(fds[0]);
  if(who){
    ctl(who, pid, 0, "pid");
    ctl(TRACE_ON, 0, 0, "on");
  }
  write(fds[1], &go, 1);
  close(fds[1]);
  wait(&st);
  ctl(TRACE_OFF, 0, 0, "off");
  n = ctl(TRACE_DUMP, 0, 0, "dump");
  fprintf(2, "trace: %s exited %d; %d records dumped to COM2\n", argv[0], st, n);
  print_status(2);
  exit(st);
}

// Cycles per event with tracing off and on (markers, this process only).
static void
cmd_bench(int n)
{
  int off, on;

  ctl(TRACE_OFF, 0, 0, "off");
  off = ctl(TRACE_BENCH, n, 0, "bench");
  ctl(TRACE_MASK, 1 << TEV_MARKER, 0, "events");
  ctl(TRACE_PID, getpid(), 0, "pid");
  ctl(TRACE_CLEAR, 0, 0, "clear");
  ctl(TRACE_ON, 0, 0, "on");
  on = ctl(TRACE_BENCH, n, 0, "bench");
  ctl(TRACE_OFF, 0, 0, "off");
  ctl(TRACE_PID, 0, 0, "pid");
  ctl(TRACE_MASK, TRACE_MASK_DEFAULT, 0, "events");
  printf("trace bench: %d events: off %d.%02d cycles/event, on %d.%02d cycles/event\n",
         n, off / 100, off % 100, on / 100, on % 100);
  printf("csvstat,event_cycles_off,%d.%02d\ncsvstat,event_cycles_on,%d.%02d\n",
         off / 100, off % 100, on / 100, on % 100);
}

int
main(int argc, char **argv)
{
  char *c;
  int m;

  if(argc < 2)
    usage();
  c = argv[1];
  if(strcmp(c, "run") == 0)
    cmd_run(argc - 2, argv + 2);
  else if(strcmp(c, "on") == 0)
    ctl(TRACE_ON, 0, 0, "on");
  else if(strcmp(c, "off") == 0)
    ctl(TRACE_OFF, 0, 0, "off");
  else if(strcmp(c, "clear") == 0)
    ctl(TRACE_CLEAR, 0, 0, "clear");
  else if(strcmp(c, "status") == 0)
    print_status(1);
  else if(strcmp(c, "dump") == 0)
    printf("%d records dumped to COM2\n", ctl(TRACE_DUMP, 0, 0, "dump"));
  else if(strcmp(c, "events") == 0 && argc == 3){
    if((m = parse_events(argv[2])) == -1)
      exit(2);
    ctl(TRACE_MASK, m, 0, "events");
  } else if(strcmp(c, "pid") == 0 && argc == 3)
    ctl(TRACE_PID, parse_num(argv[2]), 0, "pid");
  else if(strcmp(c, "follow") == 0 && argc == 3)
    ctl(TRACE_FOLLOW, parse_num(argv[2]), 0, "follow");
  else if(strcmp(c, "size") == 0 && argc == 3)
    set_size(parse_num(argv[2]));
  else if(strcmp(c, "mode") == 0 && argc == 3)
    ctl(TRACE_MODE, parse_mode(argv[2]), 0, "mode");
  else if(strcmp(c, "mark") == 0 && (argc == 3 || argc == 4))
    ctl(TRACE_MARK, argc == 4 ? atoi(argv[3]) : 0, argv[2], "mark");
  else if(strcmp(c, "bench") == 0)
    cmd_bench(argc >= 3 ? parse_num(argv[2]) : 100000);
  else
    usage();
  exit(0);
}
