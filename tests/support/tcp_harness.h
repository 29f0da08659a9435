/* Scripted TCP tests (tests tier 2): one stack under test, a remote peer that
 * the test scripts by hand, and a virtual clock.
 *
 * The stack is driven only through its public API (include/ustack/); segments
 * are built and parsed with the wire layer. A test puts a connection in a
 * state through the real protocol (conn_in_established(), ...), injects exact
 * segments and expects exact segments, or nothing, at exact virtual times.
 *
 * Segments are written in the notation of RFC 9293 §3.5:
 *
 *     inject(t, "<SEQ=1><ACK=1><CTL=ACK><LEN=100>");
 *     expect(t, "<SEQ=1><ACK=101><CTL=ACK><WND=29900>");
 *
 * Tokens (any order, one per <...>):
 *   <SEQ=n> <ACK=n>  relative: the peer's numbers count from its ISS (the
 *                    stack's IRS), the stack's from the stack's ISS, so a
 *                    SYN is SEQ=0 and the first data byte SEQ=1. A leading
 *                    '@' makes the number absolute: <SEQ=@0>.
 *   <CTL=SYN,ACK>    flags (SYN ACK FIN RST PSH URG ECE CWR). In expect(),
 *                    the flags must match exactly, except that PSH is ignored
 *                    unless listed, and a flag written with a trailing '?'
 *                    (<CTL=RST,ACK?>) may be present or not; <ACK=n> is then
 *                    only compared when the ACK bit is present.
 *   <WND=n>          the raw 16-bit window field. inject() defaults to
 *                    t->c.peer_wnd; expect() compares it only when given.
 *   <LEN=n>          n payload bytes of the sender's pattern (th_peer_byte(),
 *                    th_stack_byte(), indexed by relative sequence number),
 *                    so every byte is checked. expect() without <LEN> or
 *                    <DATA> requires an empty payload.
 *   <DATA=text>      explicit payload bytes (the text up to '>').
 *   <MSS=n> <WS=n> <SACKOK> <TS=val,ecr> <TS> <SACK=l-r,l-r>
 *                    options. In expect(), naming any option (or <NOOPTS>)
 *                    makes the option set exact; <TS> without values checks
 *                    presence only. SACK edges are relative to the data's
 *                    sender. Without option tokens expect() still checks that
 *                    a non-SYN segment carries only negotiated options, and
 *                    TS exactly when timestamps were negotiated (RFC 7323
 *                    §3.2). inject() adds <TS> by itself when timestamps were
 *                    negotiated, unless <NOTS> or <NOOPTS> is given.
 *   <NOOPTS> <NOTS>  no options / no timestamp option.
 *   <BADSUM>         inject() only: the segment's last byte is changed after
 *                    its checksum was computed, as a damaged segment.
 *
 * Time: t->now is the virtual clock (µs). advance_to() only moves the clock;
 * the stack runs its timers on the next poll. expect() polls at t->now;
 * expect_nothing_until(T) walks the stack's deadlines up to T and fails on
 * any segment sent before T, leaving t->now = T (not yet polled).
 */
#ifndef USTK_TESTS_TCP_HARNESS_H
#define USTK_TESTS_TCP_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ustack/ustack.h"
#include "wire/tcp.h"

#define TH_LOCAL_IP USTK_IP4(10, 0, 0, 1)
#define TH_PEER_IP USTK_IP4(10, 0, 0, 2)
#define TH_LISTEN_PORT 8888
#define TH_PEER_PORT 40000
#define TH_CLOSED_PORT 9999 /* no socket is ever bound here */
#define TH_PEER_ISS 0x1f2e3d4cu
#define TH_T0 USTK_SEC(1000) /* the virtual clock's start */
#define TH_FRAME_MAX 65600
#define TH_DATA_MAX 256
#define TH_TRACE_MAX 512

#if defined(__GNUC__)
#define TH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TH_PRINTF(f, a)
#endif

/* One connection as the scripted peer sees it. */
typedef struct th_conn {
    int sock;              /* the stack's handle for it, or -1 */
    uint16_t lport, pport; /* the stack's port, the peer's port */
    uint32_t iss;          /* the stack's ISS, read from its SYN */
    bool iss_known;
    uint32_t irs;          /* the peer's ISS, chosen by the test */
    uint16_t peer_wnd;     /* default window of injected segments */

    /* What each side offered in its SYN; negotiated = both offered. */
    bool stack_syn_seen, peer_syn_seen;
    bool stack_ts, stack_sack, peer_ts, peer_sack;
    int stack_ws, peer_ws; /* -1: not offered */
    uint16_t peer_mss;     /* 0: not offered */

    uint32_t stack_tsval;  /* the last TSval the stack sent (peer echoes it) */
    uint32_t peer_tsval;   /* the last TSval the peer sent */

    uint64_t app_sent;     /* bytes the test handed to ustk_send */
    uint64_t app_rcvd;     /* bytes the test took with ustk_recv */
} th_conn;

