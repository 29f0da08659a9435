/* `ustack serve`, `ustack connect` and `ustack ping`: ustack on a real TAP
 * or TUN device, talking to Linux or anything else on the other side. */
#ifndef USTK_TOOLS_NETCMD_H
#define USTK_TOOLS_NETCMD_H

#include <stdio.h>

/* argv[0] is the subcommand's name. Exit status: 0 done, 1 failed, 2 bad
 * arguments. */
int serve_main(int argc, char **argv);
void serve_usage(FILE *f);
int connect_main(int argc, char **argv);
void connect_usage(FILE *f);
int ping_main(int argc, char **argv);
void ping_usage(FILE *f);

#endif
