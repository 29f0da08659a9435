/* ustack — pcap recording decorator, and the recording of a stack's
 * packets to itself, which no link carries (ustk_pcap_link_capture_loopback).
 *
 * The classic libpcap file format: a 24-byte global header, then per frame
 * a 16-byte record header and the frame's bytes. Readers learn the byte
 * order from the magic number; we always write little-endian, so the file
 * is byte-for-byte the same on every host. The format is written up in
 * the IETF draft "PCAP Capture File Format" (draft-ietf-opsawg-pcap).
 */
#include "pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_VERSION_MAJOR 2u
#define PCAP_VERSION_MINOR 4u
#define PCAP_SNAPLEN 262144u
/* Link types from the tcpdump.org registry. */
#define PCAP_LINKTYPE_ETHERNET 1u
#define PCAP_LINKTYPE_IPV4 228u

typedef struct pcap_link {
    ustk_link link; /* first, so a ustk_link * is a pcap_link * */
    ustk_link *inner;
    FILE *f;
    int err; /* first write error, 0 while recording works */
    ustk_stack *lo_stack; /* whose packets to itself are recorded, or NULL */
} pcap_link;

static int pcap_send(ustk_link *l, ustk_time now, const uint8_t *frame, size_t len);
static int pcap_recv(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap, size_t *len);
static ustk_time pcap_next_arrival(const ustk_link *l, ustk_time now);
static int pcap_fd(const ustk_link *l);
static void pcap_destroy(ustk_link *l);
static int pcap_flush(ustk_link *l, ustk_time now);

static const ustk_link_ops pcap_ops = {
    .send = pcap_send,
    .recv = pcap_recv,
    .next_arrival = pcap_next_arrival,
    .fd = pcap_fd,
    .destroy = pcap_destroy,
    .flush = pcap_flush,
};

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* stdio sets errno when the underlying open or write fails, but the C
 * standard does not promise it; EIO stands in when it is left unset. Our
 * USTK_E* codes are negated Linux errno values, so -errno is one of them
 * whenever one fits. */
static int stdio_error(void)
{
    return errno ? -errno : -EIO;
}

static int write_all(FILE *f, const void *p, size_t n)
{
    errno = 0;
    if (n && fwrite(p, 1, n, f) != n)
        return stdio_error();
    return 0;
}

static int write_global_header(FILE *f, ustk_link_kind kind)
{
    uint8_t h[24];
    put_le32(h, PCAP_MAGIC_USEC);
    put_le16(h + 4, PCAP_VERSION_MAJOR);
    put_le16(h + 6, PCAP_VERSION_MINOR);
    put_le32(h + 8, 0);  /* thiszone: timestamps are UTC (or virtual) */
    put_le32(h + 12, 0); /* sigfigs: always 0 in practice */
    put_le32(h + 16, PCAP_SNAPLEN);
    put_le32(h + 20, kind == USTK_LINK_IP ? PCAP_LINKTYPE_IPV4 : PCAP_LINKTYPE_ETHERNET);
    return write_all(f, h, sizeof h);
}

/* One record: the frame is pre (a link header of npre bytes; may be
 * empty) followed by len bytes at frame. */
static void record_with(pcap_link *pl, ustk_time now, const uint8_t *pre,
                        size_t npre, const uint8_t *frame, size_t len)
{
    if (pl->err)
        return;
    /* Frames never exceed USTK_LINK_FRAME_MAX, far below the snap length,
     * so every frame is recorded whole. */
    size_t total = npre + len;
    uint32_t incl = total > PCAP_SNAPLEN ? PCAP_SNAPLEN : (uint32_t)total;
    uint8_t h[16];
    put_le32(h, (uint32_t)(now / 1000000u));
    put_le32(h + 4, (uint32_t)(now % 1000000u));
    put_le32(h + 8, incl);
    put_le32(h + 12, (uint32_t)total);
    size_t pre_incl = npre < incl ? npre : incl;
    int err = write_all(pl->f, h, sizeof h);
    if (!err)
        err = write_all(pl->f, pre, pre_incl);
    if (!err)
        err = write_all(pl->f, frame, incl - pre_incl);
    pl->err = err;
}

