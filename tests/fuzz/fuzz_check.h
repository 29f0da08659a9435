/* What the fuzz targets share: the check that stops a run, and the input
 * size they look at. */
#ifndef USTK_FUZZ_CHECK_H
#define USTK_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

/* Larger inputs are ignored: longer ones only make the fuzzer slower. */
#define FUZZ_MAX_INPUT 4096

/* A broken invariant is a crash, so that libFuzzer keeps the input and the
 * replay fails; the message says which. */
#define FUZZ_CHECK(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,        \
                    __LINE__, #cond);                                         \
            abort();                                                          \
        }                                                                     \
    } while (0)

#endif
