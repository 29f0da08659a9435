/* Drawing primitives for the ladder diagram: a line of terminal cells, with
 * optional ANSI colours and UTF-8 box-drawing glyphs (ASCII otherwise).
 *
 * A row is laid out as
 *     time | left state | lifeline | middle | lifeline | right state
 * with the widths below; the middle holds an arrow or a note.
 */
#ifndef USTK_TOOLS_LADDER_DRAW_H
#define USTK_TOOLS_LADDER_DRAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ustack/trace.h"

#define LD_TIME_W 10  /* "600000.000" ms */
#define LD_STATE_W 12 /* "SYN-RECEIVED" */
#define LD_MID_W 60
#define LD_MID_START (LD_TIME_W + 1 + LD_STATE_W + 2) /* first middle cell */
#define LD_LINE_CAP 1024

#define LD_RESET "\033[0m"
#define LD_DIM "\033[2m"
#define LD_RED "\033[31m"
#define LD_GREEN "\033[1;32m"
#define LD_YELLOW "\033[33m"
#define LD_BLUE "\033[34m"
#define LD_MAGENTA "\033[35m"
#define LD_CYAN "\033[36m"

/* Glyphs as UTF-8 / ASCII pairs. */
#define LD_VBAR "\xe2\x94\x82", "|"
#define LD_DOT "\xc2\xb7", "*"
#define LD_ELLIPSIS "\xe2\x80\xa6", "..."
#define LD_TO "\xe2\x86\x92", "->"
#define LD_FROM "\xe2\x86\x90", "<-"

typedef struct ld_style {
    bool color;
    bool utf8;
} ld_style;

/* A line being built; `cells` counts terminal columns, which colour codes
 * and the continuation bytes of UTF-8 glyphs do not take. */
typedef struct ld_line {
    char buf[LD_LINE_CAP];
    size_t len;
    unsigned cells;
} ld_line;

/* Markers an arrow can carry after its label. */
enum {
    LD_MARK_RTX = 1,     /* a retransmission */
    LD_MARK_LOST = 2,    /* the wire lost it: the arrow stops short */
    LD_MARK_UNSENT = 4,  /* traced, but never reached the wire */
    LD_MARK_DUPACK = 8,  /* a duplicate ACK (RFC 5681 §2) */
    LD_MARK_TWICE = 16,  /* the wire delivered it twice */
    LD_MARK_LATE = 32,   /* the wire held it back (reordering) */
    LD_MARK_CORRUPT = 64 /* the wire flipped a bit of it */
};

void ld_clear(ld_line *ln);
/* Append text whose every code point takes one column. */
void ld_text(ld_line *ln, const char *s);
void ld_pad(ld_line *ln, unsigned to);
void ld_color(const ld_style *st, ld_line *ln, const char *code);
void ld_glyph(const ld_style *st, ld_line *ln, const char *utf8,
              const char *ascii);
/* Cut s after `cells` columns, at a code point boundary. */
void ld_clip(char *s, unsigned cells);
/* "1234.567": microseconds as milliseconds with three decimals. */
void ld_time(char *buf, size_t cap, ustk_time t);
/* "SYN,ACK": TCP flags in the order Wireshark lists them. */
void ld_flags(uint8_t flags, char *buf, size_t cap);

/* An arrow across the middle from side `from` (0 left, 1 right) carrying
 * `label` in colour `tint`, with LD_MARK_* markers. */
void ld_arrow(const ld_style *st, ld_line *ln, int from, const char *label,
              const char *tint, unsigned marks);
/* A dim note next to a side's lifeline; side -1 centres it. */
void ld_note(const ld_style *st, ld_line *ln, int side, const char *msg);

/* What a label needs to know about each end of the connection. */
typedef struct ld_end {
    bool have_isn;
    uint32_t isn;
    int wscale; /* shift offered in its SYN, -1 when none */
} ld_end;

/* "[SYN,ACK] seq=0 ack=1 win=65535 mss=1460 ws=7 sackOK ts", or
 * "[ACK] seq=1 ack=2897 sack=4345-5793+1 len=1448 win=64128" (the first
 * SACK block, and how many more): a segment sent by `from` to `to`, with
 * sequence numbers (SACK blocks too) relative to their ISNs. */
void ld_seg_label(const ustk_trace_seg *g, const ld_end *from,
                  const ld_end *to, char *buf, size_t cap);
/* "10.0.0.1" or, with a port, "10.0.0.1:8888". */
void ld_addr(char *buf, size_t cap, ustk_ip4 ip, uint16_t port);
/* "retransmission timer fired" for a ustk_timer_kind. */
const char *ld_timer_name(int timer);

/* The header: a line of legend (when, in time, an arrow is drawn), then
 * two rows above the lifelines: names, then addresses. */
void ld_header(const ld_style *st, FILE *out, const char *legend,
               const char *left_name, const char *left_addr,
               const char *right_name, const char *right_addr);
/* The row that stands for hidden rows: segments, bytes each way, and the
 * losses and retransmissions among them; or, when no segment was hidden,
 * the count of hidden notes. */
void ld_collapsed(const ld_style *st, ld_line *ln, uint64_t segs,
                  const uint64_t bytes[2], uint64_t lost, uint64_t rtx,
                  uint64_t notes);

#endif
