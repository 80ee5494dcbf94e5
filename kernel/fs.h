// On-disk file-system format, shared by the kernel, mkfs and fsck.
//
// Disk layout, in BSIZE blocks:
//   [ boot (unused) | superblock | log | inodes | free bitmap | data ... ]
// mkfs computes the layout and records it in the superblock.
#ifndef KFS_H
#define KFS_H

#define BSIZE   1024          // block size in bytes
#define ROOTINO 1             // inode number of "/"
#define FSMAGIC 0x4b544653    // "SFTK" little-endian: identifies our file system

struct superblock {
  uint magic;       // FSMAGIC
  uint size;        // blocks in the image
  uint nblocks;     // data blocks
  uint ninodes;     // inodes
  uint nlog;        // log blocks (including the log header block)
  uint logstart;    // first log block
  uint inodestart;  // first inode block
  uint bmapstart;   // first free-bitmap block
};

#define NDIRECT    11                          // direct block numbers per inode
#define NINDIRECT  (BSIZE / sizeof(uint))      // block numbers per indirect block
#define NDINDIRECT (NINDIRECT * NINDIRECT)     // blocks reached via the doubly-indirect block
#define MAXFILE    (NDIRECT + NINDIRECT + NDINDIRECT)  // most blocks in one file
#define MAXFILESIZE ((uint)MAXFILE * BSIZE)

// On-disk inode: 64 bytes. addrs[0..NDIRECT-1] are direct blocks,
// addrs[NDIRECT] the singly-indirect block, addrs[NDIRECT+1] the doubly-indirect one.
struct dinode {
  short type;               // T_* from stat.h; 0 means free
  short major;              // device numbers (T_DEVICE only)
  short minor;
  short nlink;              // directory entries naming this inode
  uint  size;               // bytes of data
  uint  addrs[NDIRECT + 2];
};

#define IPB           (BSIZE / sizeof(struct dinode))   // inodes per block
#define IBLOCK(i, sb) ((i) / IPB + (sb).inodestart)     // block holding inode i
#define BPB           (BSIZE * 8)                       // bitmap bits per block
#define BBLOCK(b, sb) ((b) / BPB + (sb).bmapstart)      // bitmap block for block b

#define DIRSIZ 14   // longest name in a directory entry
struct dirent {
  ushort inum;      // 0 means the slot is free
  char   name[DIRSIZ];
};
#endif
