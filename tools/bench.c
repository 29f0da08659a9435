/* `ustack bench`: one subcommand per bench. */
#include "bench.h"

#include <string.h>

typedef struct bench {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the bench's name */
    void (*usage)(FILE *f);
    const char *summary;
} bench;

static const bench benches[] = {
    { "goodput", bench_goodput_main, bench_goodput_usage,
      "bulk-transfer goodput vs the Mathis et al. bound (loss, RTT, CC, SACK)" },
    /* More benches (connection rate, memory per connection) go here. */
};

#define NBENCHES (sizeof benches / sizeof benches[0])

void bench_usage(FILE *f)
{
    size_t i;

    fputs("usage: ustack bench <bench> [options]\n"
          "\n"
          "Benches run ustack stacks on simulated links with a virtual clock and\n"
          "print figures: the same arguments give the same figures on any machine\n"
          "(only the wall time printed with them differs).\n"
          "\n"
          "benches:\n",
          f);
    for (i = 0; i < NBENCHES; i++)
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
        if (strcmp(argv[1], benches[i].name) == 0)
            return benches[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ustack bench: no bench '%s'\n\n", argv[1]);
    bench_usage(stderr);
    return 2;
}
