// free: print the kernel's memory statistics (memstat()).
#include "kernel/types.h"
#include "kernel/memstat.h"
#include "user/user.h"

int
main(void)
{
  struct memstat ms;
  if (memstat(&ms) < 0) {
    perror("free: memstat");
    return 1;
  }
  printf("pages: %d total, %d free, %d used (4 KiB each)\n",
         ms.total_pages, ms.free_pages, ms.total_pages - ms.free_pages);
  printf("free blocks by order:");
  for (int k = 0; k < BUDDY_NORDERS; k++)
    printf(" %d:%d", k, ms.free_blocks[k]);
  printf("\n");
  printf("kmalloc: %d bytes in use, %d pages held\n", ms.kmalloc_bytes, ms.kmalloc_pages);
  if (ms.swap_pages)
    printf("swap: %d pages, %d used\n", ms.swap_pages, ms.swap_used);
  else
    printf("swap: none\n");
  return 0;
}
