/* Internal definitions of TCP: the transmission control block and the
 * functions the TCP files share with each other and with the socket layer. */
#ifndef USTK_CORE_TCP_PRIV_H
#define USTK_CORE_TCP_PRIV_H

#include "stack_priv.h"
#include "tcp_cc.h"
#include "util/seq.h"

/* Connection flags. */
enum {
    TF_ACK_NOW = 1u << 0,    /* send an ACK at the next output */
    TF_FIN_QUEUED = 1u << 1, /* the user closed the sending side */
    TF_FIN_RCVD = 1u << 2,   /* the peer's FIN is in sequence */
    TF_ORPHAN = 1u << 3,     /* the user closed the handle */
    TF_PASSIVE = 1u << 4,    /* came from a listener */
    TF_RTT_TIMING = 1u << 5, /* rtt_seq is being timed (Karn) */
    TF_WSCALE = 1u << 6,     /* window scaling negotiated */
    TF_SACK = 1u << 7,       /* SACK-permitted negotiated */
    TF_TS = 1u << 8,         /* timestamps negotiated */
    TF_RD_SHUT = 1u << 9,    /* shutdown(SHUT_RD) */
    TF_PENDING = 1u << 10,   /* on the stack's pending-output list */
    TF_ACCEPTQ = 1u << 11,   /* on a listener's accept queue */
    TF_BOUND = 1u << 12,     /* in the port table */
    TF_HASHED = 1u << 13,    /* in the connection table */
    TF_DEAD = 1u << 14,      /* CLOSED for good; freed when the handle goes */
    TF_PROBE = 1u << 15,     /* send one byte into a zero window */
    TF_SYN_RTO = 1u << 16,   /* our SYN timed out (RFC 6298 §5.7) */
    TF_FAST_RTX = 1u << 17,  /* retransmit the segment at SND.UNA now */
    TF_FIN_OOO = 1u << 18,   /* the peer's FIN came ahead of a hole */
    TF_IN_RECOVERY = 1u << 19, /* fast recovery until SND.UNA >= recover */
    TF_KEEP_PROBE = 1u << 20,  /* send a keepalive probe */
    TF_SACK_RECOVERY = 1u << 21, /* the recovery is RFC 6675's */
    TF_DSACK = 1u << 22,       /* report dsack[] first (RFC 2883) */
    TF_SYN_ACKED = 1u << 23,   /* our SYN is acknowledged: SND.UNA is past
                                  ISS for good, even once sequence numbers
                                  wrap round to it again */
    TF_TLP = 1u << 24,         /* the probe timeout fired: send a probe */
    TF_RACK = 1u << 25,        /* RACK-TLP is the loss detector (SACK on) */
    TF_NO_DF = 1u << 26        /* the path takes less than USTK_PMTU_MIN:
                                  send with DF clear (pmtu.c) */
};

/* Data segments acknowledged at once at the start of a connection. */
#ifndef USTK_TCP_QUICKACKS
#define USTK_TCP_QUICKACKS 8
#endif

/* How many separate out-of-order ranges a connection tracks. */
#ifndef USTK_TCP_OOO_MAX
#define USTK_TCP_OOO_MAX 16
#endif

/* Out-of-order data received beyond RCV.NXT. The bytes sit in the receive
 * ring at their place; this records which ranges are there, most recently
 * changed first (the order SACK blocks are reported in, RFC 2018 §4).
 * Allocated on first use. */
typedef struct ustk_ooo {
    uint32_t n;
    uint32_t blk[USTK_TCP_OOO_MAX][2]; /* [left, right) */
} ustk_ooo;

/* How many separate SACKed ranges the sender tracks. */
#ifndef USTK_TCP_SB_MAX
#define USTK_TCP_SB_MAX 32
#endif

/* The sender's scoreboard (RFC 6675), sorted by sequence number. */
typedef struct ustk_sb {
    uint32_t n;
    uint32_t high_rxt; /* HighRxt: highest byte retransmitted in recovery */
    uint32_t blk[USTK_TCP_SB_MAX][2];
} ustk_sb;

/* One transmitted segment, for RACK (RFC 8985 §6.1): its sequence range
 * (a FIN counts) and when it was last sent. */
enum { TX_SACKED = 1, TX_LOST = 2, TX_RETRANS = 4 };
typedef struct ustk_txseg {
    ustk_time xmit;
    uint32_t seq, end;
    uint32_t flags;
} ustk_txseg;

