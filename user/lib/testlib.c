// The test framework behind testlib.h.
#include "kernel/types.h"
#include "kernel/fcntl.h"
#include "kernel/memstat.h"
#include "kernel/mman.h"
#include "kernel/tracectl.h"
#include "user/user.h"
#include "user/lib/testlib.h"

#define ERRLOG "/t.stderr"   // test_sh's commands' stderr when not merged

static int report_fd = -1;   // write end of the pipe to the parent (in tests)
static int timeout_ticks = 3000;

void
test_set_timeout(int ticks)
{
  timeout_ticks = ticks;
}

static void (*setup_fn)(void);   // test_set_setup

void
test_set_setup(void (*fn)(void))
{
  setup_fn = fn;
}

#define TEST_MAXKEEP 8
static const char *keep_name[TEST_MAXKEEP];   // test_keep_sysctl
static int keep_val[TEST_MAXKEEP];
static int nkeep;

void
test_keep_sysctl(const char *name)
{
  if (nkeep < TEST_MAXKEEP)
    keep_name[nkeep++] = name;
  else
    printf("test_keep_sysctl: more than %d settings; %s is not kept\n", TEST_MAXKEEP, name);
}

// Remember (save) or put back (!save) the settings tests may change.
// A setting that cannot be read is not put back.
static void
keep_sysctls(int save)
{
  for (int i = 0; i < nkeep; i++) {
    if (save)
      keep_val[i] = sysctl(keep_name[i], -1);
    else if (keep_val[i] >= 0)
      sysctl(keep_name[i], keep_val[i]);
  }
}

void
test_fail(const char *fmt, ...)
{
  char msg[480];   // stays below a pipe's capacity: the parent reads it late
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
  va_end(ap);
  strcat(msg, "\n");
  if (report_fd >= 0)
    write(report_fd, msg, strlen(msg));
  else
    fprintf(2, "test_fail: %s", msg);
  exit(1);
}

// Free pages once the page cache has let go of every page it can (a
// file read or written leaves clean cache pages behind: not a leak).
int
test_freepages(void)
{
  struct memstat ms;
  sysctl("vm.drop_caches", 1);
  if (memstat(&ms) < 0)
    return -1;
  return ms.free_pages;
}

// The processes the running test made with test_fork, on a page shared by
// every process of the suite (so a grandchild's fork is listed too): when
// the test ends the parent kills whatever is still alive, so a test that
// timed out or failed leaves nothing running into the next one.
#define TEST_MAXKIDS 1000
struct test_kids {
  int n;
  int pid[TEST_MAXKIDS];
};
static struct test_kids *kids;   // 0 if the page could not be mapped

uint
test_vmcounter(int c)
{
  struct vmstat vs;

  if (vmstat(&vs, sizeof(vs)) < 0)
    test_fail("vmstat: %s", strerror(errno));
  return vs.v[c];
}

int
test_swap_audit(void)
{
  sysctl("vm.swap_audit", 1);   // (returns the previous result, maybe an error number)
  int r = sysctl("vm.swap_audit", -1);
  return r == -1 ? -errno : r;
}

struct memstat
test_memstat(void)
{
  struct memstat ms;

  if (memstat(&ms) < 0)
    test_fail("memstat: %s", strerror(errno));
  return ms;
}

void
test_need_swap(void)
{
  if (test_memstat().swap_pages == 0)
    test_fail("no swap disk: run with one (tests/run_all.py gives this suite one)");
}

uint
test_pattern(uint tag, uint i, uint w)
{
  return (tag * 2654435761u) ^ (i * 40503u) ^ (w << 20) ^ 0x5a5a0000;
}

void
test_fill_pages(char *p, uint npages, uint tag)
{
  for (uint i = 0; i < npages; i++) {
    uint *w = (uint *)(p + i * 4096);
    w[0] = test_pattern(tag, i, 0);
    w[512] = test_pattern(tag, i, 512);
    w[1023] = test_pattern(tag, i, 1023);
  }
}

void
test_verify_pages(char *p, uint npages, uint tag, const char *what)
{
  for (uint i = 0; i < npages; i++) {
    uint *w = (uint *)(p + i * 4096);
    if (w[0] != test_pattern(tag, i, 0) || w[512] != test_pattern(tag, i, 512) ||
        w[1023] != test_pattern(tag, i, 1023))
      test_fail("%s: page %d of %d holds 0x%x, want 0x%x", what, i, npages, w[0],
                test_pattern(tag, i, 0));
  }
}

int
test_fork(void)
{
  int pid = fork();
  if (pid < 0)
    test_fail("fork: %s", strerror(errno));
  if (pid > 0 && kids) {
    int i = __sync_fetch_and_add(&kids->n, 1);
    if (i < TEST_MAXKIDS)
      kids->pid[i] = pid;
  }
  return pid;
}

