// The page cache: the file side of memory objects (mobj.h). Each regular
// file's pages live once in memory, in the file's object, shared by
// read(), write() and every mapping of the file in every process.
//
//   fill        a missing page is read from the file under the inode lock
//               (bytes past the end of the file stay zero) and only then
//               put in the index
//   read()      copies out of a referenced cache page with no lock held
//   write()     copies the user's bytes in first (no lock held), then, in
//               one log operation per piece, writes them through the log
//               (durable when write returns) and into any cached page
//   write-back  pages stored to through mappings (PTE dirty bits, moved to
//               the page by rmap_harvest) go to the file, only the bytes
//               inside the file, once per store
//
// Because no inode lock, buffer or log operation is held while user
// memory is touched, a fault taken while copying (even on a mapping of the
// very same page) can take the inode lock itself, and a process waiting
// in such a copy can be killed. Lock order: mobj.h.
#include "types.h"
#include "param.h"
#include "arch/memlayout.h"
#include "arch/mmu.h"
#include "errno.h"
#include "stat.h"
#include "core/spinlock.h"
#include "core/sleeplock.h"
#include "proc/proc.h"
#include "fs.h"
#include "fs/file.h"
#include "fs/fsint.h"
#include "core/defs.h"
#include "mm/vm.h"
#include "mm/mobj.h"
#include "mm/pctrace.h"

#define WCHUNK_ORDER 4          // write() copies in up to 2^4 pages at a time

int vm_msync_all = 0;

// Has p been killed? A lock-free look (a kill is seen at the latest on
// the next call): the copy loops below ask once per page.
static int
pcache_killed(struct proc *p)
{
  return __atomic_load_n(&p->killed, __ATOMIC_RELAXED) != 0;
}

// File page pgno of ip (object o) with a reference for the caller, read
// from disk if it is not cached (then *disk = 1). 0 with *err = -ENXIO
// (the page lies wholly past the end of the file) or -ENOMEM. Caller
// holds ip->lock.
static void *
get_locked(struct inode *ip, struct mobj *o, uint pgno, int *err, int *disk)
{
  void *kva;
  int r;

  if((kva = mobj_lookup(o, pgno)) != 0){
    trace_pcache(TEV_PCACHE_HIT, ip->inum, pgno);
    return kva;
  }
  if((uint64)pgno * PGSIZE >= ip->size){
    *err = -ENXIO;
    return 0;
  }
  if((kva = vm_user_page()) == 0){
    *err = -ENOMEM;
    return 0;
  }
  // A short read inside the file is a disk error part way through.
  r = readi(ip, 0, (uint)kva, pgno * PGSIZE, PGSIZE);
  if(r >= 0 && (uint)r < PGSIZE && (uint)r < ip->size - pgno * PGSIZE)
    r = -EIO;
  if(r < 0){
    vm_user_page_put(kva);
    *err = r;
    return 0;
  }
  trace_pcache(TEV_PCACHE_MISS, ip->inum, pgno);
  *disk = 1;
  return mobj_insert(o, pgno, kva);
}

// The same, for callers that do not ask where the page came from.
void *
pcache_get_locked(struct inode *ip, struct mobj *o, uint pgno, int *err)
{
  int disk;

  return get_locked(ip, o, pgno, err, &disk);
}

// Read n bytes at file offset off of ip into kernel memory dst (exec):
// each page comes from the cache when it is there (it may hold stores a
// mapping made and nobody wrote back yet), from the disk otherwise, and
// nothing is added to the cache. Returns the bytes read (fewer at the end
// of the file) or -errno. Caller holds ip->lock.
int
pcache_read_kernel(struct inode *ip, char *dst, uint off, uint n)
{
  struct mobj *o = mobj_file_find(ip->dev, ip->inum);
  uint done, m;
  char *kva;
  int r = 0;

  if(off >= ip->size)
    n = 0;
  else if(n > ip->size - off)
    n = ip->size - off;
  for(done = 0; done < n; done += m){
    m = PGSIZE - (off + done) % PGSIZE;
    if(m > n - done)
      m = n - done;
    if(o && (kva = mobj_lookup(o, (off + done) / PGSIZE)) != 0){
      memmove(dst + done, kva + (off + done) % PGSIZE, m);
      vm_user_page_put(kva);
    } else if((r = readi(ip, 0, (uint)(dst + done), off + done, m)) != (int)m){
      r = r < 0 ? r : -EIO;
      break;
    }
  }
  if(o)
    mobj_put(o);
  return done == n ? (int)n : r;
}