/* RACK-TLP (RFC 8985) and the undo of spurious reductions (RFC 2883 §4,
 * RFC 3708), with the log of segments in flight in sequence order. Taken
 * when the first data segment of a SACK connection goes out and given back
 * with the buffers, so an idle connection holds none of it. */
typedef struct ustk_rack {
    /* RACK (§6.1): the most recently sent segment known delivered. */
    ustk_time xmit;
    uint32_t end;
    uint32_t rtt;           /* its RTT, microseconds */
    uint32_t fack;          /* highest sequence delivered (reordering) */
    uint32_t min_rtt;       /* microseconds; 0 = no sample yet */
    ustk_time min_rtt_at;
    uint32_t dsack_round;   /* SND.MAX when reo_wnd_mult last grew */
    uint8_t reo_wnd_mult, reo_wnd_persist;
    bool reordering_seen, dsack_round_set;
    ustk_time reo_at;       /* reordering timer */
    /* TLP (§7) */
    ustk_time pto_at;
    uint32_t tlp_end;       /* SND.NXT after the probe */
    uint32_t tlp_flight;    /* bytes in flight when it went */
    bool tlp_active, tlp_is_retrans;
    /* Undo: an episode (recovery or timeout) saves the window it cut;
     * when every retransmission of it comes back as a D-SACK, the cut
     * was spurious and is undone. */
    bool undo_valid;
    uint32_t undo_marker, undo_high, undo_retrans, prior_cwnd,
        prior_ssthresh;
    ustk_time undo_until;   /* the episode ended: D-SACKs count until */
    ustk_time sampled_at;   /* last RTT sample taken from the log */
    bool sample_now;        /* take the next one at once (after an RTO) */
    /* The log: v[head .. head+n) in sequence order. */
    uint32_t cap, head, n;
    uint32_t sacked_bytes, lost_bytes, sacked_segs;
    ustk_txseg v[];
} ustk_rack;

/* The connection block is two parts. The core below is what every
 * connection keeps for its whole life; the busy part (ustk_tcbx) holds
 * what only a connection with something going on needs, and is taken on
 * demand and given back when the connection is quiet again (tcp_conn.c:
 * ustk__tcb_busy, ustk__tcb_settle). A quiet connection is ESTABLISHED
 * or CLOSE-WAIT with no buffer, nothing in flight or unacknowledged, no
 * timer, no ACK owed, no loss-recovery or out-of-order state, keepalive
 * off and the per-socket timeouts at the stack's defaults: every field
 * of the busy part then has the value a fresh one gets (busy_init), so
 * giving it back loses nothing, except the congestion-avoidance epoch
 * and CUBIC's Reno-friendly estimate, which restart as after idle
 * (RFC 9438 §5.8). */
