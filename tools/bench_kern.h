/* The kernel's side of the benches: the same work done with Linux TCP
 * sockets over 127.0.0.1, in this process (pinned to the same core), each
 * call meant to run in a child that has a network namespace of its own
 * (bench_in_child with netns), so that sysctls set here and TIME-WAIT
 * entries left behind touch nothing outside.
 */
#ifndef USTK_TOOLS_BENCH_KERN_H
#define USTK_TOOLS_BENCH_KERN_H

#include <stdbool.h>
#include <stdint.h>

#include "bench_common.h"

/* One bulk stream from one socket to the other, one thread, non-blocking
 * writes and reads of BENCH_CHUNK bytes in turn. */
typedef struct kern_bulk_arg {
    uint64_t bytes;
    bool verify;
} kern_bulk_arg;

/* value: Gbit/s per CPU second (the process and ksoftirqd of its CPU). */
const char *kern_bulk(void *arg, void *out /* bench_run */);

/* Connection churn: `prefill` connections, not timed, then `count` timed,
 * each: connect, accept, one byte each way, the server closes first, the
 * client reads the end and closes. The namespace keeps every TIME-WAIT
 * entry (tcp_max_tw_buckets raised), as ustack does. */
typedef struct kern_conn_arg {
    uint64_t count, prefill;
    unsigned ports;
} kern_conn_arg;

typedef struct kern_conn_out {
    bench_run run;       /* value: connections per CPU second */
    uint64_t tw_after;   /* TIME-WAIT entries at the end (sockstat) */
} kern_conn_out;

const char *kern_conn(void *arg, void *out /* kern_conn_out */);

/* Memory: n established idle connections (both ends here), then the
 * same after one byte each way (read: the queues are empty), then with
 * the server's ends in TIME-WAIT. Figures from the kernel's
 * slab caches (active objects times object size, all caches). */
typedef struct kern_mem_arg {
    uint64_t n;
} kern_mem_arg;

typedef struct kern_mem_out {
    double endpoint_bytes;  /* slab growth per established endpoint */
    double endpoint_meminfo;/* the same from /proc/meminfo Slab */
    double after_data_bytes;/* the same after one byte each way, read */
    double tw_bytes;        /* slab growth per TIME-WAIT entry */
    double tcp_obj, tw_obj; /* object sizes of the TCP and tw_sock_TCP
                               caches */
    double wall, cpu;       /* to set up the n connections */
} kern_mem_out;

const char *kern_mem(void *arg, void *out /* kern_mem_out */);
/* The largest n kern_mem can take here: each end is a file descriptor, so
 * 2n must fit the hard RLIMIT_NOFILE (or fs.nr_open, when this process may
 * raise its limit). */
uint64_t kern_mem_max_n(void);

#endif
