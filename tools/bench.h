/* `ustack bench`: programs that measure ustack and print figures. Each
 * bench is a subcommand (`ustack bench goodput`); none of them is a test,
 * and none asserts anything about the figures it prints. */
#ifndef USTK_TOOLS_BENCH_H
#define USTK_TOOLS_BENCH_H

#include <stdio.h>

/* `ustack bench <bench> [options]`: argv[0] is "bench". */
int bench_main(int argc, char **argv);
void bench_usage(FILE *f);

/* `ustack bench goodput [options]`: argv[0] is "goodput".
 * (bench_goodput.c) */
int bench_goodput_main(int argc, char **argv);
void bench_goodput_usage(FILE *f);

/* The performance benches (argv[0] is the bench's name): one stream
 * (bench_bulk.c), connection churn (bench_conn.c), memory per connection
 * (bench_mem.c), cost per segment among many connections
 * (bench_scale.c), and all of them in turn (bench.c). */
int bench_bulk_main(int argc, char **argv);
void bench_bulk_usage(FILE *f);
int bench_conn_main(int argc, char **argv);
void bench_conn_usage(FILE *f);
int bench_mem_main(int argc, char **argv);
void bench_mem_usage(FILE *f);
int bench_scale_main(int argc, char **argv);
void bench_scale_usage(FILE *f);
int bench_all_main(int argc, char **argv);
void bench_all_usage(FILE *f);

/* The TAP bench: ustack on a TAP device against Linux in a namespace.
 * It comes with the TAP driver, in its own file (tools/bench_tap.c),
 * which defines these two; until then they are null (weak symbols) and
 * `ustack bench all` says that it skipped it. */
int bench_tap_main(int argc, char **argv) __attribute__((weak));
void bench_tap_usage(FILE *f) __attribute__((weak));

#endif