/* A segment the stack sent, as expect() matched it. */
typedef struct th_seg {
    ustk_time at;
    ustk_tcp_hdr h;        /* absolute numbers */
    uint32_t rseq, rack;   /* relative to the stack's ISS / the peer's ISS */
    const uint8_t *data;   /* payload (valid until the next poll) */
    size_t len;
    uint8_t ttl;
    uint16_t ip_frag;
} th_seg;

typedef struct th_state_change {
    ustk_time at;
    uint16_t lport, rport;
    int old_state, state;
} th_state_change;

typedef struct tcp_test {
    ustk_config cfg;       /* change before the first helper starts the stack */
    ustk_stack *s;
    ustk_time now;
    int lsock;             /* listener, or -1 */
    int backlog;           /* for conn_in_listen() */
    ustk_time rtt;         /* the handshake round trip the fixtures use */
    const char *peer_syn_opts; /* options of the peer's SYN / SYN-ACK */
    th_conn c;             /* the connection the segment helpers address */
    th_seg last;           /* the last segment expect() matched */
    uint16_t ip_id;
    int last_input;        /* ustk_input()'s result for the last inject() */

    th_state_change states[TH_TRACE_MAX];
    size_t nstates;        /* total seen; the last TH_TRACE_MAX are kept */

    uint8_t frame[TH_FRAME_MAX];
    uint8_t rx[TH_FRAME_MAX];
} tcp_test;

/* cmocka fixture: a tcp_test with the default config, stack not yet made. */
int th_setup(void **state);
int th_teardown(void **state);
#define TH_TEST(f) cmocka_unit_test_setup_teardown(f, th_setup, th_teardown)

/* Create the stack from t->cfg (once). Every helper calls this. */
void th_start(tcp_test *t);

/* A fresh connection context for another peer port (same local port). */
void th_new_peer(tcp_test *t, uint16_t pport);

/* The peer's and the stack's data patterns, by relative sequence number. */
uint8_t th_peer_byte(uint32_t rseq);
uint8_t th_stack_byte(uint32_t rseq);

/* ---- segments and time ------------------------------------------------ */
int th_inject(tcp_test *t, const char *file, int line, const char *fmt, ...)
    TH_PRINTF(4, 5);
const th_seg *th_expect(tcp_test *t, const char *file, int line,
                        const char *fmt, ...) TH_PRINTF(4, 5);
const th_seg *th_expect_at(tcp_test *t, ustk_time at, const char *file,
                           int line, const char *fmt, ...) TH_PRINTF(5, 6);
void th_expect_nothing(tcp_test *t, const char *file, int line);
/* n full-sized data segments of mss bytes, back to back, the first at
 * relative sequence number 1 + first * mss (ACK=1, no other flags). */
void th_expect_segments(tcp_test *t, const char *file, int line,
                        uint32_t first, uint32_t n, uint32_t mss);
void th_expect_nothing_until(tcp_test *t, ustk_time until, const char *file,
                             int line);
void th_advance_to(tcp_test *t, ustk_time at, const char *file, int line);
/* Take and discard everything the stack sends at t->now; returns the count. */
int th_drain(tcp_test *t);
/* Take the next segment, if any, without comparing; false when none. */
bool th_take(tcp_test *t, const char *file, int line, th_seg *out);

/* An ICMP error from a router (10.0.0.254) about a segment the stack sent
 * on t->c: its IPv4 header (total_len bytes, flags and offset frag) and
 * the first 8 bytes of TCP, sequence number ISS + rseq. Returns
 * ustk_input()'s result. */
int th_icmp_error(tcp_test *t, uint8_t type, uint8_t code, uint32_t rest,
                  uint32_t rseq, uint16_t total_len, uint16_t frag);

#define inject(t, ...) th_inject((t), __FILE__, __LINE__, __VA_ARGS__)
#define expect(t, ...) th_expect((t), __FILE__, __LINE__, __VA_ARGS__)
#define expect_at(t, at, ...) th_expect_at((t), (at), __FILE__, __LINE__, __VA_ARGS__)
#define expect_nothing(t) th_expect_nothing((t), __FILE__, __LINE__)
#define expect_segments(t, first, n, mss)                                      \
    th_expect_segments((t), __FILE__, __LINE__, (first), (n), (mss))
