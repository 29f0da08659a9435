/* ustack — moving frames between stacks and links, and the simulation loop
 * that drives a set of stacks over simulated links on a virtual clock. */
#include "link.h"
#include "sim.h"

size_t ustk_pump(ustk_stack *s, ustk_link *l, ustk_time now)
{
    /* Big enough for any frame of any link or stack (an MTU of 65535 plus
     * the Ethernet header), so neither side can find it too small. */
    uint8_t buf[USTK_LINK_FRAME_MAX];
    size_t moved = 0;
    size_t len;
    bool progress;
    ustk_frame_meta m;
    /* Offloads only where the link does them. */
    ustk_frame_meta *out_m = ustk_link_has_meta(l) ? &m : NULL;

    /* Each frame that arrives is handed in and whatever it causes is sent
     * before the next one: the receiver then ACKs every second segment and
     * every out-of-order one as it would on a wire (RFC 5681 §4.2), rather
     * than once for a batch that happened to arrive at the same instant.
     * Then round again, because a link may deliver more at this same `now`
     * after the stack has sent (a zero-delay loop back, say); the loop ends
     * when a whole round moves nothing. */
    do {
        progress = false;
        for (;;) {
            bool got = ustk_link_recv_meta(l, now, buf, sizeof buf, &len,
                                           &m) == 0;
            if (got) {
                /* drops counted inside */
                (void)ustk_input_meta(s, now, buf, len, &m);
                moved++;
                progress = true;
            }
            while (ustk_poll_output_meta(s, now, buf, sizeof buf, &len,
                                         out_m) == 0) {
                /* refused: lost */
                (void)ustk_link_send_meta(l, now, buf, len, out_m);
                moved++;
                progress = true;
            }
            if (!got)
                break;
        }
        /* A link that batches its writes holds them until now (and a
         * loop-back link delivers them only then). */
        (void)ustk_link_flush(l, now);
    } while (progress);
    return moved;
}

bool ustk_sim_step(ustk_sim_node *nodes, size_t n, ustk_time *now, ustk_time until)
{
    ustk_time next = USTK_TIME_NEVER;
    for (size_t i = 0; i < n; i++) {
        ustk_time t = ustk_next_deadline(nodes[i].stack, *now);
        if (t < next)
            next = t;
        t = ustk_link_next_arrival(nodes[i].link, *now);
        if (t < next)
            next = t;
    }
    if (next == USTK_TIME_NEVER || next > until) {
        if (until != USTK_TIME_NEVER && until > *now)
            *now = until;
        return false;
    }
    if (next > *now)
        *now = next;
    for (size_t i = 0; i < n; i++)
        ustk_pump(nodes[i].stack, nodes[i].link, *now);
    return true;
}
