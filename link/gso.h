/* ustack — software segmentation and checksums: a link decorator.
 *
 * It does on the CPU what a device with offloads does in the kernel or in
 * hardware: a frame sent with metadata (ustk_link_send_meta()) that holds
 * a TSO segment is cut into segments of gso_size payload bytes, each with
 * its own IPv4 and TCP header (sequence number, IP ID, lengths, both
 * checksums; FIN and PSH only on the last, CWR only on the first, as
 * Linux's GSO does), and a partial checksum is completed; the inner link
 * gets plain frames. Received frames pass through unchanged, with empty
 * metadata.
 *
 * So a stack can use its offloads over any link: the simulated pair (to
 * test TSO under loss), or a device behind decorators that pass no
 * metadata.
 */
#ifndef USTK_LINK_GSO_H
#define USTK_LINK_GSO_H

#include "link.h"

/* Wrap inner, which the decorator then owns (destroying it destroys
 * inner). Returns 0 or USTK_ENOMEM. */
int ustk_gso_link_create(ustk_link **out, ustk_link *inner);

typedef struct ustk_gso_stats {
    uint64_t tso_in;   /* TSO frames taken */
    uint64_t segs_out; /* segments made of them */
    uint64_t csum;     /* partial checksums completed (TSO or not) */
    uint64_t bad;      /* frames whose metadata did not fit them (dropped) */
} ustk_gso_stats;
void ustk_gso_stats_get(const ustk_link *l, ustk_gso_stats *out);

#endif
