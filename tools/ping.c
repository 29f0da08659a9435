/* `ustack ping`: ICMP echo over ustack on a real TAP or TUN device, like
 * ping(8).
 *
 * It uses an ICMP echo socket (USTK_PROTO_ICMP): each request is an 8-byte
 * echo header and SIZE bytes of data, the stack fills in the identifier and
 * the checksum; replies come back header included. The time each request
 * was handed to the stack is kept by sequence number, so a reply's RTT
 * needs nothing from its data. The socket API gives no IP header, so the
 * reply's TTL is not shown. An ICMP error about a request (a router's
 * "time exceeded", "destination unreachable") is read with
 * ustk_sock_error_info(), which says who sent it and which request it
 * quotes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "netdev.h"
#include "netcmd.h"

#define PING_SIZE_MAX 65507u /* an IPv4 datagram's data less the 8-byte header */
#define PING_SEQS 65536u

typedef struct ping_opts {
    netdev_opts nd;
    ustk_ip4 host;
    uint64_t count;    /* 0 = until interrupted */
    double interval_s;
    uint64_t size;
    double wait_s;     /* after the last request */
    bool wait_given;   /* -W given: no longer wait for ARP to give up */
    bool quiet;
} ping_opts;

typedef struct pinger {
    const ping_opts *o;
    netdev nd;
    ustk_stack *s;
    int sock;
    char host_txt[20];
    uint64_t sent, received, dups, errors;
    double rtt_min, rtt_max, rtt_sum, rtt_sum2; /* ms */
    ustk_time t_start, next_send, t_last_send;
    ustk_time sent_at[PING_SEQS];
    uint8_t got[PING_SEQS / 8];
    uint8_t failed[PING_SEQS / 8]; /* not sent, or an error came back */
    uint8_t *pkt, *rbuf;
} pinger;

static const char *const CMD = "ustack ping";

static bool bit(const uint8_t *map, uint16_t seq)
{
    return (map[seq / 8] >> (seq % 8)) & 1u;
}

static void set_bit(uint8_t *map, uint16_t seq, bool on)
{
    if (on)
        map[seq / 8] = (uint8_t)(map[seq / 8] | (1u << (seq % 8)));
    else
        map[seq / 8] = (uint8_t)(map[seq / 8] & ~(1u << (seq % 8)));
}

static void send_one(pinger *p, ustk_time now)
{
    uint16_t seq = (uint16_t)(p->sent + 1);
    size_t len = 8 + p->o->size;
    ptrdiff_t r;

    p->pkt[0] = 8; /* echo request */
    p->pkt[1] = 0;
    p->pkt[2] = p->pkt[3] = 0;       /* checksum: the stack's */
    p->pkt[4] = p->pkt[5] = 0;       /* identifier: the stack's */
    p->pkt[6] = (uint8_t)(seq >> 8); /* sequence number, big-endian */
    p->pkt[7] = (uint8_t)seq;
    for (size_t i = 8; i < len; i++)
        p->pkt[i] = (uint8_t)(i - 8); /* ping(8)'s pattern, after its time */
    p->sent_at[seq] = now;
    set_bit(p->got, seq, false);
    set_bit(p->failed, seq, false);
    p->sent++;
    p->t_last_send = now;
    r = ustk_sendto(p->s, p->sock, p->pkt, len,
                    &(ustk_sockaddr){ p->o->host, 0 }, now);
    if (r < 0) {
        p->errors++;
        set_bit(p->failed, seq, true);
        fprintf(stderr, "%s: icmp_seq=%u: %s\n", CMD, seq, ustk_strerror((int)r));
    }
}

/* How long ARP may hold a request before it gives up, with a margin. */
static ustk_time arp_patience(const pinger *p)
{
    const ustk_config *cfg = ustk_stack_config(p->s);

    return cfg->arp_retry * (cfg->arp_max_retries + 1);
}

/* Whether seq names a request sent, among the last PING_SEQS. Request n
 * (from 1) carries n mod 65536, so once 65,536 are out every value names
 * one; before that, 1 to sent. d is how many requests ago it went. */
static bool seq_sent(const pinger *p, uint16_t seq)
{
    uint16_t d = (uint16_t)(p->sent - seq);
    return p->sent > d;
}