typedef struct ustk_tcbx {
    ustk_tcb *tcb;          /* the block this part belongs to */
    ustk_heap_node timer;   /* earliest of the deadlines below */
    ustk_tcb *pnext, *pprev; /* pending-output list */
    ustk_tcb *bnext;        /* port_tab chain (bound and listening) */

    /* Listener: accept queue and half-open count. Child: its listener. */
    ustk_tcb *listener;
    ustk_tcb *aq_head, *aq_tail; /* established, not yet accepted */
    ustk_tcb *hq_head;           /* half-open (SYN-RECEIVED) */
    ustk_tcb *aq_next, *aq_prev; /* child: links in one of those lists */
    uint32_t aq_len, backlog, half_open;

    /* snd_max is the highest sequence number sent so far; snd_nxt falls
     * back to snd_una on a retransmission timeout. Both equal SND.UNA
     * when the connection is quiet. */
    uint32_t snd_nxt, snd_max;
    uint32_t snd_sml; /* end of the last short segment sent (Minshall) */
    /* RCV.NXT of the last ACK sent (RFC 7323 §4.3); RCV.NXT when quiet. */
    uint32_t last_ack_sent;

    ustk_ring snd, rcv;
    ustk_ooo *ooo;        /* NULL until data arrives out of order */
    ustk_sb *sb;          /* NULL until the peer SACKs something */
    ustk_rack *rack;      /* NULL until data goes out with RACK on */
    uint32_t dsack[2];    /* with TF_DSACK: a duplicate to report */
    uint32_t fin_seq;     /* with TF_FIN_OOO: where the peer's FIN is */
    uint32_t dupacks;     /* consecutive duplicate ACKs (RFC 5681 §2) */

    /* Timers (USTK_TIME_NEVER when off). */
    ustk_time rtx_at, delack_at, persist_at, tw_at, keep_at;
    ustk_time una_since;  /* oldest unacknowledged data went out (user timeout) */
    ustk_time oow_ack_at; /* last ACK to an unacceptable bare ACK */
    uint32_t keep_probes; /* unanswered keepalive probes */
    uint32_t backoff;     /* consecutive timeouts of the current segment */
    uint32_t persist_backoff; /* probes sent in this zero-window spell */
    uint32_t probes_unanswered;
    uint32_t unacked_segs;/* full-sized segments received, not yet ACKed */
    uint32_t ooo_acks;    /* segments that came out of order since the
                             last pure ACK: each is owed one (RFC 5681
                             §4.2), also when several came in one batch */

    /* RFC 6298: the segment being timed (with TF_RTT_TIMING). */
    uint32_t rtt_seq;
    ustk_time rtt_start;

    ustk_cc_state cc;     /* the algorithm's state */
    /* The RTO (RFC 6298), microseconds, with its backoff; when quiet it
     * is what SRTT and RTTVAR give (ustk__tcp_rto_base). */
    uint32_t rto;
    /* NewReno's and RFC 6675's recovery point; SND.UNA or below when
     * quiet, where it is as good as SND.UNA. */
    uint32_t recover;
    /* Proportional Rate Reduction during a SACK recovery (RFC 9937):
     * bytes the peer got, bytes sent, and the flight when it began. */
    uint32_t prr_delivered, prr_out, prr_recover_fs;

    /* Socket options whose defaults come from the stack's config. */
    uint32_t keep_idle_s, keep_intvl_s, keep_cnt;
    uint32_t user_timeout_ms;
} ustk_tcbx;

/* The core: links, 4-tuple, state and flags, sequence space, options
 * agreed, RTT estimator, window, socket options, error and statistics. */
struct ustk_tcb {
    ustk_tcb *hnext;        /* conn_tab chain */
    ustk_tcbx *x;           /* the busy part; NULL while quiet */
    int sock;               /* handle, -1 when none (embryonic or orphan) */
    uint32_t flags;
    uint8_t state;          /* ustk_tcp_state */
    /* Socket options (USTK_TCP_RACK, USTK_TCP_TLP for the last two). */
    unsigned cc_kind : 2;   /* ustk_cc_kind */
    unsigned nodelay : 1, keepalive : 1, rack_on : 1, tlp_on : 1;
    unsigned snd_wscale : 4, rcv_wscale : 4; /* at most 14 */
    unsigned quickacks : 4; /* data segments ACKed at once so far
                               (up to USTK_TCP_QUICKACKS) */

    ustk_ip4 laddr, raddr;
    uint16_t lport, rport;

    /* Send sequence space (RFC 9293 §3.3.1); SND.NXT and SND.MAX are in
     * the busy part. */
    uint32_t iss, snd_una;
    uint32_t snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
    /* Receive sequence space. */
    uint32_t irs, rcv_nxt, rcv_adv;

    uint16_t mss;        /* largest payload we send, before options */
    uint16_t peer_mss;
    uint32_t ts_recent, ts_offset;
    /* When TS.Recent was last set, in seconds of the stack's clock (136
     * years): it only expires after 24 idle days (RFC 7323 §5.5). */
    uint32_t ts_recent_at_s;

    /* RFC 6298 estimator, microseconds (the RTO is in the busy part). */
    uint32_t srtt, rttvar;

    /* Congestion control (bytes). cwnd is 0 until established. */
    uint32_t cwnd, ssthresh;

    int16_t err;          /* pending socket error */
    int16_t soft_err;     /* last soft ICMP error (RFC 1122 §4.2.3.9),
                             reported if the connection then times out */

    /* Statistics (ustk_tcp_info). retransmits is the sum of the four
     * kinds. The segment counts wrap at 2^32, as Linux's tcpi_segs_in
     * and tcpi_segs_out do; the byte counts do not. */
    uint32_t rtx_timeout, rtx_fast, rtx_sack, rtx_tlp;
    uint32_t undos;       /* spurious reductions undone */
    uint32_t segs_in, segs_out;
    /* When data last went out (RFC 5681 §4.1 idle restart), in
     * milliseconds of the stack's clock modulo 2^32; 0 before any. An
     * idle spell of a multiple of 49.7 days may pass for a short one and
     * keep the window. */
    uint32_t last_send_ms;
    uint64_t bytes_acked, bytes_rcvd;
};

