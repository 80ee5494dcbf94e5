// What the memstat() system call reports (the `free` program prints it).
#ifndef KMEMSTAT_H
#define KMEMSTAT_H
#define BUDDY_MAXORDER 10                 // largest block: 2^10 pages (4 MiB)
#define BUDDY_NORDERS  (BUDDY_MAXORDER + 1)
struct memstat {
  uint total_pages;                       // pages the buddy allocator manages
  uint free_pages;                        // pages free now
  uint free_blocks[BUDDY_NORDERS];        // free blocks of each order
  uint kmalloc_bytes;                     // bytes handed out by kmalloc and not yet freed
  uint kmalloc_pages;                     // pages kmalloc holds (slabs and big objects)
  uint swap_pages;                        // pages on the swap disk (0: no swap)
  uint swap_used;                         // of those, holding a page now
};
#endif
