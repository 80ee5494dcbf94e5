// On-disk format of the write-ahead log's header, which is the first log
// block (sb.logstart). Shared by log.c and the host tools (fsck replays it).
#ifndef KLOGFMT_H
#define KLOGFMT_H
#include "types.h"
#include "param.h"

// n != 0 means a committed transaction: log block 1+i is the new contents
// of disk block block[i], for i < n.
struct logheader {
  uint n;
  uint block[LOGSIZE - 1];
};
#endif