#define TCB_RCV_CAP(s) ((s)->cfg.rcv_buf)
#define TCB_SND_CAP(s) ((s)->cfg.snd_buf)

/* ---- tcp_conn.c: table, lifecycle ---- */
/* A new block, with its busy part. */
ustk_tcb *ustk__tcb_new(ustk_stack *s);
/* Take the busy part if the block has none (a freed one from the stack's
 * cache when there is one); false when memory is exhausted. Every path
 * that may change a connection calls it first: segment arrival, the user
 * calls. Timers and output only ever see busy blocks. */
bool ustk__tcb_busy_take(ustk_stack *s, ustk_tcb *t);
static inline bool ustk__tcb_busy(ustk_stack *s, ustk_tcb *t)
{
    return t->x || ustk__tcb_busy_take(s, t);
}
/* Flags that keep the busy part whatever else holds (tcb_quiet in
 * tcp_conn.c checks the rest). TF_BOUND: bound by bind(), the port
 * table links through the busy part. */
#define TCB_BUSY_FLAGS                                                      \
    (TF_BOUND | TF_ACK_NOW | TF_RTT_TIMING | TF_PENDING | TF_ACCEPTQ |      \
     TF_DEAD | TF_PROBE | TF_SYN_RTO | TF_FAST_RTX | TF_FIN_OOO |          \
     TF_IN_RECOVERY | TF_KEEP_PROBE | TF_SACK_RECOVERY | TF_DSACK | TF_TLP)
/* Give the busy part back if the connection is quiet. Called where a
 * path that took it ends, after ustk__tcp_reschedule; the common "not
 * quiet" (a state other than ESTABLISHED and CLOSE-WAIT, or one of the
 * flags above) is answered inline. */
void ustk__tcb_settle_now(ustk_stack *s, ustk_tcb *t);
static inline void ustk__tcb_settle(ustk_stack *s, ustk_tcb *t)
{
    if (t->x &&
        (t->state == USTK_TCP_ESTABLISHED ||
         t->state == USTK_TCP_CLOSE_WAIT) &&
        !(t->flags & TCB_BUSY_FLAGS))
        ustk__tcb_settle_now(s, t);
}
/* SND.NXT and SND.MAX of a block that may be quiet (then both are
 * SND.UNA). */
static inline uint32_t ustk__tcb_snd_max(const ustk_tcb *t)
{
    return t->x ? t->x->snd_max : t->snd_una;
}
static inline uint32_t ustk__tcb_snd_nxt(const ustk_tcb *t)
{
    return t->x ? t->x->snd_nxt : t->snd_una;
}
/* Free a connection that has no handle. */
void ustk__tcb_free(ustk_stack *s, ustk_tcb *t);
/* Listener children: add a half-open one, move it to the accept queue when
 * it is established, take the oldest established one. */
void ustk__tcb_child_add(ustk_tcb *l, ustk_tcb *t);
void ustk__tcb_child_established(ustk_tcb *t);
ustk_tcb *ustk__tcb_child_take(ustk_tcb *l);
void ustk__tcb_set_state(ustk_stack *s, ustk_tcb *t, int state);
/* Move the connection to CLOSED for good: unhash, stop timers, free
 * buffers, record err for the handle (if any), or free it (orphan). */
void ustk__tcb_close(ustk_stack *s, ustk_tcb *t, int err);
/* The connection table's hash of a 4-tuple (the TIME-WAIT table uses it
 * too, with its own mask). */
uint32_t ustk__conn_hash(const ustk_stack *s, ustk_ip4 laddr, uint16_t lport,
                         ustk_ip4 raddr, uint16_t rport);
ustk_tcb *ustk__tcb_lookup(ustk_stack *s, ustk_ip4 laddr, uint16_t lport,
                           ustk_ip4 raddr, uint16_t rport);
/* ustk__tcb_lookup that also gives the 4-tuple's hash when it finds
 * nothing (*hash is set whenever NULL is returned), for the TIME-WAIT
 * probe and the hash-in of the connection that the miss may start. */
ustk_tcb *ustk__tcb_find(ustk_stack *s, ustk_ip4 laddr, uint16_t lport,
                         ustk_ip4 raddr, uint16_t rport, uint32_t *hash);
