// What the fsstat() system call reports about the root file system.
#ifndef KFSSTAT_H
#define KFSSTAT_H
struct fsstat {
  uint bsize;          // bytes per block
  uint size;           // blocks in the file system
  uint nblocks;        // data blocks (the rest is metadata)
  uint free_blocks;    // data blocks free now
  uint ninodes;        // disk inodes
  uint free_inodes;    // disk inodes free now
  uint maxfile;        // most blocks one file can hold
  uint mem_inodes;     // inodes held in memory (referenced) now
};
#endif