// Kill every process the last test made that is still alive.
static void
kill_kids(void)
{
  if (kids == 0)
    return;
  for (int i = 0; i < kids->n && i < TEST_MAXKIDS; i++)
    if (kids->pid[i] > 0)
      kill(kids->pid[i]);
  kids->n = 0;
}

int
test_spawn(const char *path, char **argv, const char *errpath, int *out)
{
  int p[2];
  if (pipe(p) < 0)
    test_fail("pipe: %s", strerror(errno));
  int pid = test_fork();
  if (pid == 0) {
    close(1);
    dup(p[1]);
    close(p[0]);
    close(p[1]);
    if (errpath) {
      close(2);
      if (open(errpath, O_CREATE | O_WRONLY | O_TRUNC) != 2)
        exit(126);
    }
    exec((char *)path, argv);
    exit(127);
  }
  close(p[1]);
  *out = p[0];
  return pid;
}

int
test_read_all(int fd, char *buf, int max)
{
  char skip[256];
  int kept = 0, total = 0, r;
  for (;;) {
    if (kept < max - 1)
      r = read(fd, buf + kept, max - 1 - kept);
    else
      r = read(fd, skip, sizeof(skip));   // drain what does not fit
    if (r <= 0)
      break;
    total += r;
    if (kept < max - 1)
      kept += r;
  }
  buf[kept] = 0;
  close(fd);
  return total;
}

// Children reaped while waiting for another one, kept for their own turn.
#define NSAVED 64
static struct { int pid, status; } saved[NSAVED];
static int nsaved;

// Wait for pid (or any child if pid is 0) and return its status.
int
test_wait(int pid)
{
  for (int i = 0; i < nsaved; i++) {
    if (pid == 0 || saved[i].pid == pid) {
      int st = saved[i].status;
      saved[i] = saved[--nsaved];
      return st;
    }
  }
  for (;;) {
    int st;
    int w = wait(&st);
    if (w < 0)
      test_fail("wait for %d: %s", pid, strerror(errno));
    if (pid == 0 || w == pid)
      return st;
    if (nsaved == NSAVED)
      test_fail("test_wait: too many unclaimed children");
    saved[nsaved].pid = w;
    saved[nsaved].status = st;
    nsaved++;
  }
}

void
test_write_file(const char *path, const char *data)
{
  int fd = open(path, O_WRONLY | O_CREATE | O_TRUNC);
  if (fd < 0)
    test_fail("create %s: %s", path, strerror(errno));
  int n = strlen(data);
  if (write(fd, data, n) != n)
    test_fail("write %s: %s", path, strerror(errno));
  close(fd);
}

int
test_sh(const char *cmd, char *out, int max, int merge)
{
  int fds[2];
  if (pipe(fds) < 0)
    test_fail("pipe: %s", strerror(errno));
  int pid = test_fork();
  if (pid == 0) {
    close(fds[0]);
    close(1);
    dup(fds[1]);
    close(2);
    if (merge)
      dup(fds[1]);
    else if (open(ERRLOG, O_WRONLY | O_CREATE | O_TRUNC) != 2)
      exit(126);
    close(fds[1]);
    char *argv[] = { "/sh", "-c", (char *)cmd, 0 };
    exec("/sh", argv);
    fprintf(2, "exec /sh: %s\n", strerror(errno));
    exit(127);
  }
  close(fds[1]);
  test_read_all(fds[0], out, max);
  return test_wait(pid);
}

// Copy what the last test_sh command wrote on stderr to our stderr.
static void
show_errlog(void)
{
  char buf[256];
  int n, fd = open(ERRLOG, O_RDONLY);
  fprintf(2, "--- its stderr:\n");
  while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
    write(2, buf, n);
  fprintf(2, "---\n");
  if (fd >= 0)
    close(fd);
}

void
test_expect(const char *cmd, const char *want, int st)
{
  static char got[4096];
  int s = test_sh(cmd, got, sizeof(got), 0);
  if (strcmp(got, want) != 0) {
    fprintf(2, "--- `%s` printed:\n%s\n--- want:\n%s\n", cmd, got, want);
    show_errlog();
    test_fail("`%s` printed \"%s\", want \"%s\"", cmd, got, want);
  }
  if (s != st) {
    show_errlog();
    test_fail("`%s` exited %d, want %d", cmd, s, st);
  }
}

// Should tests[i] run, given the names on the command line?
static int
selected(struct test *t, int argc, char **argv)
{
  if (argc < 2)
    return 1;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], t->name) == 0)
      return 1;
  return 0;
}

// Read the failure reason a test reported (first line only).
static void
read_reason(int fd, char *buf, int max)
{
  int n = read(fd, buf, max - 1);
  if (n < 0)
    n = 0;
  buf[n] = 0;
  char *nl = strchr(buf, '\n');
  if (nl)
    *nl = 0;
}