ustk_tcb *ustk__tcb_listener(ustk_stack *s, ustk_ip4 laddr, uint16_t lport);
/* Put t in the connection table under hash, its 4-tuple's
 * ustk__conn_hash, and make it the last connection found: the next
 * segment is likely its own. */
void ustk__tcb_hash(ustk_stack *s, ustk_tcb *t, uint32_t hash);
/* A hashed block's hash: the one kept with the last connection found
 * when it is that one, else computed again. */
uint32_t ustk__tcb_hash_of(const ustk_stack *s, const ustk_tcb *t);
void ustk__tcb_unhash(ustk_stack *s, ustk_tcb *t);
int ustk__tcb_bind(ustk_stack *s, ustk_tcb *t, ustk_ip4 addr, uint16_t port);
void ustk__tcb_unbind(ustk_stack *s, ustk_tcb *t);
/* Choose an ephemeral port; *hash is then the new 4-tuple's hash. */
int ustk__tcb_pick_port(ustk_stack *s, ustk_tcb *t, uint32_t *hash);
uint32_t ustk__tcp_isn(ustk_stack *s, ustk_time now, const ustk_tcb *t);
/* Buffers are taken on demand; false when memory is exhausted. */
bool ustk__tcb_snd_alloc(ustk_stack *s, ustk_tcb *t);
bool ustk__tcb_rcv_alloc(ustk_stack *s, ustk_tcb *t);
void ustk__tcb_free_buffers(ustk_stack *s, ustk_tcb *t);
/* Give the send (with RACK's log) or receive buffer back, when empty. */
void ustk__tcb_snd_release(ustk_stack *s, ustk_tcb *t);
void ustk__tcb_rcv_release(ustk_stack *s, ustk_tcb *t);
/* Prepare a fresh active or passive connection: ISS, RTO, sequence vars. */
void ustk__tcb_init_seq(ustk_stack *s, ustk_time now, ustk_tcb *t);
void ustk__tcb_notify(ustk_stack *s, ustk_tcb *t);
/* Trace helpers. */
/* An event of the given kind about t, its connection fields filled in. */
void ustk__trace_fill(const ustk_stack *s, const ustk_tcb *t,
                      ustk_trace_event *ev, ustk_trace_kind kind);
void ustk__trace_state(ustk_stack *s, const ustk_tcb *t, int old_state);
void ustk__trace_timer(ustk_stack *s, const ustk_tcb *t, int timer);
void ustk__trace_seg_emit(ustk_stack *s, const ustk_tcb *t,
                          ustk_trace_kind kind, const ustk_tcp_hdr *h,
                          uint32_t len, bool rtx);
/* Every segment in and out asks; most stacks have no trace. */
static inline void ustk__trace_seg(ustk_stack *s, const ustk_tcb *t,
                                   ustk_trace_kind kind,
                                   const ustk_tcp_hdr *h, uint32_t len,
                                   bool rtx)
{
    if (s->cfg.trace)
        ustk__trace_seg_emit(s, t, kind, h, len, rtx);
}

/* ---- tcp_reasm.c: out-of-order ranges and SACK ---- */
/* Record [l, r) as received; false when it cannot be tracked. */
bool ustk__ooo_add(ustk_stack *s, ustk_tcb *t, uint32_t l, uint32_t r);
/* Join ranges that now touch RCV.NXT to the stream; returns bytes joined. */
uint32_t ustk__ooo_advance(ustk_tcb *t);
bool ustk__ooo_empty(const ustk_tcb *t);
/* Fill up to max SACK blocks, most recent first. */
void ustk__ooo_sack(const ustk_tcb *t, ustk_tcp_opts *opts, uint32_t max);
/* How many SACK blocks the next segment carries (D-SACK included). */
uint32_t ustk__ooo_sack_count(const ustk_tcb *t);

/* ---- tcp_cc.c: events every algorithm shares ---- */
void ustk__cc_established(ustk_stack *s, ustk_tcb *t);
void ustk__cc_on_new_ack(ustk_stack *s, ustk_tcb *t, uint32_t acked,
                         ustk_time now);
void ustk__cc_on_dupack(ustk_stack *s, ustk_tcb *t, ustk_time now);
void ustk__cc_enter_recovery(ustk_stack *s, ustk_tcb *t, ustk_time now);
void ustk__cc_prr_on_ack(ustk_stack *s, ustk_tcb *t, uint32_t delivered,
                         bool safe);
