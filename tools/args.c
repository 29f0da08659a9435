/* Strict command-line parsing shared by the ustack subcommands. */
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void args_init(args *a, const char *cmd, int argc, char **argv)
{
    a->argc = argc;
    a->argv = argv;
    a->i = 0;
    a->cmd = cmd;
    a->arg = NULL;
    a->opt = "";
}

bool args_next(args *a)
{
    if (a->i + 1 >= a->argc)
        return false;
    a->i++;
    a->arg = a->argv[a->i];
    return true;
}

bool args_flag(args *a, const char *name)
{
    if (strcmp(a->arg, name) != 0)
        return false;
    a->opt = name;
    return true;
}

/* "--quiet" or "-q" after an option that wants a value is a forgotten
 * value, not a file named "--quiet". "-" alone, and "-5" (a negative
 * number, which the option's own check refuses by name), are values. */
static bool looks_like_option(const char *s)
{
    return s[0] == '-' && s[1] != '\0' && !(s[1] >= '0' && s[1] <= '9');
}

int args_value(args *a, const char *name, const char **val)
{
    size_t n = strlen(name);

    if (strncmp(a->arg, name, n) != 0)
        return 0;
    if (a->arg[n] == '=') {
        a->opt = name;
        *val = a->arg + n + 1;
        return 1;
    }
    if (a->arg[n] != '\0')
        return 0;
    a->opt = name;
    if (a->i + 1 >= a->argc) {
        fprintf(stderr, "%s: %s needs a value\n", a->cmd, name);
        return -1;
    }
    if (looks_like_option(a->argv[a->i + 1])) {
        fprintf(stderr, "%s: %s needs a value, not the option '%s' (write "
                "%s=%s if that is the value)\n", a->cmd, name,
                a->argv[a->i + 1], name, a->argv[a->i + 1]);
        return -1;
    }
    a->i++;
    *val = a->argv[a->i];
    return 1;
}

int args_unknown(const args *a)
{
    if (a->arg[0] == '-')
        fprintf(stderr, "%s: unknown option '%s'\n", a->cmd, a->arg);
    else
        fprintf(stderr, "%s: unexpected argument '%s'\n", a->cmd, a->arg);
    return -1;
}

/* "-1", "-0.5": a number, but below every range an option takes, which
 * says more than "not a number" ("-1x" and "-." are not numbers). */
static bool negative(const char *s)
{
    size_t digits = 0, dots = 0;

    if (*s++ != '-')
        return false;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digits++;
        else if (*s == '.')
            dots++;
        else
            return false;
    }
    return digits > 0 && dots <= 1;
}

int args_u64(const args *a, const char *s, uint64_t lo, uint64_t hi,
             uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;

    if (negative(s))
        goto range;
    if (*p == '\0')
        goto bad;
    for (; *p; p++) {
        unsigned d;
        if (*p < '0' || *p > '9')
            goto bad;
        d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            goto range;
        v = v * 10 + d;
    }
    if (v < lo || v > hi)
        goto range;
    *out = v;
    return 0;
bad:
    fprintf(stderr, "%s: %s: '%s' is not a whole number\n", a->cmd, a->opt, s);
    return -1;
range:
    fprintf(stderr, "%s: %s: '%s' is out of range (%llu..%llu)\n", a->cmd,
            a->opt, s, (unsigned long long)lo, (unsigned long long)hi);
    return -1;
}

int args_double(const args *a, const char *s, double lo, double hi,
                double *out)
{
    size_t digits = 0, dots = 0;
    const char *p;
    char *end = NULL;
    double v;

    for (p = s; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (*p == '.')
            dots++;
        else
            break;
    }
    if (negative(s)) {
        fprintf(stderr, "%s: %s: '%s' is out of range (%g..%g)\n", a->cmd,
                a->opt, s, lo, hi);
        return -1;
    }
    if (*p != '\0' || digits == 0 || dots > 1) {
        fprintf(stderr, "%s: %s: '%s' is not a number\n", a->cmd, a->opt, s);
        return -1;
    }
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "%s: %s: '%s' is out of range (%g..%g)\n", a->cmd,
                a->opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int args_choice(const args *a, const char *s, const char *const *choices,
                int *out)
{
    int i;

    for (i = 0; choices[i]; i++) {
        if (strcmp(s, choices[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    fprintf(stderr, "%s: %s: '%s' is not one of", a->cmd, a->opt, s);
    for (i = 0; choices[i]; i++)
        fprintf(stderr, "%s%s", i ? ", " : " ", choices[i]);
    fputc('\n', stderr);
    return -1;
}

void args_usage_hint(void (*usage)(FILE *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);

    if (!m) {
        usage(stderr);
        return;
    }
    usage(m);
    if (fclose(m) != 0 || !text) {
        free(text);
        usage(stderr);
        return;
    }
    /* The synopsis ends at the first empty line. */
    char *end = strstr(text, "\n\n");
    fprintf(stderr, "%.*s\n(--help lists every option)\n",
            (int)(end ? (size_t)(end - text) : strcspn(text, "\n")), text);
    free(text);
}
