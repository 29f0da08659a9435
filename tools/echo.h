/* The demo's two applications, written against the non-blocking socket API
 * the way a newcomer would write them with BSD sockets: an echo client that
 * connects, sends a greeting and pseudo-random bytes and reads them back, and
 * an echo server that accepts one connection and sends back what it reads.
 * Who closes first is a parameter. Nothing here knows about links, clocks or
 * ladders: the caller runs the stacks and calls echo_step() after each step.
 */
#ifndef USTK_TOOLS_ECHO_H
#define USTK_TOOLS_ECHO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "demo.h"
#include "ustack/ustack.h"

#define ECHO_GREETING "hello, ustack"
#define ECHO_GREETING_LEN (sizeof ECHO_GREETING - 1)

enum { ECHO_CLIENT = 0, ECHO_SERVER = 1 };

typedef void (*echo_note_fn)(void *ctx, ustk_time now, int side,
                             const char *text);

typedef struct echo {
    /* Set before echo_start(). */
    ustk_stack *stack[2];      /* the client's and the server's */
    ustk_sockaddr client_addr; /* the client binds here (port 0: any) */
    ustk_sockaddr server_addr; /* the server listens, the client connects */
    uint64_t total;            /* bytes the client sends, greeting included */
    uint64_t seed;             /* for the pseudo-random bytes */
    demo_close close;
    echo_note_fn note;         /* "connect()", "close()"...; may be NULL */
    void *note_ctx;

    /* Progress, for the caller to read. */
    int csock, lsock, ssock;
    bool connected, c_eof, c_closed, s_eof, s_closed;
    uint64_t tx, rx;     /* client: bytes sent, bytes echoed back */
    uint64_t h_tx, h_rx; /* FNV-1a of both streams */
    uint64_t s_rx;       /* server: bytes read */
    ustk_time t_done;    /* when the client had read the whole echo */
    /* The last snapshot of each side's connection (ECHO_CLIENT,
     * ECHO_SERVER), taken after every step and just before close(): the
     * handle, and so the counters, are gone after it. */
    ustk_tcp_info info[2];
    bool have_info[2];
    bool failed;
    char why[200];

    ustk_time now;
    size_t t_off, t_len; /* client: made but not yet sent */
    size_t e_off, e_len; /* server: echo bytes not yet sent */
    uint8_t tbuf[16384];
    uint8_t ebuf[65536];
} echo;

/* Listen, then bind and connect the client. Returns 0 or a USTK_E* code
 * (with why set). */
int echo_start(echo *e, ustk_time now);
/* Let both applications do all they can at `now`. */
void echo_step(echo *e, ustk_time now);
/* Both applications have closed their connection. */
bool echo_closed(const echo *e);
/* Every byte came back and both streams hash the same. */
bool echo_intact(const echo *e);
/* What each connection still open was doing (after a failure). */
void echo_explain(const echo *e, FILE *f);

#endif