// The same for the fault path: a cached page is found without the inode
// lock; a missing one is read under it. *major: 1 if this call read the
// page from disk (a major fault), else 0. Caller holds no inode lock.
void *
pcache_fault_page(struct inode *ip, struct mobj *o, uint pgno, int *err, int *major)
{
  void *kva;

  *major = 0;
  if((kva = mobj_lookup(o, pgno)) != 0){
    trace_pcache(TEV_PCACHE_HIT, ip->inum, pgno);
    return kva;
  }
  ilock(ip);
  kva = get_locked(ip, o, pgno, err, major);
  iunlock(ip);
  return kva;
}

// read() of a regular file: up to n bytes from f's offset to user address
// uaddr, one cache page at a time. The inode lock is held only to look at
// the size, find (or fill) the page and advance the offset, never while
// copying out (a failed copy takes the offset back). Returns the bytes
// read (0 at end of file) or -EFAULT / -ENOMEM / -EINTR if none were.
int
pcache_file_read(struct file *f, uint uaddr, int n)
{
  struct inode *ip = f->ip;
  struct proc *p = myproc();
  struct mobj *o;
  uint off, m;
  int done = 0, r = 0;
  void *kva;

  if((o = mobj_file_get(ip->dev, ip->inum)) == 0)
    return -ENOMEM;
  while(done < n){
    if(pcache_killed(p)){
      r = -EINTR;
      break;
    }
    if(f->off >= ip->size && done > 0)
      break;                // the end, seen without the lock after a full page
    ilock(ip);
    off = f->off;
    if(off >= ip->size){
      iunlock(ip);
      break;
    }
    m = PGSIZE - off % PGSIZE;
    if(m > (uint)(n - done))
      m = n - done;
    if(m > ip->size - off)
      m = ip->size - off;
    if((kva = pcache_get_locked(ip, o, off / PGSIZE, &r)) != 0)
      f->off = off + m;
    iunlock(ip);
    if(kva == 0)
      break;
    r = copyout(p, uaddr + done, (char *)kva + off % PGSIZE, m);
    vm_user_page_put(kva);
    if(r < 0){
      ilock(ip);
      if(f->off == off + m)
        f->off = off;
      iunlock(ip);
      break;
    }
    done += m;
  }
  mobj_put(o);
  return done > 0 ? done : r;
}

// Copy n bytes at src (kernel) to file offset off in the cached pages of o
// that are in memory (write() after writing them to the file). The file
// was oldsize bytes long before: bytes of a cached page between the old
// end and off (which may hold stores made past the old end through a
// mapping) become part of the file, so they are zeroed. Caller holds the
// inode lock.
void
pcache_update(struct mobj *o, uint off, const char *src, uint n, uint oldsize)
{
  uint pgno, pos, m, z;
  char *kva;

  if(oldsize < off && (kva = mobj_lookup(o, oldsize / PGSIZE)) != 0){
    z = off - oldsize;
    if(z > PGSIZE - oldsize % PGSIZE)
      z = PGSIZE - oldsize % PGSIZE;
    memset(kva + oldsize % PGSIZE, 0, z);
    vm_user_page_put(kva);
  }
  for(pos = 0; pos < n; pos += m){
    pgno = (off + pos) / PGSIZE;
    m = PGSIZE - (off + pos) % PGSIZE;
    if(m > n - pos)
      m = n - pos;
    if((kva = mobj_lookup(o, pgno)) == 0)
      continue;
    memmove(kva + (off + pos) % PGSIZE, src + pos, m);
    vm_user_page_put(kva);
  }
}

