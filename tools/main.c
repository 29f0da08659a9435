/* ustack — the command-line tool: one program, one subcommand per job. */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "demo.h"
#include "netcmd.h"

#ifndef USTK_TOOL_VERSION
#define USTK_TOOL_VERSION "0.1.0"
#endif

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand */
    void (*usage)(FILE *f);
    const char *summary;
} command;

static const command commands[] = {
    { "demo", demo_main, demo_usage,
      "two stacks on a simulated link: a TCP echo drawn as a ladder diagram" },
    { "bench", bench_main, bench_usage,
      "measure ustack against the kernel: goodput, bulk, conn, mem, scale, tap" },
    { "serve", serve_main, serve_usage,
      "servers (HTTP, echo, discard, UDP echo) on a real TAP/TUN device" },
    { "connect", connect_main, connect_usage,
      "like netcat: stdin to a TCP (or UDP) peer over a TAP/TUN device" },
    { "ping", ping_main, ping_usage,
      "like ping(8): ICMP echo over ustack on a TAP/TUN device" },
    /* trace and plot go here. */
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    size_t i;

    fputs("usage: ustack <command> [options]\n"
          "       ustack help <command>\n"
          "\n"
          "ustack is a TCP/IP stack in user space; this tool shows it at work.\n"
          "\n"
          "commands:\n",
          f);
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "Start with `ustack demo`. `ustack <command> --help` describes a "
          "command.\n",
          f);
}

static const command *find(const char *name)
{
    size_t i;

    for (i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const command *c;

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ustack %s\n", USTK_TOOL_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc == 2) {
            usage(stdout);
            return 0;
        }
        c = find(argv[2]);
        if (!c || argc > 3) {
            fprintf(stderr, "ustack help: no command '%s'\n\n", argv[2]);
            usage(stderr);
            return 2;
        }
        c->usage(stdout);
        return 0;
    }
    c = find(argv[1]);
    if (!c) {
        fprintf(stderr, "ustack: unknown command '%s'\n\n", argv[1]);
        usage(stderr);
        return 2;
    }
    return c->run(argc - 1, argv + 1);
}
