/* The ladder's insides, shared by ladder.c (events and segments) and
 * ladder_rows.c (laying out rows and folding long runs of them). */
#ifndef USTK_TOOLS_LADDER_PRIV_H
#define USTK_TOOLS_LADDER_PRIV_H

#include "ladder.h"
#include "ladder_draw.h"

#define WAIT_MAX 32 /* traced segments waiting for their frame, per side */

typedef struct waiting {
    ustk_time now;
    ustk_trace_seg seg;
} waiting;

typedef struct side {
    char name[16];
    ustk_ip4 ip;
    uint16_t port;
    bool have_conn; /* the connection this column follows */
    uint16_t lport, rport;
    int conn_state;   /* -1 until known */
    int listen_state; /* a listener's state, shown until a connection */
    bool changed;     /* state changed since a row last showed it */
    ld_end end; /* its ISN and window scale, for labels */
    bool isn_told;
    waiting q[WAIT_MAX];
    unsigned qn;
    /* The ACKs this side sends, to tell duplicates (RFC 5681 §2: no data,
     * the same ACK number and window) and the first ACK that moves on. */
    bool have_ack;
    uint32_t last_ack;
    uint16_t last_wnd;
    unsigned dup_run;  /* duplicate ACKs since the ACK number last moved */
    unsigned sack_run; /* segments with SACK blocks since then */
    /* The congestion window this side last reported. */
    bool have_cwnd;
    uint32_t cwnd, ssthresh;
} side;

/* How much a row matters when a long conversation is summarised. */
enum {
    ROW_MAJOR, /* handshake, teardown, state changes, ARP, notes: always */
    ROW_MINOR, /* losses, retransmissions, duplicate ACKs, SACK blocks,
                  the recovering ACK, cwnd cuts: until the budget is spent */
    ROW_PLAIN  /* data, ACKs, cwnd growth: a run shows its first and last */
};

/* What a row stands for, to count it when it is folded away. */
typedef struct row_info {
    int level;
    bool seg, rtx, lost;
    int dir;
    uint32_t len;
} row_info;

typedef struct held {
    ld_line ln;
    row_info ri;
} held;

struct ladder {
    ladder_opts o;
    ld_style st;
    side s[2];
    bool header_done;
    /* The state change held back (see the top of ladder.c). */
    bool pend;
    int pend_side;
    ustk_time pend_now;
    int pend_old, pend_new;
    /* The run of plain rows being collapsed: the first collapse_head are
     * printed, the last collapse_tail held, the rest only counted. */
    unsigned run;
    held *tail;
    unsigned tail_first, tail_n;
    uint64_t hid_rows, hid_segs, hid_rtx, hid_lost, hid_notes, hid_bytes[2];
    ld_line hid_first; /* the first row folded: shown alone if it is all */
    unsigned minor_shown;
};

/* Time, left state and lifeline: up to the middle. `hl` highlights states
 * that changed since the last row that showed them. */
void lr_begin(const ladder *l, ld_line *ln, ustk_time now, bool hl);
/* The right lifeline and state. */
void lr_end(ladder *l, ld_line *ln, bool hl);
/* Print a row, or fold it into the current run of plain rows. */
void lr_emit(ladder *l, const ld_line *ln, const row_info *ri);
/* Close the current run: its summary row and the rows held for its tail. */
void lr_end_run(ladder *l);
/* Print the state change held back, as a row of its own. */
void lr_flush_state(ladder *l);
/* A note row in side i's column (-1: the middle). */
void lr_note_row(ladder *l, ustk_time now, int i, const char *msg, int level);

#endif