static void record(pcap_link *pl, ustk_time now, const uint8_t *frame, size_t len)
{
    record_with(pl, now, NULL, 0, frame, len);
}

/* The stack's packets to itself (ustk_stack_set_loop_capture), framed as
 * Linux's lo frames them on an Ethernet file: both addresses zero, type
 * IPv4. */
static void record_loopback(void *ctx, ustk_time now, const uint8_t *pkt,
                            size_t len)
{
    static const uint8_t lo_eth[14] = { [12] = 0x08, [13] = 0x00 };
    pcap_link *pl = ctx;
    if (pl->link.kind == USTK_LINK_ETHERNET)
        record_with(pl, now, lo_eth, sizeof lo_eth, pkt, len);
    else
        record(pl, now, pkt, len);
}

int ustk_pcap_link_create(ustk_link **out, ustk_link *inner, const char *path)
{
    if (!out || !inner || !path)
        return USTK_EINVAL;
    *out = NULL;
    if (inner->kind != USTK_LINK_ETHERNET && inner->kind != USTK_LINK_IP)
        return USTK_EINVAL;

    pcap_link *pl = calloc(1, sizeof *pl);
    if (!pl)
        return USTK_ENOMEM;
    int err;
    errno = 0;
    pl->f = fopen(path, "wb");
    if (!pl->f) {
        err = stdio_error();
        goto fail;
    }
    /* Flushed at once, so that a file that cannot be written (a full disk,
     * /dev/full) fails here rather than silently later. */
    err = write_global_header(pl->f, inner->kind);
    if (!err && fflush(pl->f) != 0)
        err = stdio_error();
    if (err)
        goto fail;
    pl->link.ops = &pcap_ops;
    pl->link.kind = inner->kind;
    pl->inner = inner;
    *out = &pl->link;
    return 0;

fail:
    /* The file is not removed: the path may name a device or a FIFO. */
    if (pl->f)
        fclose(pl->f);
    free(pl);
    return err;
}

int ustk_pcap_link_capture_loopback(ustk_link *l, ustk_stack *s)
{
    if (!l || l->ops != &pcap_ops)
        return USTK_EINVAL;
    pcap_link *pl = (pcap_link *)l;
    if (pl->lo_stack && pl->lo_stack != s)
        ustk_stack_set_loop_capture(pl->lo_stack, NULL, NULL);
    pl->lo_stack = s;
    if (s)
        ustk_stack_set_loop_capture(s, record_loopback, pl);
    return 0;
}

int ustk_pcap_link_flush(ustk_link *l)
{
    if (!l || l->ops != &pcap_ops)
        return USTK_EINVAL;
    pcap_link *pl = (pcap_link *)l;
    if (!pl->err) {
        errno = 0;
        if (fflush(pl->f) != 0)
            pl->err = stdio_error();
    }
    return pl->err;
}

static int pcap_send(ustk_link *l, ustk_time now, const uint8_t *frame, size_t len)
{
    pcap_link *pl = (pcap_link *)l;
    int rc = ustk_link_send(pl->inner, now, frame, len);
    if (rc == 0)
        record(pl, now, frame, len);
    return rc;
}

static int pcap_recv(ustk_link *l, ustk_time now, uint8_t *buf, size_t cap, size_t *len)
{
    pcap_link *pl = (pcap_link *)l;
    int rc = ustk_link_recv(pl->inner, now, buf, cap, len);
    if (rc == 0)
        record(pl, now, buf, *len);
    return rc;
}

static ustk_time pcap_next_arrival(const ustk_link *l, ustk_time now)
{
    const pcap_link *pl = (const pcap_link *)l;
    return ustk_link_next_arrival(pl->inner, now);
}

static int pcap_fd(const ustk_link *l)
{
    const pcap_link *pl = (const pcap_link *)l;
    return pl->inner->ops->fd(pl->inner);
}

static int pcap_flush(ustk_link *l, ustk_time now)
{
    return ustk_link_flush(((pcap_link *)l)->inner, now);
}

static void pcap_destroy(ustk_link *l)
{
    pcap_link *pl = (pcap_link *)l;
    fclose(pl->f); /* flushes; a late error has nowhere to go */
    ustk_link_destroy(pl->inner);
    free(pl);
}
