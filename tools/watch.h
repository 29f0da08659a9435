/* A link decorator that reports every frame sent through it, with its fate.
 *
 * The callback sees each frame right after the inner link took it (or
 * refused it), and whether it was lost: refused by the inner link, or, when
 * a simulated end is given, dropped by the simulation (its loss, mask or
 * queue counters moved during the send). Tools use it to draw what really
 * crossed the wire.
 */
#ifndef USTK_TOOLS_WATCH_H
#define USTK_TOOLS_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link/link.h"

typedef void (*watch_fn)(void *ctx, ustk_time now, const uint8_t *frame,
                         size_t len, bool lost);

/* Wrap inner; the decorator owns inner and destroys it with itself. sim may
 * be NULL, or an end of the simulated pair that carries inner's frames.
 * Returns 0 or USTK_ENOMEM (inner then still belongs to the caller). */
int watch_link_create(ustk_link **out, ustk_link *inner, const ustk_link *sim,
                      watch_fn fn, void *ctx);

#endif
