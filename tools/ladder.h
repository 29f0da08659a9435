/* A ladder diagram of one TCP conversation, drawn as terminal text.
 *
 * Two columns, one per endpoint (left and right), and one line per segment
 * at the time it was sent, with an arrow in its direction: flags, relative
 * sequence and acknowledgment numbers, window, length and options. Each line
 * also shows both endpoints' TCP states, so that a reader sees every state
 * change where it happens. ARP exchanges, timer firings, drops and notes from
 * the application appear as small lines of their own.
 *
 * The ladder is fed trace events (it can be installed as a ustk_trace_fn).
 * A caller that also watches the wire (a link decorator, a pcap reader) can
 * make the wire drive the drawing: each segment is then drawn when its frame
 * leaves, with its fate (delivered or lost), and the trace adds what only the
 * stack knows (retransmission, state). That matters while ARP holds packets
 * back: the trace reports a SYN when it is built, the wire when it is sent.
 * A side whose stack is not traced at all (Linux on the other end) can be
 * drawn from what the traced side receives.
 *
 * It follows one connection per side (the first one it sees); a viewer of
 * several connections uses one ladder per connection.
 * Long runs of plain data and ACK lines are collapsed into a "... N segments
 * ..." line so that a large transfer stays readable. What tells the story of
 * a loss is shown one row at a time (up to a budget): the lost segment, the
 * first duplicate ACKs ("dupack") and segments with SACK blocks, the
 * retransmission, the first ACK that moves on, and cuts of the congestion
 * window. Changes of cwnd and ssthresh appear as small notes in the
 * sender's column; growth is folded like data.
 */
#ifndef USTK_TOOLS_LADDER_H
#define USTK_TOOLS_LADDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ustack/ustack.h"

typedef struct ladder ladder;

enum { LADDER_LEFT = 0, LADDER_RIGHT = 1 };

/* What the wire did to a frame (bits). */
enum {
    LADDER_FATE_LOST = 1,       /* never arrived */
    LADDER_FATE_DUPLICATED = 2, /* arrived twice */
    LADDER_FATE_DELAYED = 4,    /* held back: later frames overtake it */
    LADDER_FATE_CORRUPTED = 8   /* arrived with a bit flipped */
};

typedef struct ladder_opts {
    FILE *out;
    bool color; /* ANSI colours */
    bool utf8;  /* box-drawing arrows; ASCII otherwise */
    /* In a run of plain data/ACK lines, show the first `collapse_head` and
     * the last `collapse_tail` and summarise the rest. 0 = show everything. */
    unsigned collapse_head;
    unsigned collapse_tail;
    /* Losses, retransmissions and their timers are shown one by one until
     * this many have been; after that they are folded like data (and
     * counted in the summary rows). 0 = always shown. */
    unsigned detail_budget;
    /* Segments and ARP are drawn from ladder_wire_tcp()/ladder_arp() only;
     * traced segments wait for their frame (see above). */
    bool wire_driven;
    /* Bit (1 << side) for a side whose own events never arrive: its
     * segments and ARP packets are drawn when the other side receives them
     * (ignored when wire_driven). */
    unsigned untraced;
} ladder_opts;

/* Defaults: stdout, no colour, ASCII, collapse after 8 lines keeping 4,
 * 40 rows of loss detail, drawn from the trace of both sides. */
void ladder_opts_default(ladder_opts *o);
/* Whether the locale (LC_ALL, else LC_CTYPE, else LANG) is UTF-8, so that
 * box-drawing characters will show. */
bool ladder_utf8_locale(void);

/* Names ("client") and addresses of the two columns. Returns 0 or
 * USTK_ENOMEM. */
int ladder_create(ladder **out, const ladder_opts *o, const char *left_name,
                  ustk_ip4 left_ip, const char *right_name, ustk_ip4 right_ip);
/* Flushes what is held back, then frees. NULL is fine. */
void ladder_destroy(ladder *l);

/* The column of an address: LADDER_LEFT, LADDER_RIGHT or -1. */
int ladder_side_of(const ladder *l, ustk_ip4 ip);
/* Set a column's port for the header when it is known before any event. */
void ladder_set_port(ladder *l, int side, uint16_t port);

/* A trace event from the stack of `side` (LADDER_LEFT or LADDER_RIGHT). */
void ladder_event(ladder *l, int side, const ustk_trace_event *ev);
/* The same as a ustk_trace_fn: ctx is the ladder, the side is found from
 * the event's local address. */
void ladder_trace(void *ctx, const ustk_trace_event *ev);

/* An ARP packet that `from` put on the wire (op: 1 request, 2 reply), and
 * its fate (LADDER_FATE_* bits). */
void ladder_arp(ladder *l, ustk_time now, int from, int op,
                const uint8_t sha[6], ustk_ip4 spa, ustk_ip4 tpa,
                unsigned fate);
/* A TCP segment (ports sport -> dport) that `from` put on the wire, and
 * what the wire did to it. With wire_driven, this draws it (taking the
 * retransmission mark from the trace of the same segment); otherwise only a
 * lost segment is drawn, as a line of its own. */
void ladder_wire_tcp(ladder *l, ustk_time now, int from, uint16_t sport,
                     uint16_t dport, const ustk_trace_seg *seg, unsigned fate);
/* A frame (Ethernet or raw IPv4, per kind) that `from` put on the wire:
 * ARP goes to ladder_arp(), TCP to ladder_wire_tcp(), anything else is
 * ignored. from = -1 picks the side by the frame's source address.
 * (ladder_frame.c) */
void ladder_frame(ladder *l, ustk_time now, int from, ustk_link_kind kind,
                  const uint8_t *frame, size_t len, unsigned fate);
/* A short note in a side's column ("close()"); side -1 spans the middle. */
void ladder_note(ladder *l, ustk_time now, int side, const char *text);

/* Print everything held back (the last line, the tail of a collapsed run).
 * Call it when the conversation is over, before printing anything else. */
void ladder_flush(ladder *l);

#endif