/* What ping(8) says of an ICMP error (iputils' pr_icmph()). */
static void icmp_text(char *buf, size_t cap, const ustk_sock_err_info *e)
{
    static const char *const unreach[16] = {
        "Destination Net Unreachable", "Destination Host Unreachable",
        "Destination Protocol Unreachable", "Destination Port Unreachable",
        NULL, "Source Route Failed", "Destination Net Unknown",
        "Destination Host Unknown", "Source Host Isolated",
        "Destination Net Prohibited", "Destination Host Prohibited",
        "Destination Net Unreachable for Type of Service",
        "Destination Host Unreachable for Type of Service",
        "Packet filtered", "Precedence Violation", "Precedence Cutoff"};

    switch (e->type) {
    case 3: /* destination unreachable */
        if (e->code == 4)
            snprintf(buf, cap, "Frag needed and DF set (mtu = %u)", e->mtu);
        else if (e->code < 16)
            snprintf(buf, cap, "%s", unreach[e->code]);
        else
            snprintf(buf, cap, "Dest Unreachable, Bad Code: %u", e->code);
        break;
    case 11: /* time exceeded */
        if (e->code <= 1)
            snprintf(buf, cap, "%s",
                     e->code == 0 ? "Time to live exceeded"
                                  : "Frag reassembly time exceeded");
        else
            snprintf(buf, cap, "Time exceeded, Bad Code: %u", e->code);
        break;
    case 12: /* parameter problem */
        snprintf(buf, cap, "Parameter problem: pointer = %u", e->pointer);
        break;
    default:
        snprintf(buf, cap, "Bad ICMP type: %u", e->type);
        break;
    }
}

/* An error about one request, as ping(8) reports it: a line "From"
 * whoever sent it -- a router on the way, the host, or our own address
 * when ARP gave up on the next hop (no one else spoke) -- with the
 * request's sequence number, and that request, only that one, counts as
 * an error. */
static void report_error(pinger *p, const ustk_sock_err_info *e)
{
    uint16_t seq = e->echo_seq;
    char from[20], what[64];

    if (e->lost)
        fprintf(stderr, "%s: %u more errors came back than the socket "
                "keeps unread; their requests are not known\n",
                CMD, e->lost);
    if (e->dst.addr != p->o->host || !seq_sent(p, seq))
        return; /* about no request of this run */
    if (!bit(p->got, seq) && !bit(p->failed, seq)) {
        set_bit(p->failed, seq, true);
        p->errors++;
    }
    if (p->o->quiet)
        return;
    netdev_fmt_ip(from, sizeof from, e->offender, 0);
    icmp_text(what, sizeof what, e);
    printf("From %s icmp_seq=%u %s\n", from, seq, what);
}

static void take_replies(pinger *p, ustk_time now)
{
    ustk_sockaddr from;
    ustk_sock_err_info e;
    ptrdiff_t n;
    int err;

    /* Errors first: reading their details clears the pending error,
     * which recvfrom() (and the next sendto()) would return instead. */
    while (ustk_sock_error_info(p->s, p->sock, &e) == 0)
        report_error(p, &e);
    /* Left only when the stack had no memory for the details. */
    err = ustk_sock_error(p->s, p->sock);
    if (err < 0)
        fprintf(stderr, "%s: %s (which request: not known)\n", CMD,
                ustk_strerror(err));
    while ((n = ustk_recvfrom(p->s, p->sock, p->rbuf, 8 + PING_SIZE_MAX, &from, now)) >= 0) {
        uint16_t seq;
        double ms;
        bool dup;
        if (n < 8 || p->rbuf[0] != 0 || from.addr != p->o->host)
            continue; /* not an echo reply from our host */
        seq = (uint16_t)(p->rbuf[6] << 8 | p->rbuf[7]);
        if (!seq_sent(p, seq))
            continue; /* not one of ours */
        ms = (double)(now - p->sent_at[seq]) / 1000.0;
        dup = bit(p->got, seq);
        if (dup) {
            p->dups++;
        } else {
            set_bit(p->got, seq, true);
            p->received++;
            if (p->received == 1 || ms < p->rtt_min)
                p->rtt_min = ms;
            if (ms > p->rtt_max)
                p->rtt_max = ms;
            p->rtt_sum += ms;
            p->rtt_sum2 += ms * ms;
        }
        if (!p->o->quiet)
            printf("%td bytes from %s: icmp_seq=%u time=%.3f ms%s\n", n,
                   p->host_txt, seq, ms, dup ? " (DUP!)" : "");
    }
    fflush(stdout);
}

