/* A link decorator that reports every frame sent through it, with its fate.
 *
 * The callback sees each frame right after the inner link took it (or
 * refused it), and its fate: lost when refused by the inner link or, when a
 * simulated end is given, dropped by the simulation (its loss, mask or
 * queue counters moved during the send; too big, also, when its
 * router's counter did); duplicated, delayed (reordered) or
 * corrupted when those counters moved. The simulation decides all of that
 * at send time (link/sim.h), and the frame reported is the one as sent,
 * before any bit was flipped. Tools use it to draw what really crossed the
 * wire.
 */
#ifndef USTK_TOOLS_WATCH_H
#define USTK_TOOLS_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link/link.h"

/* A frame's fate (bits); the values match the ladder's LADDER_FATE_*. */
enum {
    WATCH_LOST = 1,
    WATCH_DUPLICATED = 2,
    WATCH_DELAYED = 4,
    WATCH_CORRUPTED = 8,
    /* Lost at the simulated router for being larger than its path MTU,
     * and answered with ICMP "fragmentation needed" when it had DF. */
    WATCH_TOO_BIG = 16
};

typedef void (*watch_fn)(void *ctx, ustk_time now, const uint8_t *frame,
                         size_t len, unsigned fate);

/* Wrap inner; the decorator owns inner and destroys it with itself. sim may
 * be NULL, or an end of the simulated pair that carries inner's frames.
 * Returns 0 or USTK_ENOMEM (inner then still belongs to the caller). */
int watch_link_create(ustk_link **out, ustk_link *inner, const ustk_link *sim,
                      watch_fn fn, void *ctx);

#endif
