/* `ustack bench`: one subcommand per bench, and `all` for the performance
 * benches in turn. */
#include "bench.h"

#include <string.h>

#include "bench_common.h"

typedef struct bench {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the bench's name */
    void (*usage)(FILE *f);
    const char *summary;
} bench;

static const bench benches[] = {
    { "goodput", bench_goodput_main, bench_goodput_usage,
      "bulk-transfer goodput vs the Mathis et al. bound (loss, RTT, CC, SACK)" },
    { "bulk", bench_bulk_main, bench_bulk_usage,
      "one stream, two stacks, one core, vs kernel loopback (Gbit/s)" },
    { "conn", bench_conn_main, bench_conn_usage,
      "connection churn with TIME-WAIT, vs kernel loopback (conn/s)" },
    { "mem", bench_mem_main, bench_mem_usage,
      "bytes per idle connection and per TIME-WAIT entry, vs the kernel" },
    { "scale", bench_scale_main, bench_scale_usage,
      "CPU per segment while 1 .. 1,000,000 other connections idle" },
    /* Null until tools/bench_tap.c (with the TAP driver) defines it. */
    { "tap", bench_tap_main, bench_tap_usage,
      "a stream between ustack on TAP and Linux over veth (root)" },
    { "all", bench_all_main, bench_all_usage,
      "bulk, conn, mem, scale and tap in turn (what `make bench` runs)" },
};

#define NBENCHES (sizeof benches / sizeof benches[0])

void bench_usage(FILE *f)
{
    size_t i;

    fputs("usage: ustack bench <bench> [options]\n"
          "\n"
          "Benches are programs that print figures. goodput runs stacks on\n"
          "simulated links with a virtual clock: the same arguments give the\n"
          "same figures on any machine. bulk, conn, mem and scale measure\n"
          "ustack's cost on this machine, next to the kernel's TCP where there\n"
          "is a kernel figure; each takes --json, --quick and --runs.\n"
          "\n"
          "benches:\n",
          f);
    for (i = 0; i < NBENCHES; i++)
        if (benches[i].run)
            fprintf(f, "  %-8s %s\n", benches[i].name, benches[i].summary);
    fputs("\n`ustack bench <bench> --help` describes a bench.\n", f);
}

int bench_main(int argc, char **argv)
{
    size_t i;

    if (argc < 2) {
        fprintf(stderr, "ustack bench: which bench?\n\n");
        bench_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        bench_usage(stdout);
        return 0;
    }
    for (i = 0; i < NBENCHES; i++)
        if (benches[i].run && strcmp(argv[1], benches[i].name) == 0)
            return benches[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ustack bench: no bench '%s'\n\n", argv[1]);
    bench_usage(stderr);
    return 2;
}

/* ---- all ------------------------------------------------------------------- */

void bench_all_usage(FILE *f)
{
    fputs("usage: ustack bench all [options]\n"
          "\n"
          "The performance benches in turn: bulk, conn, mem, scale, and tap\n"
          "when it is built (it is skipped with a line saying so otherwise).\n"
          "The options go to each of them; a bench's own options (sizes) are\n"
          "given by running it alone.\n"
          "\n"
          "options:\n" BENCH_OPTS_USAGE,
          f);
}

int bench_all_main(int argc, char **argv)
{
    static const char *const order[] = { "bulk", "conn", "mem", "scale",
                                         "tap" };
    char *sub[64];
    bench_opts o;
    args a;
    size_t i, k;
    int rc, worst = 0;

    if (argc > 63) {
        fprintf(stderr, "ustack bench all: too many arguments\n");
        return 2;
    }
    bench_opts_default(&o);
    args_init(&a, "ustack bench all", argc, argv);
    while (args_next(&a)) {
        if (args_flag(&a, "--help") || args_flag(&a, "-h")) {
            bench_all_usage(stdout);
            return 0;
        }
        rc = bench_opts_parse(&a, &o);
        if (rc == 0)
            args_unknown(&a);
        if (rc <= 0) {
            fputc('\n', stderr);
            bench_all_usage(stderr);
            return 2;
        }
    }
    for (k = 1; k < (size_t)argc; k++)
        sub[k] = argv[k];
    sub[argc] = NULL;
    for (i = 0; i < sizeof order / sizeof order[0]; i++) {
        const bench *b = NULL;
        for (k = 0; k < NBENCHES; k++)
            if (strcmp(benches[k].name, order[i]) == 0)
                b = &benches[k];
        if (!b || !b->run) {
            fprintf(o.json ? stderr : stdout,
                    "\nustack bench %s: skipped: not built in this ustack "
                    "(tools/bench_%s.c does not exist yet)\n",
                    order[i], order[i]);
            continue;
        }
        sub[0] = (char *)(uintptr_t)b->name;
        rc = b->run(argc, sub);
        if (rc != 0) {
            fprintf(stderr, "ustack bench all: %s exited with %d\n", b->name,
                    rc);
            if (rc > worst)
                worst = rc;
        }
    }
    return worst;
}