static void summary(pinger *p, ustk_time now)
{
    double loss = p->sent ? 100.0 * (double)(p->sent - p->received) / (double)p->sent : 0.0;

    printf("\n--- %s ping statistics ---\n", p->host_txt);
    printf("%llu packets transmitted, %llu received,", (unsigned long long)p->sent,
           (unsigned long long)p->received);
    if (p->dups)
        printf(" +%llu duplicates,", (unsigned long long)p->dups);
    if (p->errors)
        printf(" +%llu errors,", (unsigned long long)p->errors);
    printf(" %g%% packet loss, time %llums\n", loss,
           (unsigned long long)((now - p->t_start) / 1000));
    if (p->received) {
        double avg = p->rtt_sum / (double)p->received;
        double var = p->rtt_sum2 / (double)p->received - avg * avg;
        printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", p->rtt_min,
               avg, p->rtt_max, var > 0 ? sqrt(var) : 0.0);
    }
    fflush(stdout);
}

static int run(pinger *p)
{
    const ping_opts *o = p->o;
    ustk_time now, interval = (ustk_time)(o->interval_s * 1e6);
    int rc;

    netdev_fmt_ip(p->host_txt, sizeof p->host_txt, o->host, 0);
    if (netdev_open(&p->nd, &o->nd, CMD, stderr) < 0)
        return 1;
    p->s = p->nd.stack;
    netdev_describe_if(&p->nd, stderr, false);
    p->sock = ustk_open(p->s, USTK_PROTO_ICMP);
    if (p->sock < 0) {
        fprintf(stderr, "%s: cannot open an ICMP echo socket: %s\n", CMD,
                ustk_strerror(p->sock));
        return 1;
    }
    printf("PING %s (%s) %llu(%llu) bytes of data.\n", p->host_txt, p->host_txt,
           (unsigned long long)o->size, (unsigned long long)(o->size + 28));
    fflush(stdout);
    now = ustk_loop_now(&p->nd.loop);
    p->t_start = p->next_send = now;

    for (;;) {
        bool all_sent = o->count && p->sent >= o->count;
        ustk_time wait, until;

        now = ustk_loop_now(&p->nd.loop);
        if (!all_sent && now >= p->next_send) {
            send_one(p, now);
            p->next_send += interval;
            if (p->next_send < now) /* fell behind: do not burst */
                p->next_send = now + interval;
            all_sent = o->count && p->sent >= o->count;
        }
        /* As ping(8): done when every request is answered or failed. */
        if (all_sent && p->received + p->errors >= p->sent)
            break;
        until = all_sent ? p->t_last_send + (ustk_time)(o->wait_s * 1e6) : p->next_send;
        /* While nothing has answered, the host may still be ARP's to
         * find: wait until ARP gives up and says so (ping(8) also waits
         * longer when no reply has come). */
        if (all_sent && !o->wait_given && p->received == 0 &&
            until < p->t_last_send + arp_patience(p))
            until = p->t_last_send + arp_patience(p);
        if (all_sent && now >= until)
            break;
        wait = until > now ? until - now : 0;
        rc = ustk_loop_step(&p->nd.loop, wait);
        if (rc < 0) {
            fprintf(stderr, "%s: the device failed: %s\n", CMD, strerror(-rc));
            return 1;
        }
        take_replies(p, ustk_loop_now(&p->nd.loop));
        if (rc == 0)
            break; /* interrupted: the summary, as ping(8) */
    }
    summary(p, ustk_loop_now(&p->nd.loop));
    return p->sent && p->received == p->sent ? 0 : 1;
}

