/* ustack — Linux TUN and TAP devices as links.
 *
 * Both come from one kernel driver behind /dev/net/tun. A TAP device
 * carries Ethernet frames (IFF_TAP), a TUN device bare IPv4 packets
 * (IFF_TUN); either is opened without the packet-information prefix
 * (IFF_NO_PI), so every read() is exactly one frame and every write() sends
 * one. TUNSETIFF attaches to a device of that name, creating it when it
 * does not exist (it then disappears when the link is destroyed, unless
 * someone made it persistent); the device's other side belongs to Linux,
 * which gives it an address with `ip addr add`.
 *
 * The file descriptor is non-blocking: recv() returns USTK_EAGAIN when
 * nothing is there, and fd() gives it to poll() (see loop.h). The links
 * know nothing of time: next_arrival() is always USTK_TIME_NEVER.
 */
#ifndef USTK_LINK_TUN_H
#define USTK_LINK_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"

typedef struct ustk_tundev_opts {
    const char *name;    /* interface name, 1 to 15 characters */
    ustk_link_kind kind; /* USTK_LINK_ETHERNET: TAP; USTK_LINK_IP: TUN */
    bool attach_only;    /* fail (-ENODEV) rather than create the device */
    bool up;             /* bring the interface up when it is down */
    uint16_t mtu;        /* set the interface MTU first; 0 = leave it */
    /* Frames carry a virtio-net header (IFF_VNET_HDR, TUNSETVNETHDRSZ)
     * and the device takes offloaded frames (TUNSETOFFLOAD: TUN_F_CSUM,
     * TUN_F_TSO4): partial checksums and TCP segments up to 64 KB, which
     * Linux completes and cuts; it then hands out the same (coalesced
     * segments, partial checksums). The link gets send_meta/recv_meta;
     * its plain send() and recv() still carry complete frames (recv()
     * completes a partial checksum in software). */
    bool vnet_hdr;
    /* Frames written in batches through io_uring (frameq.h): send()
     * queues up to this many (a power of two, at most 4096) and
     * ustk_link_flush() writes them with one system call (so does a
     * send() that finds the queue full, or a frame too big for a slot).
     * 0: one write() per frame. A kernel without io_uring (or with it
     * switched off) makes the open fail with its error: ask again
     * without. */
    unsigned batch;
} ustk_tundev_opts;

/* Open the device. Returns 0, or a negated errno with a sentence for a
 * person in why (may be NULL): -EINVAL for a bad name or a device of the
 * other kind (or not a TUN/TAP device at all), -EPERM or -EACCES without
 * root or CAP_NET_ADMIN, -ENOENT when /dev/net/tun is missing, -ENODEV
 * when attach_only finds no such device, -EBUSY when another process holds
 * it, and whatever else the kernel says.
 *
 * send() writes one frame: USTK_EINVAL for an empty one, USTK_EMSGSIZE over
 * USTK_LINK_FRAME_MAX, a negated errno when the kernel refuses it (EIO
 * while the device is down, for instance): the frame is then lost. recv()
 * reads one: USTK_EAGAIN when none is waiting, USTK_EMSGSIZE when it does
 * not fit in cap (it is kept, and handed out by the next call with a
 * buffer big enough). */
int ustk_tundev_open(ustk_link **out, const ustk_tundev_opts *o, char *why,
                     size_t whylen);

/* Whether Linux would take `name` for an interface (1 to 15 characters, no
 * '/', ':', whitespace or control characters; no '%' either, which the
 * kernel would take as a template). When not, says why (why may be NULL). */
bool ustk_tundev_name_ok(const char *name, char *why, size_t whylen);

/* The same, for a TUN device (tun.c) and a TAP device (tap.c). */
int ustk_tun_open(ustk_link **out, const char *name, bool up, char *why,
                  size_t whylen);

/* The interface's name, its MTU (0 when it cannot be read), and whether
 * opening it created it. NULL / 0 / false for a link that is not a device. */
const char *ustk_tundev_name(const ustk_link *l);
unsigned ustk_tundev_mtu(const ustk_link *l);
bool ustk_tundev_created(const ustk_link *l);

/* Wait (sleeping, at most timeout_ms) until Linux reports the interface
 * running (IFF_RUNNING: up, and the carrier that attaching gave it has been
 * taken into account). Until then Linux drops what it would send on the
 * device — its ARP replies, say — which it does for up to a second after
 * a device gets its carrier. Returns 0, -ETIMEDOUT, or another negated
 * errno. */
int ustk_tundev_wait_running(const ustk_link *l, unsigned timeout_ms);

/* Counters of a device link (zeros for any other link). */
typedef struct ustk_tundev_stats {
    uint64_t frames_in, frames_out, bytes_in, bytes_out;
    uint64_t send_errors; /* frames the kernel refused */
    uint64_t too_big;     /* recv() calls whose buffer was too small */
    /* With vnet_hdr: frames written for Linux to cut (TSO) or to complete
     * the checksum of, frames read that Linux had coalesced (GSO/GRO), and
     * checksums the driver completed in software. */
    uint64_t tso_out, csum_out, gso_in, csum_sw;
} ustk_tundev_stats;

/* How many frames the link queues for one io_uring submission (0: none,
 * a write() each). */
unsigned ustk_tundev_batch(const ustk_link *l);

/* Whether the link carries virtio-net headers (ustk_tundev_opts). */
bool ustk_tundev_vnet_hdr(const ustk_link *l);
void ustk_tundev_stats_get(const ustk_link *l, ustk_tundev_stats *out);

#endif