void ustk__cc_on_timeout(ustk_stack *s, ustk_tcb *t, ustk_time now);
/* Leave any recovery for a go-back-N from SND.UNA (a timeout, or a path
 * MTU found smaller): no recovery until SND.MAX, no marks of loss, no
 * tail probe due; forget_sacks drops the SACK scoreboard too. */
void ustk__cc_end_recovery(ustk_tcb *t, bool forget_sacks);
void ustk__cc_idle_check(ustk_stack *s, ustk_tcb *t, ustk_time now);
void ustk__cc_trace(ustk_stack *s, const ustk_tcb *t);
void ustk__cc_reno_grow(ustk_tcb *t, uint32_t acked);
/* FlightSize for a window cut (RFC 5681 eq. 4): what is outstanding,
 * but no more than cwnd (and limited transmit's two segments). With SACK the sender keeps sending beyond a hole
 * while the data above it is held by the peer, so SND.MAX - SND.UNA can
 * be far above what is in the network; halving that would not cut. */
uint32_t ustk__cc_flight(const ustk_tcb *t);
int ustk__tcp_set_cc(ustk_stack *s, ustk_tcb *t, int kind);

/* ---- tcp_sack.c: the sender's scoreboard (RFC 6675) ---- */
void ustk__sb_update(ustk_stack *s, ustk_tcb *t, const ustk_tcp_opts *o);
void ustk__sb_prune(ustk_tcb *t);
bool ustk__sb_empty(const ustk_tcb *t);
uint32_t ustk__sb_sacked_bytes(const ustk_tcb *t);
uint32_t ustk__sb_loss_edge(const ustk_tcb *t);
bool ustk__sb_is_lost(const ustk_tcb *t, uint32_t seq);
uint32_t ustk__sb_pipe(const ustk_tcb *t);
bool ustk__sb_next_lost(const ustk_tcb *t, uint32_t *seq, uint32_t *len);
uint32_t ustk__sb_skip(const ustk_tcb *t, uint32_t seq);
uint32_t ustk__sb_hole_end(const ustk_tcb *t, uint32_t seq, uint32_t limit);
uint32_t ustk__sb_lost_out(const ustk_tcb *t);
/* Bytes of [from, to) the peer has not SACKed. */
uint32_t ustk__sb_unsacked(const ustk_tcb *t, uint32_t from, uint32_t to);

/* ---- tcp_rack.c: RACK-TLP (RFC 8985) and undo ---- */
/* Record a segment [seq, end) sent at now (new or retransmitted). Returns
 * false when the log has no room for a new segment. */
void ustk__rack_on_send(ustk_stack *s, ustk_tcb *t, uint32_t seq,
                        uint32_t end, bool fin, bool rtx, ustk_time now);
/* May a new segment go out (a record is free, or one can be extended)? */
bool ustk__rack_can_send_new(const ustk_tcb *t);
/* Records the log can still take for new data (the FIN's slot kept);
 * UINT32_MAX when there is no log (yet). */
uint32_t ustk__rack_free_records(const ustk_tcb *t);
/* An acceptable ACK: the delivered segments update RACK, losses are
 * marked, the reordering and probe timers set. prior_una is SND.UNA
 * before the ACK; dup tells whether the segment is a duplicate ACK (the
 * same ACK and window, no data, no FIN); dsack whether it carried a
 * D-SACK block [dsack_l, dsack_r). Returns true when it newly marked a
 * loss. */
bool ustk__rack_on_ack(ustk_stack *s, ustk_tcb *t, uint32_t prior_una,
                       bool dup, const ustk_tcp_opts *o, bool dsack,
                       uint32_t dsack_l, uint32_t dsack_r, ustk_time now);
/* The reordering timer expired: detect losses again. */
bool ustk__rack_on_reo_timer(ustk_stack *s, ustk_tcb *t, ustk_time now);
/* The first segment marked lost and not yet resent. */
bool ustk__rack_next_lost(const ustk_tcb *t, uint32_t *seq, uint32_t *len);
/* RFC 6675 pipe, from the log: in flight, less SACKed, less lost. */
uint32_t ustk__rack_pipe(const ustk_tcb *t);
/* Arm the probe timeout after sending or on an ACK (§7.2). */
void ustk__rack_arm_pto(ustk_stack *s, ustk_tcb *t, ustk_time now);
/* The last segment in the log (the TLP retransmission). */
bool ustk__rack_last(const ustk_tcb *t, uint32_t *seq, uint32_t *end);
/* A probe went out: it ends at end; rtx when it was a retransmission. */
void ustk__rack_tlp_sent(ustk_tcb *t, uint32_t end, bool rtx);
/* Save the window before a reduction (recovery or timeout); with
 * continued, an episode under way keeps what it saved. */