void ping_usage(FILE *f)
{
    fputs("usage: ustack ping [--tap NAME | --tun NAME] --ip ADDR[/PREFIX]\n"
          "                   [--gateway ADDR] [-c COUNT] [-i SECONDS] "
          "[-s SIZE]\n"
          "                   [-t TTL] [-W SECONDS] [-q] HOST\n"
          "\n"
          "Send ICMP echo requests from ustack on a real TAP or TUN device "
          "to HOST (an IPv4\n"
          "address) and print each reply and its round-trip time, like "
          "ping(8); then a\n"
          "summary. An ICMP error about a request is reported as ping(8) "
          "does, \"From\" the\n"
          "router or host that sent it, with the request's icmp_seq, and "
          "counts that\n"
          "request as an error. Exits 0 when every request was answered, 1 "
          "otherwise.\n"
          "Needs root or CAP_NET_ADMIN.\n"
          "\n"
          "options:\n"
          "  -c COUNT           stop after COUNT requests (default: until "
          "Ctrl-C)\n"
          "  -i SECONDS         between requests (default 1; at least "
          "0.001)\n"
          "  -s SIZE            data bytes per request (default 56)\n"
          "  -t TTL             time to live of the requests, 1..255 "
          "(default 64)\n"
          "  -W SECONDS         wait for replies after the last request "
          "(default 2; 4 while\n"
          "                     nothing has answered, time for ARP to give "
          "up)\n"
          "  -q                 only the summary\n",
          f);
    netdev_usage(f);
}

static int parse(int argc, char **argv, ping_opts *o)
{
    const char *host = NULL, *v;
    uint64_t ttl;
    args a;
    int r;

    memset(o, 0, sizeof *o);
    netdev_opts_default(&o->nd);
    o->interval_s = 1.0;
    o->size = 56;
    o->wait_s = 2.0;
    args_init(&a, CMD, argc, argv);
    while (args_next(&a)) {
        if ((r = netdev_parse(&a, &o->nd)) != 0) {
            if (r < 0)
                return -1;
        } else if ((r = args_value(&a, "-c", &v)) != 0) {
            if (r < 0 || args_u64(&a, v, 1, 1000000000, &o->count) < 0)
                return -1;
        } else if ((r = args_value(&a, "-i", &v)) != 0) {
            if (r < 0 || args_double(&a, v, 0.001, 3600.0, &o->interval_s) < 0)
                return -1;
        } else if ((r = args_value(&a, "-s", &v)) != 0) {
            if (r < 0 || args_u64(&a, v, 0, PING_SIZE_MAX, &o->size) < 0)
                return -1;
        } else if ((r = args_value(&a, "-t", &v)) != 0) {
            if (r < 0 || args_u64(&a, v, 1, 255, &ttl) < 0)
                return -1;
            o->nd.ttl = (uint8_t)ttl; /* the stack's, for every request */
        } else if ((r = args_value(&a, "-W", &v)) != 0) {
            if (r < 0 || args_double(&a, v, 0.0, 3600.0, &o->wait_s) < 0)
                return -1;
            o->wait_given = true;
        } else if (args_flag(&a, "-q")) {
            o->quiet = true;
        } else if (a.arg[0] == '-' && a.arg[1] != '\0') {
            return args_unknown(&a);
        } else if (!host) {
            host = a.arg;
        } else {
            return args_unknown(&a);
        }
    }
    if (!host) {
        fprintf(stderr, "%s: give the HOST to ping\n", CMD);
        return -1;
    }
    if (netdev_parse_ip(host, &o->host) < 0 || o->host == 0) {
        fprintf(stderr, "%s: HOST: '%s' is not an IPv4 address (no names: "
                "ustack has no resolver)\n", CMD, host);
        return -1;
    }
    if (netdev_check(&a, &o->nd) < 0)
        return -1;
    return 0;
}

int ping_main(int argc, char **argv)
{
    ping_opts o;
    pinger *p;
    int status;

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ping_usage(stdout);
            return 0;
        }
    if (parse(argc, argv, &o) < 0) {
        args_usage_hint(ping_usage);
        return 2;
    }
    p = calloc(1, sizeof *p);
    if (!p || !(p->pkt = malloc(8 + PING_SIZE_MAX)) || !(p->rbuf = malloc(8 + PING_SIZE_MAX))) {
        fprintf(stderr, "%s: out of memory\n", CMD);
        if (p)
            free(p->pkt);
        free(p);
        return 1;
    }
    p->o = &o;
    p->sock = -1;
    status = run(p);
    netdev_close(&p->nd);
    free(p->pkt);
    free(p->rbuf);
    free(p);
    return status;
}