// The file grew from oldsize to newsize bytes: mappings that saw the zero
// page for pages wholly past the old end drop it, so their next access
// maps the file's page. Caller holds ip->lock, no spinlock.
static void
pcache_grow(struct mobj *o, uint oldsize, uint newsize)
{
  uint from = PGROUNDUP(oldsize) / PGSIZE, to = PGROUNDUP(newsize) / PGSIZE;

  if(from < to)
    rmap_unmap(o, from, to);
}

// One piece of a write(): bytes buf[0..n) at f's offset (the end, for
// O_APPEND), in one log operation, to the file and its cached pages.
// Returns the bytes written (fewer if write_span says so) or -errno.
static int
write_piece(struct file *f, struct mobj *o, const char *buf, uint n)
{
  struct inode *ip = f->ip;
  uint m, oldsize;
  int r;

  if((r = log_writable()) < 0)
    return r;                 // read-only after a failed disk write
  begin_op_n(WRITEOPBLOCKS);
  ilock(ip);
  if(f->append)
    f->off = ip->size;
  oldsize = ip->size;
  m = write_span(ip, f->off, n, WRITEOPBLOCKS);
  if((r = writei(ip, 0, (uint)buf, f->off, m)) > 0){
    pcache_update(o, f->off, buf, r, oldsize);
    pcache_grow(o, oldsize, ip->size);
    f->off += r;
  }
  iunlock(ip);
  if(end_op_n(WRITEOPBLOCKS) < 0)
    r = -EIO;                 // the commit failed: not saved
  return r;
}

// A buffer for write()'s user bytes: 2^order pages, the largest that is
// free up to WCHUNK_ORDER. 0 when there is no page at all.
static char *
chunk_alloc(int *order)
{
  char *buf;

  for(*order = WCHUNK_ORDER; *order >= 0; (*order)--)
    if((buf = page_alloc(*order)) != 0)
      return buf;
  return 0;
}

// write() of a regular file: n bytes from user address uaddr at f's
// offset. The bytes are copied in a chunk at a time with no lock held,
// then written (write_piece). Returns the count, or -EFAULT / -ENOSPC /
// -EFBIG / -ENOMEM / -EINTR if nothing was written.
int
pcache_file_write(struct file *f, uint uaddr, int n)
{
  struct proc *p = myproc();
  struct mobj *o;
  char *buf;
  int order, done = 0, r = 0, len, pos;

  if((o = mobj_file_get(f->ip->dev, f->ip->inum)) == 0)
    return -ENOMEM;
  if((buf = chunk_alloc(&order)) == 0){
    mobj_put(o);
    return -ENOMEM;
  }
  while(done < n && r >= 0){
    if(pcache_killed(p)){
      r = -EINTR;
      break;
    }
    len = n - done < (PGSIZE << order) ? n - done : (PGSIZE << order);
    if((r = copyin(p, buf, uaddr + done, len)) < 0)
      break;
    for(pos = 0; pos < len; pos += r)
      if((r = write_piece(f, o, buf + pos, len - pos)) <= 0)
        break;
    done += pos;
    if(pos < len)
      break;
  }
  page_free(buf, order);
  mobj_put(o);
  return done > 0 ? done : (r < 0 ? r : 0);
}

// Bytes of the len bytes at file offset off that lie inside the file (a
// write-back never makes a file longer). Caller holds ip->lock.
static uint
bytes_in_file(struct inode *ip, uint off, uint len)
{
  if(off >= ip->size)
    return 0;
  return ip->size - off < len ? ip->size - off : len;
}

#define WB_RUN 16               // pages written back together, at most