void ustk__rack_undo_start(ustk_tcb *t, bool continued);
/* The retransmission timer expired: forget loss marks and the probe, and
 * the SACK marks too when the scoreboard was forgotten. */
void ustk__rack_on_rto(ustk_tcb *t, bool forget_sacks);
void ustk__rack_free(ustk_stack *s, ustk_tcb *t);
/* Socket options USTK_TCP_RACK and USTK_TCP_TLP. */
int ustk__rack_set(ustk_stack *s, ustk_tcb *t, bool rack, bool tlp);

/* ---- tcp_tw.c: compact TIME-WAIT ---- */
typedef struct ustk_tw ustk_tw;
typedef struct ustk_tw_tab {
    ustk_heap_node timer; /* in the stack's heap: the FIFO head's expiry */
    /* Records are numbered from 1 (0 = none) and live in chunks of
     * USTK_TW_CHUNK, taken as needed; links are 32-bit numbers. */
    uint32_t head, tail;  /* FIFO, oldest first */
    uint32_t free;        /* free records, through hnext */
    uint32_t used;        /* records ever taken from the chunks */
    uint32_t mask, n;
    ustk_tw **chunk;
    uint32_t *tab;        /* buckets */
} ustk_tw_tab;
/* The rest of ustk__tw_compact()'s check, and the record: only for a
 * block in TIME-WAIT. */
bool ustk__tw_compact_now(ustk_stack *s, ustk_tcb *t);
/* Replace an orphaned TIME-WAIT block by a 56-byte record; false when it
 * stays a block (table full, no memory, not orphaned). Frees t. Asked
 * after every segment in and out, nearly always of a connection in
 * another state: that answer is inline. */
static inline bool ustk__tw_compact(ustk_stack *s, ustk_tcb *t)
{
    return t->state == USTK_TCP_TIME_WAIT && ustk__tw_compact_now(s, t);
}
/* The record of a 4-tuple; hash is its ustk__conn_hash. */
ustk_tw *ustk__tw_lookup(ustk_stack *s, uint32_t hash, ustk_ip4 laddr,
                         uint16_t lport, ustk_ip4 raddr, uint16_t rport);
ustk_tcb *ustk__tw_expand(ustk_stack *s, ustk_tw *r, uint32_t hash,
                          ustk_time now);
void ustk__tw_timer(ustk_stack *s, ustk_time now);
/* A segment (h, len payload bytes) for record r whose block could not be
 * made again (no memory, or the connection table full): a retransmitted
 * FIN, or old data, is acknowledged from the record as the block would
 * (a FIN restarts 2*MSL); anything else is dropped as TCP_NO_MEMORY.
 * Counts the drop the block would count. */
void ustk__tw_no_block(ustk_stack *s, ustk_tw *r, uint32_t hash,
                       const ustk_tcp_hdr *h, uint32_t len, ustk_time now);
uint32_t ustk__tuple_hash(const uint8_t key[16], ustk_ip4 laddr,
                          uint16_t lport, ustk_ip4 raddr, uint16_t rport);

/* ---- tcp_output.c ---- */
void ustk__pend_remove(ustk_stack *s, ustk_tcb *t);
/* Recompute what the connection wants and when: put it on the pending
 * list if it wants to send now, and set its timer to its next deadline.
 * Call after every change to a connection. */
void ustk__tcp_reschedule(ustk_stack *s, ustk_tcb *t);
/* The same, after a user call that gave the connection something new to
 * send (a SYN, data, a FIN): it goes on the pending list undecided, and
 * the next poll decides once, sending or filing the deadlines. */
void ustk__tcp_output_due(ustk_stack *s, ustk_tcb *t);
/* Queue a segment without payload that no block sends (a RST for no
 * connection, an ACK from a TIME-WAIT record), traced as one of like's
 * (NULL: addresses and ports only). False, counted, when the control
 * queue is full. */
bool ustk__tcp_send_bare(ustk_stack *s, ustk_ip4 laddr, ustk_ip4 raddr,
                         const ustk_tcp_hdr *h, const ustk_tcb *like);
