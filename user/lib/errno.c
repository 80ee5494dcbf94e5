// errno, and the messages strerror/perror print for each error number.
#include "kernel/types.h"
#include "user/user.h"

int errno;

static const char *messages[] = {
  [EPERM] = "operation not permitted",
  [ENOENT] = "no such file or directory",
  [ESRCH] = "no such process",
  [EINTR] = "interrupted",
  [EIO] = "input/output error",
  [E2BIG] = "argument list too long",
  [ENOEXEC] = "exec format error",
  [EBADF] = "bad file descriptor",
  [ECHILD] = "no child processes",
  [EAGAIN] = "try again",
  [ENOMEM] = "out of memory",
  [EACCES] = "permission denied",
  [EFAULT] = "bad address",
  [EBUSY] = "device or resource busy",
  [EEXIST] = "file exists",
  [EXDEV] = "cross-device link",
  [ENODEV] = "no such device",
  [ENOTDIR] = "not a directory",
  [EISDIR] = "is a directory",
  [EINVAL] = "invalid argument",
  [ENFILE] = "too many open files in system",
  [EMFILE] = "too many open files",
  [EFBIG] = "file too large",
  [ENOSPC] = "no space left on device",
  [ESPIPE] = "illegal seek",
  [EMLINK] = "too many links",
  [EPIPE] = "broken pipe",
  [ERANGE] = "result out of range",
  [ENAMETOOLONG] = "file name too long",
  [ENOSYS] = "function not implemented",
  [ENOTEMPTY] = "directory not empty",
  [ELOOP] = "too many levels of symbolic links",
};

// The message for error number err ("unknown error" if there is none).
const char *
strerror(int err)
{
  if (err > 0 && err < (int)(sizeof(messages) / sizeof(messages[0])) && messages[err])
    return messages[err];
  return "unknown error";
}

// Print "what: message for errno" on standard error.
void
perror(const char *what)
{
  if (what && *what)
    fprintf(2, "%s: %s\n", what, strerror(errno));
  else
    fprintf(2, "%s\n", strerror(errno));
}
