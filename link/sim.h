/* ustack — a simulated point-to-point link between two endpoints.
 *
 * Frames sent on one end arrive at the other after serialization at the
 * configured rate plus the latency, subject to a bounded queue and to seeded
 * impairments. Everything is driven by the caller's virtual clock and a seed,
 * so a run is exactly repeatable.
 */
#ifndef USTK_LINK_SIM_H
#define USTK_LINK_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "link.h"

#define USTK_SIM_MASK_MAX 64

typedef struct ustk_sim_params {
    ustk_link_kind kind;   /* what the frames are (for decorators) */
    ustk_time latency;     /* one-way propagation delay */
    uint64_t rate_bps;     /* bits per second; 0 = infinitely fast */
    uint32_t queue_limit;  /* frames queued per direction; 0 = 1024 */
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
} ustk_sim_params;

typedef struct ustk_sim_stats {
    uint64_t sent, delivered, lost, masked, queue_drops, reordered,
        duplicated, corrupted;
} ustk_sim_stats;

void ustk_sim_params_default(ustk_sim_params *p);

/* Create both ends of a link; frames sent on *a arrive on *b and back.
 * Destroy each end with ustk_link_destroy(); the pair is freed with the
 * second. Returns 0, USTK_EINVAL or USTK_ENOMEM. */
int ustk_sim_pair_create(ustk_link **a, ustk_link **b, const ustk_sim_params *p);
/* Counters for the pair (both directions). */
void ustk_sim_stats_get(const ustk_link *end, ustk_sim_stats *out);
/* Index the next frame sent on the pair will get. */
uint32_t ustk_sim_frame_count(const ustk_link *end);

/* The simulation loop: stacks, each attached to a link. */
typedef struct ustk_sim_node {
    ustk_stack *stack;
    ustk_link *link;
} ustk_sim_node;

/* Advance the virtual clock from *now to the earliest stack deadline or
 * frame arrival (never beyond `until`), and pump every node there.
 * Returns false when nothing at all is pending before `until` (the clock is
 * then set to `until`). */
bool ustk_sim_step(ustk_sim_node *nodes, size_t n, ustk_time *now, ustk_time until);

#endif
