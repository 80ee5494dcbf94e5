// What fstat() reports about a file.
#ifndef KSTAT_H
#define KSTAT_H
#define T_DIR     1   // directory
#define T_FILE    2   // regular file
#define T_DEVICE  3   // device node
#define T_SYMLINK 4   // symbolic link (its data is the target path)
struct stat {
  int   dev;    // device number of the file system
  uint  ino;    // inode number
  short type;   // T_DIR, T_FILE, T_DEVICE or T_SYMLINK
  short nlink;  // links to the inode
  uint  size;   // size in bytes
};
#endif
