/* Following the TCP connections of a stack on a real network, from its
 * trace events.
 *
 * The tracker keeps each connection's state (keyed by local port, remote
 * address and remote port), so that a tool knows how many are still being
 * torn down — the sockets of an application that closed are gone, their
 * connections are not — and what state one of them ended in. With ladders
 * on, it also draws each connection as a ladder diagram while it happens
 * (tools/ladder.h): ustack in the left column, the peer (Linux, say), whose
 * stack is not traced, in the right one, drawn from what ustack receives.
 * A connection's ladder is finished when it reaches CLOSED. Rows of
 * connections that overlap in time interleave; each ladder starts with a
 * line naming its connection.
 */
#ifndef USTK_TOOLS_CONNTRACE_H
#define USTK_TOOLS_CONNTRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ustack/ustack.h"

typedef struct conntrace conntrace;

/* out: where ladders go, NULL for none (only the states are followed).
 * Returns 0 or USTK_ENOMEM. */
int conntrace_create(conntrace **out, FILE *ladders, bool ascii);
/* Finishes every ladder still open. NULL is fine. */
void conntrace_destroy(conntrace *ct);

/* The trace sink: install it with ctx = the tracker. */
void conntrace_trace(void *ctx, const ustk_trace_event *ev);

/* Connections in a state other than TIME-WAIT and CLOSED: data or a FIN
 * still to be exchanged. */
unsigned conntrace_busy(const conntrace *ct);
/* The last state of a connection (USTK_TCP_*), CLOSED once it is gone, -1
 * when it was never seen. */
int conntrace_state(const conntrace *ct, uint16_t lport, ustk_ip4 raddr,
                    uint16_t rport);
/* Finish every ladder still being drawn (connections in TIME-WAIT, say),
 * so that what follows on the same stream is not mixed into them. Their
 * states are still followed. */
void conntrace_flush(conntrace *ct);
/* Add a note row to a connection's ladder (nothing without one). */
void conntrace_note(conntrace *ct, ustk_time now, uint16_t lport,
                    ustk_ip4 raddr, uint16_t rport, const char *text);

#endif
