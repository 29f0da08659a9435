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

#endif