#define expect_nothing_until(t, at) th_expect_nothing_until((t), (at), __FILE__, __LINE__)
#define advance_to(t, at) th_advance_to((t), (at), __FILE__, __LINE__)

/* ---- the application side --------------------------------------------- */
/* Send n bytes of the stack's pattern; returns ustk_send()'s result. */
ptrdiff_t th_app_send(tcp_test *t, size_t n);
/* Receive exactly n bytes and check they are the peer's pattern, in order. */
void th_app_recv_expect(tcp_test *t, size_t n, const char *file, int line);
#define app_send(t, n) th_app_send((t), (n))
#define app_recv_expect(t, n) th_app_recv_expect((t), (n), __FILE__, __LINE__)

/* ---- connections in each state of RFC 9293 §3.3.2, reached through the
 * protocol. Active opens unless named passive. ------------------------------ */
void th_conn_in_listen(tcp_test *t, const char *file, int line);
void th_conn_in_syn_sent(tcp_test *t, const char *file, int line);
void th_conn_in_syn_received(tcp_test *t, const char *file, int line);
void th_conn_in_syn_received_simopen(tcp_test *t, const char *file, int line);
void th_conn_in_established(tcp_test *t, const char *file, int line);
void th_conn_in_established_passive(tcp_test *t, const char *file, int line);
void th_conn_in_fin_wait_1(tcp_test *t, const char *file, int line);
void th_conn_in_fin_wait_2(tcp_test *t, const char *file, int line);
void th_conn_in_closing(tcp_test *t, const char *file, int line);
void th_conn_in_time_wait(tcp_test *t, const char *file, int line);
void th_conn_in_close_wait(tcp_test *t, const char *file, int line);
void th_conn_in_last_ack(tcp_test *t, const char *file, int line);
#define conn_in_listen(t) th_conn_in_listen((t), __FILE__, __LINE__)
#define conn_in_syn_sent(t) th_conn_in_syn_sent((t), __FILE__, __LINE__)
#define conn_in_syn_received(t) th_conn_in_syn_received((t), __FILE__, __LINE__)
#define conn_in_syn_received_simopen(t) th_conn_in_syn_received_simopen((t), __FILE__, __LINE__)
#define conn_in_established(t) th_conn_in_established((t), __FILE__, __LINE__)
#define conn_in_established_passive(t) th_conn_in_established_passive((t), __FILE__, __LINE__)
#define conn_in_fin_wait_1(t) th_conn_in_fin_wait_1((t), __FILE__, __LINE__)
#define conn_in_fin_wait_2(t) th_conn_in_fin_wait_2((t), __FILE__, __LINE__)
#define conn_in_closing(t) th_conn_in_closing((t), __FILE__, __LINE__)
#define conn_in_time_wait(t) th_conn_in_time_wait((t), __FILE__, __LINE__)
#define conn_in_close_wait(t) th_conn_in_close_wait((t), __FILE__, __LINE__)
#define conn_in_last_ack(t) th_conn_in_last_ack((t), __FILE__, __LINE__)

/* ---- looking at the stack --------------------------------------------- */
ustk_tcp_info th_info(tcp_test *t, int sock, const char *file, int line);
void th_assert_state(tcp_test *t, int sock, int state, const char *file,
                     int line);
/* The last state the trace reported for t->c's connection (ports lport and
 * pport), or -1 when the trace never mentioned it. Works for connections
 * that have no handle (half-open, orphaned). */
int th_traced_state(const tcp_test *t);
/* Whether the trace reported old -> new for t->c's connection. */
bool th_traced_change(const tcp_test *t, int old_state, int new_state);
uint64_t th_drops(const tcp_test *t, int reason);
ustk_time th_deadline(const tcp_test *t);

#define info(t) th_info((t), (t)->c.sock, __FILE__, __LINE__)
#define assert_state(t, st) th_assert_state((t), (t)->c.sock, (st), __FILE__, __LINE__)
#define assert_sock_state(t, sock, st) th_assert_state((t), (sock), (st), __FILE__, __LINE__)

/* Compare a ustk_input() result (0 or a USTK_DROP_* reason) or an error
 * code (0 or USTK_E*), printing names on failure. */
void th_assert_drop(const char *file, int line, int got, int want);
void th_assert_err(const char *file, int line, long got, long want);
#define assert_drop(got, want) th_assert_drop(__FILE__, __LINE__, (got), (want))
#define assert_err(got, want) th_assert_err(__FILE__, __LINE__, (long)(got), (long)(want))

/* Fail the test at file:line with a message. */
void th_fail(const char *file, int line, const char *fmt, ...) TH_PRINTF(3, 4);

#endif
