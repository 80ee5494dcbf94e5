// A tiny in-guest test framework. A suite is a table of tests; each test
// runs in its own forked child, under a watchdog, with a fresh directory
// /SUITE.N (N = its index in the table) as its working directory. The parent prints
// "PASS suite.name" or "FAIL suite.name: reason" per test: a test fails
// if it calls test_fail() (or a CHECK fails), exits non-zero, is killed,
// times out, or if free memory pages after it differ from before (a leak).
#ifndef TESTLIB_H
#define TESTLIB_H

struct test {
  const char *name;
  void (*fn)(void);
};
#define TEST(fn) { #fn, fn }

// Run the tests (only those named in argv[1..], if any); returns the exit
// status: 0 if every test passed, else 1.
int  test_run(const char *suite, struct test *tests, int ntests, int argc, char **argv);

// Set the watchdog for the following tests, in clock ticks (default 3000).
void test_set_timeout(int ticks);

// Call fn in each test's process before the test itself (e.g. a sysctl
// every test of the suite runs under); 0: none.
void test_set_setup(void (*fn)(void));

// The sysctl name (up to 8 of them per suite) is a setting tests may
// change: its value before each test is put back after it, passed or not.
void test_keep_sysctl(const char *name);

// End the running test as failed; the message becomes the FAIL reason.
// Usable from the test's own child processes too.
void test_fail(const char *fmt, ...) __attribute__((noreturn));

#define CHECK(c) \
  do { if (!(c)) test_fail("line %d: %s", __LINE__, #c); } while (0)
// expr must fail with -1 and errno err.
#define CHECK_ERR(expr, err) \
  do { int r_ = (int)(expr); int e_ = errno; \
       if (r_ != -1 || e_ != (err)) \
         test_fail("line %d: %s: got %d errno %d (%s), want -1 errno %d", \
                   __LINE__, #expr, r_, e_, strerror(e_), (err)); } while (0)
// expr must equal want (ints).
#define CHECK_EQ(expr, want) \
  do { int g_ = (int)(expr); int w_ = (int)(want); \
       if (g_ != w_) test_fail("line %d: %s = %d, want %d (errno %d)", \
                               __LINE__, #expr, g_, w_, errno); } while (0)

// Free pages right now (memstat).
int  test_freepages(void);

// Memory and swap right now (memstat); fails the test if memstat does.
struct memstat;
struct memstat test_memstat(void);

// VM counter c (VM_* of kernel/tracectl.h) right now; fails the test if
// vmstat does.
uint test_vmcounter(int c);

// Patterns for tests whose pages travel (swap, reclaim, write-back): the
// word stored at word w of page i of a region tagged tag; fill stores it
// into words 0, 512 and 1023 of each of npages pages at p; verify fails
// the test (naming what and the first bad page) unless they all hold it.
uint test_pattern(uint tag, uint i, uint w);
void test_fill_pages(char *p, uint npages, uint tag);
void test_verify_pages(char *p, uint npages, uint tag, const char *what);

// The kernel's swap audit (sysctl vm.swap_audit): the swap slots whose
// reference count disagrees with the swap entries and copies that exist
// (0: consistent), or -errno (-EBUSY: some address space was busy).
int  test_swap_audit(void);
// Fail the test unless the guest has a swap disk.
void test_need_swap(void);

// Run `sh -c cmd` with stdout (and stderr too if merge, else stderr goes
// to the file /t.stderr, shown when test_expect fails) into a pipe;
// the output (NUL-terminated, at most max-1 bytes kept) goes to out.
// Returns the command's exit status.
int  test_sh(const char *cmd, char *out, int max, int merge);

// Run cmd through sh; fail the test unless it prints exactly want on
// stdout and exits with status st.
void test_expect(const char *cmd, const char *want, int st);

// Create path with the given contents (fails the test on error).
void test_write_file(const char *path, const char *data);

// fork, failing the test if it fails. A child still alive when the test
// ends (passed, failed or timed out) is killed.
int  test_fork(void);
// Run the program at path with argv in a child whose stdout goes into a
// pipe, and whose stderr goes to the file errpath (created) unless
// errpath is 0. *out gets the pipe's read end. Returns the child's pid (a
// child whose exec fails exits 127); fails the test if pipe or fork does.
int  test_spawn(const char *path, char **argv, const char *errpath, int *out);
// Read fd to its end into buf (at most max-1 bytes kept, NUL-terminated)
// and close it. Returns the bytes read, kept or not.
int  test_read_all(int fd, char *buf, int max);
// Wait for child pid (any child if 0); its status. Other children reaped
// meanwhile are remembered for later calls. Fails the test if there is none.
int  test_wait(int pid);
#endif
