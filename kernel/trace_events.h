// The one list of trace event types, fault resolutions, write-back reasons
// and VM counters. The kernel (trace.c, vmstat.c), the user programs
// (trace, vmstat) and the host decoder (trace/ktrace/events.py, which parses
// this file with a regular expression) all read it, so they cannot drift.
//
// Keep every entry on one line, in the exact shape shown.
//
// TRACE_EVENT(NAME, code, "name", "fields")
//   code   : the type tag stored in each record (1..63; 0 is never used)
//   fields : the payload words of the record, in order, as name:kind pairs.
//            kinds: x  32-bit value shown in hex (addresses, flags)
//                   u  unsigned 32-bit   d  signed 32-bit
//                   p  kernel code address (the decoder can name it)
//                   e.LIST  value of one of the lists below (its number)
//                   sN string of N bytes (N a multiple of 4, NUL-padded)
//            At most TRACE_NWORDS (7) words in total.
#ifndef TRACE_EVENTS_LIST
#define TRACE_EVENTS_LIST

#define TRACE_EVENTS \
TRACE_EVENT(FAULT,       1, "fault",       "va:x eip:x err:x how:e.fault cycles:u") \
TRACE_EVENT(PAGE_ALLOC,  2, "page_alloc",  "pa:x order:u site:p") \
TRACE_EVENT(PAGE_FREE,   3, "page_free",   "pa:x order:u site:p") \
TRACE_EVENT(MSYNC_WRITE, 4, "msync_write", "va:x ino:u off:u bytes:u why:e.why") \
TRACE_EVENT(FORK,        5, "fork",        "child:d name:s16") \
TRACE_EVENT(EXEC,        6, "exec",        "name:s16") \
TRACE_EVENT(EXIT,        7, "exit",        "status:d name:s16") \
TRACE_EVENT(MMAP,        8, "mmap",        "addr:x len:x prot:x flags:x ino:u off:u") \
TRACE_EVENT(MUNMAP,      9, "munmap",      "addr:x len:x") \
TRACE_EVENT(MARKER,     10, "marker",      "label:s24 arg:d") \
TRACE_EVENT(PCACHE_HIT, 11, "pcache_hit",  "ino:u pgno:u") \
TRACE_EVENT(PCACHE_MISS, 12, "pcache_miss", "ino:u pgno:u") \
TRACE_EVENT(PCACHE_FREE, 13, "pcache_free", "ino:u pgno:u") \
TRACE_EVENT(TLB_SHOOTDOWN, 14, "tlb_shootdown", "cpus:x cycles:u")

// How a page fault was resolved (the "how" field of a fault event). Each
// one has a VM counter of the same number (VM_FAULT_<NAME>).
#define TRACE_FAULT_KINDS \
TRACE_FAULT(ZERO,       0, "zero") \
TRACE_FAULT(FILE,       1, "file") \
TRACE_FAULT(COW_COPY,   2, "cow_copy") \
TRACE_FAULT(COW_REUSE,  3, "cow_reuse") \
TRACE_FAULT(SPURIOUS,   4, "spurious") \
TRACE_FAULT(BAD_ADDR,   5, "bad_addr") \
TRACE_FAULT(BAD_ACCESS, 6, "bad_access") \
TRACE_FAULT(OOM,        7, "oom")

// Why a page of a shared file mapping was written back (msync_write.why).
// Each one has a VM counter, VM_WB_<NAME> = VM_WB_MSYNC + code.
#define TRACE_WHY_KINDS \
TRACE_WHY(MSYNC,  0, "msync") \
TRACE_WHY(MUNMAP, 1, "munmap") \
TRACE_WHY(EXIT,   2, "exit") \
TRACE_WHY(FSYNC,  3, "fsync") \
TRACE_WHY(EVICT,  4, "evict")

// Always-on VM counters (read by the vmstat system call). The first eight
// are the fault counters, in TRACE_FAULT_KINDS order.
#define VMSTAT_COUNTERS \
VMSTAT_COUNTER(FAULT_ZERO,       0, "fault_zero") \
VMSTAT_COUNTER(FAULT_FILE,       1, "fault_file") \
VMSTAT_COUNTER(FAULT_COW_COPY,   2, "fault_cow_copy") \
VMSTAT_COUNTER(FAULT_COW_REUSE,  3, "fault_cow_reuse") \
VMSTAT_COUNTER(FAULT_SPURIOUS,   4, "fault_spurious") \
VMSTAT_COUNTER(FAULT_BAD_ADDR,   5, "fault_bad_addr") \
VMSTAT_COUNTER(FAULT_BAD_ACCESS, 6, "fault_bad_access") \
VMSTAT_COUNTER(FAULT_OOM,        7, "fault_oom") \
VMSTAT_COUNTER(FAULTS,           8, "faults") \
VMSTAT_COUNTER(PGALLOC,          9, "pgalloc") \
VMSTAT_COUNTER(PGFREE,          10, "pgfree") \
VMSTAT_COUNTER(MSYNC_PAGES,     11, "msync_pages") \
VMSTAT_COUNTER(MSYNC_BYTES,     12, "msync_bytes") \
VMSTAT_COUNTER(FORKS,           13, "forks") \
VMSTAT_COUNTER(EXECS,           14, "execs") \
VMSTAT_COUNTER(EXITS,           15, "exits") \
VMSTAT_COUNTER(MMAPS,           16, "mmaps") \
VMSTAT_COUNTER(MUNMAPS,         17, "munmaps") \
VMSTAT_COUNTER(MARKERS,         18, "markers") \
VMSTAT_COUNTER(PCACHE_HITS,     19, "pcache_hits") \
VMSTAT_COUNTER(PCACHE_MISSES,   20, "pcache_misses") \
VMSTAT_COUNTER(PCACHE_FREED,    21, "pcache_freed") \
VMSTAT_COUNTER(TLB_SHOOTDOWNS,  22, "tlb_shootdowns") \
VMSTAT_COUNTER(WB_MSYNC,        23, "writeback_msync") \
VMSTAT_COUNTER(WB_MUNMAP,       24, "writeback_munmap") \
VMSTAT_COUNTER(WB_EXIT,         25, "writeback_exit") \
VMSTAT_COUNTER(WB_FSYNC,        26, "writeback_fsync") \
VMSTAT_COUNTER(WB_EVICT,        27, "writeback_evict")

#endif