// Write the cache pages run[0..k) (file pages start .. start+k-1 of ip) to
// the file, in as few log operations of at most WRITEOPBLOCKS blocks as
// write_span allows (consecutive pages share their index and bitmap
// blocks). One write-back event per page (why: TW_*; va: the user address
// page start was written through, or 0). 0 or -errno.
static int
write_run(struct inode *ip, uint start, char **run, int k, uint va, int why)
{
  uint off = start * PGSIZE, done = 0, n = 0, end, len, wrote[WB_RUN];
  int r = 0, i;

  memset(wrote, 0, sizeof(wrote));
  for(;;){
    r = 0;
    begin_op_n(WRITEOPBLOCKS);
    ilock(ip);
    n = bytes_in_file(ip, off, k * PGSIZE);
    if(done < n){
      end = done + write_span(ip, off + done, n - done, WRITEOPBLOCKS);
      for(; done < end; done += r){
        i = done / PGSIZE;
        len = PGSIZE - done % PGSIZE < end - done ? PGSIZE - done % PGSIZE : end - done;
        if((r = writei(ip, 0, (uint)run[i] + done % PGSIZE, off + done, len)) <= 0)
          break;
        wrote[i] += r;
      }
    }
    iunlock(ip);
    if(end_op_n(WRITEOPBLOCKS) < 0 && r >= 0)
      r = -EIO;             // the commit failed: not saved
    if(r <= 0 || done >= n)
      break;                // all written, or an error
  }
  for(i = 0; i < k; i++)
    if(wrote[i] > 0)
      trace_writeback(va ? va + i * PGSIZE : 0, ip->inum, off + i * PGSIZE, wrote[i], why);
  return r < 0 ? r : 0;
}

// Write back the cached pages [from, to) of ip (object o) that are dirty
// (PG_DIRTY; every cached one if vm.msync_all), cleaning them; runs of
// consecutive ones go together (write_run). va is the user address of
// page from in the caller's mapping (0 if none) for the events. 0 or the
// first -errno (the pages of a run that failed stay dirty).
int
pcache_writeback(struct inode *ip, struct mobj *o, uint from, uint to, uint va, int why)
{
  char *run[WB_RUN], *kva;
  uint n = from, start = from;
  int r, i, k, first = 0;

  while(n < to && o->npages > 0){
    for(k = 0; n < to && k < WB_RUN; n++){
      kva = mobj_lookup(o, n);
      if(kva && (mobj_test_clear_dirty(kva) || vm_msync_all)){
        if(k == 0)
          start = n;
        run[k++] = kva;
        continue;
      }
      if(kva)
        vm_user_page_put(kva);
      if(k > 0){
        n++;
        break;              // the run ends before page n
      }
    }
    if(k == 0)
      continue;
    r = write_run(ip, start, run, k, va ? va + (start - from) * PGSIZE : 0, why);
    for(i = 0; i < k; i++){
      if(r < 0)
        mobj_set_dirty(run[i]);
      vm_user_page_put(run[i]);
    }
    if(r < 0 && first == 0)
      first = r;
  }
  return first;
}

// msync, fsync, munmap and exit: collect the dirty bits of pages [from,
// to) from every mapping of o, then write back exactly the dirty pages.
// Caller holds no lock. 0 or the first -errno.
int
pcache_sync(struct inode *ip, struct mobj *o, uint from, uint to, uint va, int why)
{
  rmap_harvest(o, from, to);
  return pcache_writeback(ip, o, from, to, va, why);
}

// The file ip shrinks or grows from oldsize to newsize bytes: pages wholly
// past the new end leave every mapping and the cache; the part of the
// last page past the shorter end reads as zero (stores a mapping made
// past the old end do not become file content); pages the file grows
// over stop showing the zero page. Caller holds ip->lock.
void
pcache_truncate(struct inode *ip, uint oldsize, uint newsize)
{
  struct mobj *o;
  uint keep = (newsize + PGSIZE - 1) / PGSIZE;
  uint old = (oldsize + PGSIZE - 1) / PGSIZE;
  uint tail = newsize < oldsize ? newsize : oldsize;
  char *kva;

  if((o = mobj_file_find(ip->dev, ip->inum)) == 0)
    return;
  if(keep < old){
    rmap_unmap(o, keep, old);
    mobj_remove_range(o, keep, old);
  }
  pcache_grow(o, oldsize, newsize);
  if(tail % PGSIZE && (kva = mobj_lookup(o, tail / PGSIZE)) != 0){
    memset(kva + tail % PGSIZE, 0, PGSIZE - tail % PGSIZE);
    vm_user_page_put(kva);
  }
  mobj_put(o);
}
