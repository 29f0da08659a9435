/* What `ustack serve`, `connect` and `ping` share: a stack on a real TAP
 * or TUN device.
 *
 * The options that name the device and the stack's address, the capture
 * and the impairments are parsed here, and netdev_open() builds the chain
 *
 *     stack <-> impairments <-> pcap recorder <-> TAP/TUN device
 *
 * so the capture shows what crossed the device (frames the impairments
 * drop on the way out never reach it; frames they drop on the way in did)
 * and what the stack sent to itself (which crosses no device),
 * creates the stack with a random seed (getrandom(); config.h says why),
 * a random MAC on TAP, the device's MTU, and the event loop (link/loop.h)
 * with SIGINT and SIGTERM stopping it.
 */
#ifndef USTK_TOOLS_NETDEV_H
#define USTK_TOOLS_NETDEV_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "args.h"
#include "conntrace.h"
#include "link/loop.h"
#include "ustack/ustack.h"

#define NETDEV_DEFAULT_TAP "ustk0"

typedef struct netdev_opts {
    const char *dev;      /* device name; NULL = NETDEV_DEFAULT_TAP */
    ustk_link_kind kind;  /* TAP (Ethernet) or TUN (IP) */
    bool ip_given;
    ustk_ip4 ip;
    uint8_t prefix_len;   /* 24 when --ip has no /PREFIX */
    bool prefix_given;
    ustk_ip4 gateway;
    bool mac_given;
    uint8_t mac[6];
    uint16_t mtu;         /* set the device's MTU; 0 = use the device's */
    uint8_t ttl;          /* of what the stack sends; 0 = its default
                             (set by ping's -t) */
    bool vnet_hdr;        /* virtio-net headers: TSO and checksum offload */
    unsigned uring;       /* frames per io_uring submission; 0: write() */
    const char *pcap;
    bool trace;
    bool ascii;
    /* Impairments on the ustack side, probabilities 0..1, both directions. */
    double loss, reorder, dup, corrupt;
    uint64_t delay_ms;
    bool impair_seed_given;
    uint64_t impair_seed;
} netdev_opts;

void netdev_opts_default(netdev_opts *o);

/* Take the current argument when it is one of the shared options: returns
 * 1 when taken, 0 when it is something else, -1 after reporting a bad
 * value. */
int netdev_parse(args *a, netdev_opts *o);
/* After the arguments: --ip is required. Says on stderr when --ip had no
 * prefix length and /24 is assumed. Returns 0, or -1 after reporting. */
int netdev_check(const args *a, const netdev_opts *o);
/* The shared options' lines for a usage message. */
void netdev_usage(FILE *f);

/* A dotted quad ("10.0.0.1") into host order. Returns 0 or -1. */
int netdev_parse_ip(const char *s, ustk_ip4 *out);
/* "10.0.0.1:80" or "10.0.0.1" */
void netdev_fmt_ip(char *buf, size_t cap, ustk_ip4 ip, uint16_t port);

typedef struct netdev {
    netdev_opts o;
    const char *cmd;        /* "ustack serve", for messages */
    ustk_link *dev;         /* the device, innermost */
    ustk_link *pcap;        /* the recorder, or NULL */
    ustk_link *impair;      /* the impairments, or NULL */
    ustk_link *link;        /* outermost: what the stack talks to */
    ustk_stack *stack;
    ustk_loop loop;
    bool loop_ok;
    conntrace *ct;          /* states of every connection; ladders with --trace */
    sigset_t waitmask;      /* the mask during the loop's wait */
    sigset_t oldmask;
    bool signals_set;
} netdev;

/* The flag the signal handlers set (the signal's number). */
extern volatile sig_atomic_t netdev_stop;

/* Open the device, the decorators and the stack; install the signal
 * handlers. trace_out is where --trace ladders go. Returns 0, or -1 after
 * printing why (the caller exits 1). */
int netdev_open(netdev *nd, const netdev_opts *o, const char *cmd,
                FILE *trace_out);
/* Tear everything down (no frames are sent). */
void netdev_close(netdev *nd);

/* One line about the device and the address, for the start. */
void netdev_describe(const netdev *nd, FILE *f);
/* The same, for a tool that tells it only when asked (verbose), unless
 * the user must know: a device ustack created (Linux has no address on
 * it yet), or impairments with a seed of ustack's choosing (the only way
 * to repeat the run). */
void netdev_describe_if(const netdev *nd, FILE *f, bool verbose);
/* The counters: stack, drops by reason, loop, device, impairments. */
void netdev_print_stats(const netdev *nd, FILE *f);

/* Run rounds of the loop until `until` (loop time) or until the tracker
 * sees no connection still exchanging data or FINs; for a bounded,
 * graceful goodbye. */
void netdev_drain(netdev *nd, ustk_time until);

#endif
