// The one list of trace event types, fault resolutions, write-back reasons
// and VM counters. The kernel (trace.c, vmstat.c), the user programs
// (trace, vmstat) and the host decoder (trace/ktrace/events.py, which parses
// this file with a regular expression) all read it, so they cannot drift.
//
// Keep every entry on one line, in the exact shape shown.
//
// TRACE_EVENT(NAME, code, "name", "fields")
//   code   : the type tag stored in each record (1..31: a bit of the 32-bit
//            event mask; 0 is never used)
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
TRACE_EVENT(SCHED_WAKEUP,  11, "sched_wakeup",  "woken:d target:u ipi:u") \
TRACE_EVENT(SCHED_SWITCH,  12, "sched_switch",  "prev:d next:d reason:u") \
TRACE_EVENT(SCHED_MIGRATE, 13, "sched_migrate", "moved:d from_cpu:u to_cpu:u") \
TRACE_EVENT(PCACHE_HIT, 14, "pcache_hit",  "ino:u pgno:u") \
TRACE_EVENT(PCACHE_MISS, 15, "pcache_miss", "ino:u pgno:u") \
TRACE_EVENT(PCACHE_FREE, 16, "pcache_free", "ino:u pgno:u") \
TRACE_EVENT(TLB_SHOOTDOWN, 17, "tlb_shootdown", "cpus:x cycles:u") \
TRACE_EVENT(SWAP_OUT,   18, "swap_out",    "pa:x slot:u ptes:u written:u") \
TRACE_EVENT(SWAP_IN,    19, "swap_in",     "va:x slot:u shared:u") \
TRACE_EVENT(RECLAIM,    20, "reclaim",     "phase:u free:u want:u freed:u scanned:u policy:u") \
TRACE_EVENT(SYS_ENTER,  30, "sys_enter",   "num:u a0:x a1:x a2:x") \
TRACE_EVENT(SYS_EXIT,   31, "sys_exit",    "num:u ret:d cycles:u")

// How a page fault was resolved (the "how" field of a fault event). Each
// one has a VM counter VM_FAULT_<NAME>: of the same number for 0..7; swap
// (a major fault: the page was read back from the swap disk) counts in
// fault_swap and file_major (a major fault: a file page read from the
// file's disk, not found in the page cache; "file" is a page the cache
// had) in fault_file_major, both appended to the counter list.
#define TRACE_FAULT_KINDS \
TRACE_FAULT(ZERO,       0, "zero") \
TRACE_FAULT(FILE,       1, "file") \
TRACE_FAULT(COW_COPY,   2, "cow_copy") \
TRACE_FAULT(COW_REUSE,  3, "cow_reuse") \
TRACE_FAULT(SPURIOUS,   4, "spurious") \
TRACE_FAULT(BAD_ADDR,   5, "bad_addr") \
TRACE_FAULT(BAD_ACCESS, 6, "bad_access") \
TRACE_FAULT(OOM,        7, "oom") \
TRACE_FAULT(SWAP,       8, "swap") \
TRACE_FAULT(FILE_MAJOR, 9, "file_major")

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
VMSTAT_COUNTER(SCHED_IPIS,      19, "sched_ipis") \
VMSTAT_COUNTER(SCHED_IPI_LATE,  20, "sched_ipi_late") \
VMSTAT_COUNTER(SCHED_MIGRATIONS, 21, "sched_migrations") \
VMSTAT_COUNTER(PCACHE_HITS,     22, "pcache_hits") \
VMSTAT_COUNTER(PCACHE_MISSES,   23, "pcache_misses") \
VMSTAT_COUNTER(PCACHE_FREED,    24, "pcache_freed") \
VMSTAT_COUNTER(TLB_SHOOTDOWNS,  25, "tlb_shootdowns") \
VMSTAT_COUNTER(WB_MSYNC,        26, "writeback_msync") \
VMSTAT_COUNTER(WB_MUNMAP,       27, "writeback_munmap") \
VMSTAT_COUNTER(WB_EXIT,         28, "writeback_exit") \
VMSTAT_COUNTER(WB_FSYNC,        29, "writeback_fsync") \
VMSTAT_COUNTER(WB_EVICT,        30, "writeback_evict") \
VMSTAT_COUNTER(FAULT_SWAP,      31, "fault_swap") \
VMSTAT_COUNTER(SWAP_OUT,        32, "swap_out") \
VMSTAT_COUNTER(SWAP_IN,         33, "swap_in") \
VMSTAT_COUNTER(SWAP_WRITES,     34, "swap_writes") \
VMSTAT_COUNTER(SWAP_WRITES_SAVED, 35, "swap_writes_saved") \
VMSTAT_COUNTER(RECLAIM_FILE_CLEAN, 36, "reclaim_file_clean") \
VMSTAT_COUNTER(RECLAIM_FILE_DIRTY, 37, "reclaim_file_dirty") \
VMSTAT_COUNTER(RECLAIM_ANON,    38, "reclaim_anon") \
VMSTAT_COUNTER(RECLAIM_SCANS,   39, "reclaim_scans") \
VMSTAT_COUNTER(RECLAIM_ROUNDS,  40, "reclaim_rounds") \
VMSTAT_COUNTER(RECLAIM_WAITS,   41, "reclaim_waits") \
VMSTAT_COUNTER(FAULT_FILE_MAJOR, 42, "fault_file_major")

// Scheduler counters: sched_ipis, wake-ups that sent an IPI to a halted
// CPU; sched_ipi_late, of those, the ones whose CPU took a clock tick
// before the process ran (the IPI did not beat the tick); sched_migrations,
// processes an idle CPU took from another CPU's queue.
//
// Scheduler events (not in the default mask, TRACE_MASK_DEFAULT in
// tracectl.h: ask for them by name):
//   sched_wakeup   the current process (0: none, e.g. an interrupt on an
//                  idle CPU) made woken runnable on CPU target's queue; ipi
//                  is 1 if target was halted and was sent an interrupt
//   sched_switch   this CPU stopped running prev (0: it was idle) and
//                  started next (0: it goes idle); reason: why prev left
//   sched_migrate  this CPU took moved from CPU from_cpu's run queue
// Why a process left its CPU (sched_switch.reason; trace/ktrace/sched.py
// reads this list). "idle": prev is 0. "yielded" is for a voluntary
// yield, which nothing does yet (a tick's is "preempted").
#define TRACE_SCHED_KINDS \
TRACE_SCHED(BLOCKED,   0, "blocked") \
TRACE_SCHED(YIELDED,   1, "yielded") \
TRACE_SCHED(PREEMPTED, 2, "preempted") \
TRACE_SCHED(EXITED,    3, "exited") \
TRACE_SCHED(IDLE,      4, "idle")

#endif