// Let a test child start: close our ends of its go pipe. A child waits for
// the end of that pipe, so it starts once everybody that shares its pages
// (us, the watchdog) has closed the pipe: their copy-on-write faults after
// fork are over (the call of close made them) and the pipe is freed by the
// child itself, so a test comparing free memory sees nobody else's.
static void
send_go(int go[2])
{
  close(go[0]);
  close(go[1]);
}

// Bring every page of the runner's own memory (program, data, heap, the
// stack page in use) into memory: under memory pressure reclaim may have
// sent some to swap, and one coming back while a test runs would look
// like a page the test leaked.
static void
touch_own_pages(void)
{
  volatile char here = 0;
  char *end = sbrk(0);

  for (char *a = (char *)4096; a < end; a += 4096)
    (void)*(volatile char *)a;
  (void)here;
}

// Run one test in a child under a watchdog, in a new directory
// /SUITE.INDEX (the suite name cut to 10 characters);
// 1 if it passed.
static int
run_one(const char *suite, struct test *t, int index)
{
  char reason[500];
  int fds[2], go[2];
  if (kids)
    kids->n = 0;                   // in memory now (swap may have taken it)
  keep_sysctls(1);
  touch_own_pages();
  int before = test_freepages();   // before anything of this test exists
  if (pipe(fds) < 0) {
    printf("FAIL %s.%s: pipe: %s\n", suite, t->name, strerror(errno));
    return 0;
  }
  if (pipe(go) < 0) {
    printf("FAIL %s.%s: pipe: %s\n", suite, t->name, strerror(errno));
    close(fds[0]);
    close(fds[1]);
    return 0;
  }
  int start = uptime();
  int pid = fork();
  if (pid == 0) {
    close(fds[0]);
    close(go[1]);
    char g;
    while (read(go[0], &g, 1) > 0)   // until we and the watchdog have closed it
      ;
    close(go[0]);
    report_fd = fds[1];
    char dir[24], prefix[11];
    strncpy(prefix, suite, 10);
    prefix[10] = 0;
    snprintf(dir, sizeof(dir), "/%s.%d", prefix, index);
    if (mkdir(dir) < 0 || chdir(dir) < 0)
      test_fail("cannot make the test directory %s: %s", dir, strerror(errno));
    if (setup_fn)
      setup_fn();
    t->fn();
    exit(0);
  }
  int dog = pid < 0 ? -1 : fork();
  if (dog == 0) {
    send_go(go);
    sleep(timeout_ticks);
    exit(0);
  }
  close(fds[1]);
  send_go(go);
  if (pid < 0 || dog < 0) {
    printf("FAIL %s.%s: fork: %s\n", suite, t->name, strerror(errno));
    if (pid > 0) {
      kill(pid);
      wait(0);
    }
    close(fds[0]);
    return 0;
  }
  int st, w, timedout = 0;
  while ((w = wait(&st)) != pid) {
    if (w == dog) {
      timedout = 1;
      dog = -1;
      kill(pid);
    } else if (w < 0) {
      break;
    }
  }
  if (dog > 0) {
    kill(dog);
    while ((w = wait(0)) != dog && w >= 0)
      ;
  }
  kill_kids();
  keep_sysctls(0);
  reason[0] = 0;
  if (timedout)
    snprintf(reason, sizeof(reason), "timed out after %d ticks", timeout_ticks);
  else if (st == 1)
    read_reason(fds[0], reason, sizeof(reason));
  if (reason[0] == 0 && st == -1)
    strcpy(reason, "test process was killed");
  else if (reason[0] == 0 && st != 0)
    snprintf(reason, sizeof(reason), "test process exited with status %d", st);
  close(fds[0]);
  if (reason[0] == 0) {
    // A test process killed while it had a child of its own leaves that
    // child to init, which reaps it (and frees its kernel stack) on its own
    // time: give it a few ticks before calling missing pages a leak.
    int after = test_freepages();
    for (int tries = 0; after < before && tries < 20; tries++) {
      sleep(1);
      after = test_freepages();
    }
    if (after < before)
      snprintf(reason, sizeof(reason), "leaked %d pages (free %d before, %d after)",
               before - after, before, after);
  }
  // How long it took, for whoever reads the log (a watchdog counts the
  // same ticks; a test near its limit shows up here before it fails).
  printf("time %s.%s: %d ticks\n", suite, t->name, uptime() - start);
  if (reason[0]) {
    printf("FAIL %s.%s: %s\n", suite, t->name, reason);
    return 0;
  }
  printf("PASS %s.%s\n", suite, t->name);
  return 1;
}

int
test_run(const char *suite, struct test *tests, int ntests, int argc, char **argv)
{
  int failed = 0;
  kids = mmap(0, sizeof(*kids), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (kids == MAP_FAILED)
    kids = 0;
  else
    kids->n = 0;                 // in memory before any test counts free pages
  errno = 0;                     // its page too (bss is zero-filled on first use)
  for (int i = 0; i < ntests; i++)
    if (selected(&tests[i], argc, argv))
      failed += !run_one(suite, &tests[i], i);
  return failed ? 1 : 0;
}
