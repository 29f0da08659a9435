/* Strict command-line parsing shared by the ustack subcommands.
 *
 * Options are GNU style: `--name VALUE` or `--name=VALUE`. Numbers are plain
 * decimal and must lie in the range the option allows; anything else (a
 * sign, a suffix, hex, spaces, overflow) is an error, reported on stderr as
 * "ustack demo: --bytes: ..." so that the caller only has to point to its
 * usage (args_usage_hint) and exit 2.
 */
#ifndef USTK_TOOLS_ARGS_H
#define USTK_TOOLS_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct args {
    int argc;
    char **argv;
    int i;           /* index of the argument being looked at */
    const char *cmd; /* "ustack demo", the prefix of every message */
    const char *arg; /* the current argument */
    const char *opt; /* the option matched last, for messages */
} args;

/* Start after argv[0] (the subcommand's own name). */
void args_init(args *a, const char *cmd, int argc, char **argv);
/* Move to the next argument; false at the end. */
bool args_next(args *a);
/* True when the current argument is the flag `name` (no value allowed). */
bool args_flag(args *a, const char *name);
/* When the current argument is `name` or `name=VALUE`: returns 1 and sets
 * *val (taking the next argument for the first form), or -1 after reporting
 * a missing value. In the first form a next argument that looks like an
 * option ("--quiet", "-q") counts as missing; `name=VALUE` takes any value.
 * Returns 0 when the argument is something else. */
int args_value(args *a, const char *name, const char **val);
/* Report the current argument as unknown; returns -1. */
int args_unknown(const args *a);

/* Parse a decimal integer in [lo, hi]. Returns 0, or -1 after reporting. */
int args_u64(const args *a, const char *s, uint64_t lo, uint64_t hi,
             uint64_t *out);
/* Parse a decimal number ("12", "0.5", ".5") in [lo, hi]; no exponents,
 * signs, hex, inf or nan. Returns 0, or -1 after reporting. */
int args_double(const args *a, const char *s, double lo, double hi,
                double *out);
/* After a bad argument, on stderr: the command's synopsis (the first
 * paragraph of what usage prints) and a pointer to --help, not the whole
 * help, which would scroll the message about the argument away. */
void args_usage_hint(void (*usage)(FILE *));

/* Match s against a NULL-terminated list; sets *out to the index. Returns 0,
 * or -1 after reporting the choices. */
int args_choice(const args *a, const char *s, const char *const *choices,
                int *out);

#endif
