/* ustack — seeded impairments: loss, reordering, duplication, corruption and
 * delay.
 *
 * Two users share the dice. The simulated pair (sim.h) draws each frame's
 * fate with ustk_impair_draw() and applies it on its virtual line; the
 * impairment decorator below wraps any link — a simulated end, a TAP or TUN
 * device, a pcap recorder — and applies the same fates to the frames that
 * cross it, in either direction, on the caller's clock.
 *
 * The decorator works like this, for each direction it impairs (frames the
 * stack sends, frames the inner link delivers), in this order:
 *   1. with probability `loss`: the frame is dropped, counted as `lost`;
 *   2. with probability `corrupt`: one uniformly chosen bit is flipped;
 *   3. with probability `duplicate`: a second copy follows it;
 *   4. with probability `reorder`: it (and its copy) is held back by
 *      reorder_delay, so frames after it overtake it;
 *   5. every frame is held back by `delay`.
 * A frame that is held (delay or reordering) waits in the decorator: sent
 * frames are handed to the inner link, received ones to the caller, once
 * their time has come. A direction holds at most queue_limit frames; more
 * are dropped (`queue_drops`). Without delay and reordering nothing is held
 * and frames pass straight through. Each direction draws the same number of
 * values for every frame from its own generator, seeded from `seed`, so the
 * seed alone decides each frame's fate and changing one probability does
 * not change which frames another impairment hits.
 *
 * Held frames need the caller to come back: next_arrival() reports the
 * earliest time a held frame of either direction is due (or the inner
 * link's next arrival, if earlier), and any call of send() or recv() passes
 * on the sent frames that are due. The real-device loop (loop.h) and
 * ustk_pump() both call recv() then, so they need nothing more.
 */
#ifndef USTK_LINK_IMPAIR_H
#define USTK_LINK_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"

/* The fate of one frame. */
typedef struct ustk_impair_fate {
    bool lost;
    bool corrupt;   /* flip bit `bit`: 1 << (bit % 8) of byte bit / 8 */
    uint64_t bit;   /* in [0, len * 8) */
    bool duplicate;
    bool reorder;
} ustk_impair_fate;

/* Probabilities in [0, 1], per frame. */
typedef struct ustk_impair_probs {
    double loss, corrupt, duplicate, reorder;
} ustk_impair_probs;

struct ustk_rng;

/* Draw the fate of a frame of len bytes (len > 0). Always draws five values
 * from rng, in the same order, whatever the outcome: loss, corruption, the
 * bit to flip, duplication, reordering. */
void ustk_impair_draw(struct ustk_rng *rng, const ustk_impair_probs *p,
                      size_t len, ustk_impair_fate *out);

/* Which directions the decorator impairs. */
enum {
    USTK_IMPAIR_SEND = 1, /* frames the caller sends through it */
    USTK_IMPAIR_RECV = 2, /* frames the inner link delivers */
    USTK_IMPAIR_BOTH = 3
};

#define USTK_IMPAIR_QUEUE_MAX (1u << 16)

typedef struct ustk_impair_params {
    uint64_t seed;
    double loss, reorder, duplicate, corrupt; /* [0, 1] */
    ustk_time delay;         /* added to every frame */
    ustk_time reorder_delay; /* extra for a reordered frame; 0 = 2 * delay
                                + 1 ms, as on the simulated pair */
    unsigned dirs;           /* USTK_IMPAIR_*; 0 = both */
    uint32_t queue_limit;    /* frames held per direction; 0 = 1024 */
} ustk_impair_params;

/* Counters per direction: [0] frames sent through the decorator, [1] frames
 * received through it. `frames` counts every frame that met the dice;
 * frames of a direction that is not impaired pass uncounted. */
typedef struct ustk_impair_stats {
    uint64_t frames, lost, corrupted, duplicated, reordered, queue_drops;
} ustk_impair_stats;

/* Seed 1, nothing impaired, both directions. */
void ustk_impair_params_default(ustk_impair_params *p);

/* Wrap inner; the decorator owns inner and destroys it with itself.
 * Returns 0, USTK_EINVAL (a probability outside [0, 1], an unknown
 * direction, queue_limit over USTK_IMPAIR_QUEUE_MAX) or USTK_ENOMEM; on
 * failure inner still belongs to the caller. The decorator's fd() is
 * inner's. send() refuses empty frames (USTK_EINVAL) and frames over
 * USTK_LINK_FRAME_MAX (USTK_EMSGSIZE) before drawing anything. */
int ustk_impair_link_create(ustk_link **out, ustk_link *inner,
                            const ustk_impair_params *p);

/* The counters of a decorator (zeros for any other link). */
void ustk_impair_stats_get(const ustk_link *l, ustk_impair_stats out[2]);

#endif
