/* ustack — a simulated point-to-point link between two endpoints.
 *
 * Frames sent on one end arrive at the other after serialization at the
 * configured rate plus the latency, subject to a bounded queue and to seeded
 * impairments. Everything is driven by the caller's virtual clock and a seed,
 * so a run is exactly repeatable.
 *
 * Each direction works like this. A frame sent at `now` is copied and given
 * the next index of the pair (both directions count together, from 0). Then,
 * in this order:
 *   1. its index is in drop_mask: dropped, counted as `masked`;
 *   2. with probability `loss`: dropped, counted as `lost`;
 *   3. the direction already holds queue_limit frames: dropped, counted as
 *      `queue_drops`;
 *   4. serialization: it starts when the previous frame of the direction
 *      has finished (or at `now` when the line is idle) and lasts
 *      len * 8 / rate_bps seconds, kept exact across frames; it arrives
 *      `latency` after it has finished, rounded up to a microsecond;
 *   5. with probability `corrupt`: one uniformly chosen bit is flipped;
 *   6. with probability `duplicate`: a second, identical copy arrives right
 *      after it (if the queue has room for it);
 *   7. with probability `reorder`: it (and its copy) arrive reorder_delay
 *      later, so frames sent after it overtake it.
 * With path_mtu set, a router sits between step 2 and step 3: an IPv4
 * packet longer than path_mtu is dropped, counted as `too_big`; when it
 * has DF set, the router answers with an ICMP "fragmentation needed"
 * naming path_mtu (RFC 1191), from the packet's destination address, which
 * arrives back at the sender `latency` later (counted as `icmp_sent`). The
 * router does not fragment.
 * Dropped frames take no time on the line. Each direction draws the same
 * number of random values for every frame from its own generator, seeded
 * from `seed`, whatever happens to the frame (ustk_impair_draw(), shared
 * with the impairment decorator of impair.h): one direction's traffic never
 * changes the other's fate, and changing one probability does not change
 * which frames another impairment hits.
 *
 * A frame counts against queue_limit from when it is sent until the far end
 * receives it, so a direction never holds more than queue_limit frames of at
 * most USTK_LINK_FRAME_MAX bytes. recv() returns frames in order of arrival
 * time, frames arriving at the same microsecond in the order they were
 * queued.
 */
#ifndef USTK_LINK_SIM_H
#define USTK_LINK_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "link.h"

#define USTK_SIM_MASK_MAX 64
/* The largest queue_limit accepted (it sizes per-direction tables). */
#define USTK_SIM_QUEUE_MAX (1u << 20)

typedef struct ustk_sim_params {
    ustk_link_kind kind;   /* what the frames are (for decorators) */
    ustk_time latency;     /* one-way propagation delay */
    uint64_t rate_bps;     /* bits per second; 0 = infinitely fast */
    uint32_t queue_limit;  /* frames held per direction; 0 = 1024 */
    uint64_t seed;
    /* Probabilities in [0, 1], applied per frame, per direction. */
    double loss;
    double reorder;        /* frame is held back by reorder_delay */
    ustk_time reorder_delay; /* 0 = 2 * latency + 1 ms */
    double duplicate;      /* a second copy is delivered */
    double corrupt;        /* one random bit of the frame is flipped */
    /* Frames to drop by their index in the order they were sent on the
     * pair (both directions counted together, the first frame is 0). */
    uint32_t drop_mask[USTK_SIM_MASK_MAX];
    uint32_t drop_mask_len;
    uint16_t path_mtu;     /* the router's next hop: 0 = none, else 68.. */
} ustk_sim_params;

/* sent counts every frame accepted by send(); delivered every frame handed
 * out by recv(), copies included. So sent + duplicated + icmp_sent =
 * delivered + lost + masked + too_big + queue_drops + the frames still in
 * flight. */
typedef struct ustk_sim_stats {
    uint64_t sent, delivered, lost, masked, queue_drops, reordered,
        duplicated, corrupted, too_big, icmp_sent;
} ustk_sim_stats;

/* An Ethernet link with 1 ms latency, no rate limit, a 1024-frame queue,
 * seed 1 and no impairments. */
void ustk_sim_params_default(ustk_sim_params *p);

/* Create both ends of a link; frames sent on *a arrive on *b and back.
 * Destroy each end with ustk_link_destroy(); the pair is freed with the
 * second. Returns 0, USTK_EINVAL (a probability outside [0, 1], a mask
 * longer than USTK_SIM_MASK_MAX, queue_limit over USTK_SIM_QUEUE_MAX, an
 * unknown kind, path_mtu 1..67) or USTK_ENOMEM. send() refuses empty
 * frames (USTK_EINVAL) and frames over USTK_LINK_FRAME_MAX (USTK_EMSGSIZE);
 * neither counts as sent nor takes an index. */
int ustk_sim_pair_create(ustk_link **a, ustk_link **b, const ustk_sim_params *p);
/* Counters for the pair (both directions); zeros for a link that is not a
 * simulated end. */
void ustk_sim_stats_get(const ustk_link *end, ustk_sim_stats *out);
/* Index the next frame sent on the pair will get. */
uint32_t ustk_sim_frame_count(const ustk_link *end);

/* The simulation loop: stacks, each attached to a link. */
typedef struct ustk_sim_node {
    ustk_stack *stack;
    ustk_link *link;
} ustk_sim_node;

/* Advance the virtual clock from *now to the earliest stack deadline or
 * frame arrival, if that is no later than `until`, and pump every node
 * there; the clock never goes backwards, so overdue work runs at *now.
 * Returns true when it did so. Returns false when nothing is pending by
 * `until`: the clock is then set to `until` (left alone when `until` is
 * USTK_TIME_NEVER or already past). Typical use:
 *     while (ustk_sim_step(nodes, n, &now, end)) { check sockets }
 */
bool ustk_sim_step(ustk_sim_node *nodes, size_t n, ustk_time *now, ustk_time until);

#endif