/* Queue a RST (and ACK if ack_flag) with no connection behind it. */
void ustk__tcp_send_rst(ustk_stack *s, ustk_ip4 laddr, uint16_t lport,
                        ustk_ip4 raddr, uint16_t rport, uint32_t seq,
                        uint32_t ack, bool ack_flag);
/* The receive window we would advertise now, in bytes (unscaled). */
uint32_t ustk__tcp_rcv_window(const ustk_stack *s, const ustk_tcb *t);
/* The window scale we offer: the configured one, lowered for a small
 * receive buffer so that the window keeps at least 1/1024 of it as its
 * unit (RFC 7323 §2.3 leaves the choice to the receiver); otherwise a
 * buffer smaller than 2^shift could only be announced as a zero window. */
static inline uint8_t ustk__tcp_wscale_offer(const ustk_stack *s)
{
    uint8_t shift = s->cfg.wscale;
    while (shift > 0 && (s->cfg.rcv_buf >> shift) < 1024)
        shift--;
    return shift;
}

/* The right edge of the peer's window. RFC 9293 §3.10.7.4 takes the
 * window from the segment that acknowledged SND.WL2, so the edge is
 * SND.WL2 + SND.WND: an ACK too old to update the window may still move
 * SND.UNA, and SND.UNA + SND.WND would then reach past what the peer
 * offered. */
static inline uint32_t ustk__tcp_peer_edge(const ustk_tcb *t)
{
    return t->snd_wl2 + t->snd_wnd;
}

/* cwnd never grows beyond this (bytes). */
#define USTK_CWND_MAX (1u << 30)

/* SMSS for congestion control (RFC 5681 §2): the largest payload a
 * segment carries after the options every segment has (timestamps). */
static inline uint32_t ustk__tcp_smss(const ustk_tcb *t)
{
    return (uint32_t)t->mss - ((t->flags & TF_TS) ? 12u : 0u);
}
/* Our TSval for a time (RFC 7323 §5.4: a clock of 1 ms granularity, from
 * a random offset per connection). */
static inline uint32_t ustk__tcp_ts(const ustk_tcb *t, ustk_time at)
{
    return (uint32_t)(at / 1000) + t->ts_offset;
}

/* Payload bytes that fit in one segment, after options. */
uint32_t ustk__tcp_seg_payload_max(const ustk_tcb *t);

/* ---- tcp_timer.c ---- */
void ustk__tcp_rtt_sample(ustk_stack *s, ustk_tcb *t, ustk_time rtt);
void ustk__tcp_rearm_rtx(ustk_stack *s, ustk_tcb *t, ustk_time now);
/* The RTO SRTT and RTTVAR give (the initial one before a sample). */
uint32_t ustk__tcp_rto_base(const ustk_stack *s, const ustk_tcb *t);
/* The RTO from SRTT and RTTVAR again, without the backoff. */
void ustk__tcp_rto_restore(ustk_stack *s, ustk_tcb *t);
void ustk__tcp_enter_time_wait(ustk_stack *s, ustk_tcb *t, ustk_time now);

/* ---- tcp_user.c: calls from the socket layer ---- */
int ustk__tcp_connect(ustk_stack *s, ustk_tcb *t, ustk_ip4 raddr,
                      uint16_t rport, ustk_time now);
int ustk__tcp_listen(ustk_stack *s, ustk_tcb *t, int backlog);
ustk_tcb *ustk__tcp_accept(ustk_stack *s, ustk_tcb *l);
ptrdiff_t ustk__tcp_send(ustk_stack *s, ustk_tcb *t, const void *buf,
                         size_t len, ustk_time now);
ptrdiff_t ustk__tcp_recv(ustk_stack *s, ustk_tcb *t, void *buf, size_t len,
                         ustk_time now);
int ustk__tcp_shutdown(ustk_stack *s, ustk_tcb *t, int how, ustk_time now);
/* The handle is going away: graceful close (or RST, RFC 2525). */
void ustk__tcp_close(ustk_stack *s, ustk_tcb *t, ustk_time now);
void ustk__tcp_abort(ustk_stack *s, ustk_tcb *t, ustk_time now);
int ustk__tcp_poll(const ustk_stack *s, const ustk_tcb *t);
void ustk__tcp_info(const ustk_stack *s, const ustk_tcb *t, ustk_tcp_info *o);

#endif
