/* A stack on a real TAP or TUN device: the shared options and setup. */
#include "netdev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "link/impair.h"
#include "link/pcap.h"
#include "link/tap.h"
#include "link/tun.h"

volatile sig_atomic_t netdev_stop;

void netdev_opts_default(netdev_opts *o)
{
    memset(o, 0, sizeof *o);
    o->kind = USTK_LINK_ETHERNET;
    o->prefix_len = 24;
}

int netdev_parse_ip(const char *s, ustk_ip4 *out)
{
    uint32_t v = 0;
    int parts = 0;

    while (parts < 4) {
        unsigned n = 0, digits = 0;
        while (*s >= '0' && *s <= '9') {
            n = n * 10 + (unsigned)(*s++ - '0');
            if (++digits > 3 || n > 255)
                return -1;
        }
        if (digits == 0)
            return -1;
        v = v << 8 | n;
        parts++;
        if (parts < 4 && *s++ != '.')
            return -1;
    }
    if (*s != '\0')
        return -1;
    *out = v;
    return 0;
}

void netdev_fmt_ip(char *buf, size_t cap, ustk_ip4 ip, uint16_t port)
{
    if (port)
        snprintf(buf, cap, "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255,
                 (ip >> 8) & 255, ip & 255, port);
    else
        snprintf(buf, cap, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255,
                 (ip >> 8) & 255, ip & 255);
}

static int parse_cidr(const args *a, const char *s, netdev_opts *o)
{
    char buf[32];
    const char *slash = strchr(s, '/');
    uint64_t prefix = 24;
    size_t n = slash ? (size_t)(slash - s) : strlen(s);

    if (n >= sizeof buf)
        goto bad;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (netdev_parse_ip(buf, &o->ip) < 0)
        goto bad;
    if (slash && args_u64(a, slash + 1, 1, 32, &prefix) < 0)
        return -1;
    if (o->ip == 0 || o->ip == 0xffffffffu || (o->ip >> 28) >= 0xe) {
        fprintf(stderr, "%s: --ip: %s is not a unicast address\n", a->cmd, buf);
        return -1;
    }
    o->prefix_len = (uint8_t)prefix;
    o->prefix_given = slash != NULL;
    o->ip_given = true;
    return 0;
bad:
    fprintf(stderr, "%s: --ip: '%s' is not ADDRESS[/PREFIX] (like 10.0.0.2/24)\n",
            a->cmd, s);
    return -1;
}

static int parse_mac(const args *a, const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char end;

    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &end) != 6 || strlen(s) != 17) {
        fprintf(stderr, "%s: --mac: '%s' is not like 02:00:00:00:00:01\n",
                a->cmd, s);
        return -1;
    }
    if (v[0] & 1) {
        fprintf(stderr, "%s: --mac: %s is a group (multicast) address\n",
                a->cmd, s);
        return -1;
    }
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}

static int parse_pct(const args *a, const char *s, double *out)
{
    double pct;

    if (args_double(a, s, 0.0, 100.0, &pct) < 0)
        return -1;
    *out = pct / 100.0;
    return 0;
}

int netdev_parse(args *a, netdev_opts *o)
{
    const char *v = NULL;
    uint64_t n;
    int r;

    if ((r = args_value(a, "--tap", &v)) != 0 ||
        (r = args_value(a, "--tun", &v)) != 0) {
        if (r < 0)
            return -1;
        if (o->dev) {
            fprintf(stderr, "%s: give one device: --tap or --tun, once\n", a->cmd);
            return -1;
        }
        {
            char why[160];
            if (!ustk_tundev_name_ok(v, why, sizeof why)) {
                fprintf(stderr, "%s: %s: %s\n", a->cmd, a->opt, why);
                return -1;
            }
        }
        o->dev = v;
        o->kind = strcmp(a->opt, "--tun") == 0 ? USTK_LINK_IP : USTK_LINK_ETHERNET;
        return 1;
    }
    if ((r = args_value(a, "--ip", &v)) != 0)
        return r < 0 || parse_cidr(a, v, o) < 0 ? -1 : 1;
    if ((r = args_value(a, "--gateway", &v)) != 0) {
        if (r < 0)
            return -1;
        if (netdev_parse_ip(v, &o->gateway) < 0 || o->gateway == 0) {
            fprintf(stderr, "%s: --gateway: '%s' is not an IPv4 address\n",
                    a->cmd, v);
            return -1;
        }
        return 1;
    }
    if ((r = args_value(a, "--mac", &v)) != 0) {
        if (r < 0 || parse_mac(a, v, o->mac) < 0)
            return -1;
        o->mac_given = true;
        return 1;
    }
    if ((r = args_value(a, "--mtu", &v)) != 0) {
        if (r < 0 || args_u64(a, v, 576, 65535, &n) < 0)
            return -1;
        o->mtu = (uint16_t)n;
        return 1;
    }
    if ((r = args_value(a, "--pcap", &v)) != 0) {
        if (r < 0)
            return -1;
        if (*v == '\0') {
            fprintf(stderr, "%s: --pcap: the file name is empty\n", a->cmd);
            return -1;
        }
        o->pcap = v;
        return 1;
    }
    if (args_flag(a, "--trace")) {
        o->trace = true;
        return 1;
    }
    if (args_flag(a, "--ascii")) {
        o->ascii = true;
        return 1;
    }
    if (args_flag(a, "--vnet-hdr")) {
        o->vnet_hdr = true;
        return 1;
    }
    if ((r = args_value(a, "--uring", &v)) != 0) {
        if (r < 0 || args_u64(a, v, 0, 4096, &n) < 0)
            return -1;
        if (n & (n - 1)) {
            fprintf(stderr, "%s: --uring takes 0 or a power of two up to "
                    "4096\n", a->cmd);
            return -1;
        }
        o->uring = (unsigned)n;
        return 1;
    }
    if ((r = args_value(a, "--loss", &v)) != 0)
        return r < 0 || parse_pct(a, v, &o->loss) < 0 ? -1 : 1;
    if ((r = args_value(a, "--reorder", &v)) != 0)
        return r < 0 || parse_pct(a, v, &o->reorder) < 0 ? -1 : 1;
    if ((r = args_value(a, "--dup", &v)) != 0)
        return r < 0 || parse_pct(a, v, &o->dup) < 0 ? -1 : 1;
    if ((r = args_value(a, "--corrupt", &v)) != 0)
        return r < 0 || parse_pct(a, v, &o->corrupt) < 0 ? -1 : 1;
    if ((r = args_value(a, "--delay-ms", &v)) != 0)
        return r < 0 || args_u64(a, v, 0, 10000, &o->delay_ms) < 0 ? -1 : 1;
    if ((r = args_value(a, "--impair-seed", &v)) != 0) {
        if (r < 0 || args_u64(a, v, 0, UINT64_MAX, &o->impair_seed) < 0)
            return -1;
        o->impair_seed_given = true;
        return 1;
    }
    return 0;
}

int netdev_check(const args *a, const netdev_opts *o)
{
    if (!o->ip_given) {
        fprintf(stderr, "%s: --ip ADDRESS[/PREFIX] is required (ustack's own "
                "address on the device)\n", a->cmd);
        return -1;
    }
    if (!o->prefix_given) {
        char ip[20];
        netdev_fmt_ip(ip, sizeof ip, o->ip, 0);
        /* Not silent: `ip addr add` would take a bare address as /32. */
        fprintf(stderr, "%s: --ip %s has no prefix length: assuming /24 "
                "(%s/%u)\n", a->cmd, ip, ip, (unsigned)o->prefix_len);
    }
    if (o->gateway) {
        uint32_t mask = o->prefix_len ? ~0u << (32 - o->prefix_len) : 0;
        if ((o->gateway & mask) != (o->ip & mask) || o->gateway == o->ip) {
            fprintf(stderr, "%s: --gateway must be another address on the "
                    "--ip subnet\n", a->cmd);
            return -1;
        }
    }
    return 0;
}

void netdev_usage(FILE *f)
{
    fputs("device and address:\n"
          "  --tap NAME         a TAP device (Ethernet frames; ARP runs); the "
          "default\n"
          "                     is --tap " NETDEV_DEFAULT_TAP "\n"
          "  --tun NAME         a TUN device (bare IPv4 packets)\n"
          "                     an existing device is attached to, a missing "
          "one created\n"
          "                     (gone again on exit); either is brought up\n"
          "  --ip ADDR[/PREFIX] ustack's address on the device (required; "
          "e.g. 10.0.0.2/24);\n"
          "                     without /PREFIX, /24 is assumed (and said "
          "so on stderr)\n"
          "  --gateway ADDR     the next hop for addresses off the subnet\n"
          "  --mac MAC          ustack's MAC on a TAP device (default: "
          "random, locally\n"
          "                     administered)\n"
          "  --mtu N            set the device's MTU first (576..65535)\n"
          "  --vnet-hdr         virtio-net headers on the device: Linux cuts "
          "ustack's TCP\n"
          "                     segments of up to 64 KB (TSO) and completes "
          "checksums, and\n"
          "                     hands over coalesced segments (without "
          "--pcap or\n"
          "                     impairments, which see only plain frames)\n"
          "  --uring N          write frames through io_uring, up to N (a "
          "power of two)\n"
          "                     per system call (default 0: one write() "
          "each)\n"
          "seeing and impairing:\n"
          "  --trace            draw a ladder diagram of each connection as "
          "it happens\n"
          "  --ascii            ASCII arrows in the ladder\n"
          "  --pcap FILE        record every frame crossing the device, "
          "and every packet\n"
          "                     ustack sends to itself (127/8, its own "
          "address), as lo\n"
          "                     shows them\n"
          "  --loss PCT         lose PCT% of frames, each direction, on "
          "ustack's side\n"
          "  --reorder PCT      hold PCT% of frames back (2 x delay + 1 ms) "
          "so later ones\n"
          "                     overtake them\n"
          "  --dup PCT          deliver PCT% of frames twice\n"
          "  --corrupt PCT      flip one bit in PCT% of frames\n"
          "  --delay-ms N       delay every frame by N ms, each direction\n"
          "  --impair-seed N    seed for the impairments (default: random, "
          "printed)\n",
          f);
}

/* ---- opening ------------------------------------------------------------ */

static void on_signal(int sig)
{
    netdev_stop = sig;
}

/* Block SIGINT and SIGTERM except while the loop waits (see loop.h), so a
 * signal can never slip in between the check of the flag and the wait. */
static int setup_signals(netdev *nd)
{
    struct sigaction sa;
    sigset_t block;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &block, &nd->oldmask) != 0)
        return -errno;
    nd->signals_set = true;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return -errno;
    /* A reader of our output that goes away is an EPIPE, not a death. */
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return -errno;
    nd->waitmask = nd->oldmask;
    sigdelset(&nd->waitmask, SIGINT);
    sigdelset(&nd->waitmask, SIGTERM);
    return 0;
}

static int random_u64(uint64_t *out)
{
    ssize_t n;

    do
        n = getrandom(out, sizeof *out, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return n == (ssize_t)sizeof *out ? 0 : -EIO;
}

static int open_link(netdev *nd)
{
    const netdev_opts *o = &nd->o;
    ustk_tundev_opts to = { .name = o->dev, .kind = o->kind, .up = true,
                            .mtu = o->mtu, .vnet_hdr = o->vnet_hdr,
                            .batch = o->uring };
    char why[256];
    ustk_link *l;
    int rc;

    rc = ustk_tundev_open(&nd->dev, &to, why, sizeof why);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", nd->cmd, why);
        return -1;
    }
    nd->link = nd->dev;
    if (o->pcap) {
        rc = ustk_pcap_link_create(&l, nd->link, o->pcap);
        if (rc < 0) {
            fprintf(stderr, "%s: cannot record to %s: %s\n", nd->cmd, o->pcap,
                    strerror(-rc));
            return -1;
        }
        nd->pcap = nd->link = l;
    }
    if (o->loss > 0 || o->reorder > 0 || o->dup > 0 || o->corrupt > 0 ||
        o->delay_ms > 0) {
        ustk_impair_params ip;
        ustk_impair_params_default(&ip);
        ip.loss = o->loss;
        ip.reorder = o->reorder;
        ip.duplicate = o->dup;
        ip.corrupt = o->corrupt;
        ip.delay = USTK_MS(o->delay_ms);
        ip.seed = o->impair_seed;
        if (!o->impair_seed_given && (rc = random_u64(&ip.seed)) < 0) {
            fprintf(stderr, "%s: getrandom: %s\n", nd->cmd, strerror(-rc));
            return -1;
        }
        ip.seed %= 1000000000u; /* short enough to type back in */
        rc = ustk_impair_link_create(&l, nd->link, &ip);
        if (rc < 0) {
            fprintf(stderr, "%s: cannot set up the impairments: %s\n", nd->cmd,
                    ustk_strerror(rc));
            return -1;
        }
        nd->impair = nd->link = l;
        nd->o.impair_seed = ip.seed;
    }
    return 0;
}

int netdev_open(netdev *nd, const netdev_opts *o, const char *cmd,
                FILE *trace_out)
{
    ustk_config cfg;
    unsigned mtu;
    int rc;

    memset(nd, 0, sizeof *nd);
    nd->o = *o;
    nd->cmd = cmd;
    if (!nd->o.dev)
        nd->o.dev = NETDEV_DEFAULT_TAP;
    if ((rc = setup_signals(nd)) < 0) {
        fprintf(stderr, "%s: cannot set up signal handling: %s\n", cmd,
                strerror(-rc));
        return -1;
    }
    if (open_link(nd) < 0)
        return -1;
    /* Linux sends nothing on a device whose new carrier it has not yet
     * taken in (up to a second): wait for that before saying anything. */
    if ((rc = ustk_tundev_wait_running(nd->dev, 3000)) < 0)
        fprintf(stderr, "%s: warning: %s is not running yet (%s); going on\n",
                cmd, nd->o.dev, rc == -ETIMEDOUT ? "no carrier" : strerror(-rc));

    ustk_config_default(&cfg);
    cfg.link = nd->o.kind;
    cfg.ip = nd->o.ip;
    cfg.prefix_len = nd->o.prefix_len;
    cfg.gateway = nd->o.gateway;
    if (nd->o.ttl)
        cfg.ttl = nd->o.ttl;
    mtu = ustk_tundev_mtu(nd->dev);
    if (mtu >= 576)
        cfg.mtu = (uint16_t)(mtu > 65535 ? 65535 : mtu);
    /* Offloads when frames reach the device with their metadata (a
     * decorator in between passes plain frames). */
    if (ustk_link_has_meta(nd->link)) {
        cfg.tso_max = 65535;
        cfg.tx_csum_offload = true;
    }
    /* config.h: a stack on a real network must have a random seed, or its
     * ISNs and hash buckets are predictable. */
    if ((rc = random_u64(&cfg.seed)) < 0) {
        fprintf(stderr, "%s: getrandom: %s\n", cmd, strerror(-rc));
        return -1;
    }
    if (nd->o.kind == USTK_LINK_ETHERNET) {
        if (!nd->o.mac_given && (rc = ustk_tap_random_mac(nd->o.mac)) < 0) {
            fprintf(stderr, "%s: getrandom: %s\n", cmd, strerror(-rc));
            return -1;
        }
        memcpy(cfg.mac, nd->o.mac, 6);
    }
    if (conntrace_create(&nd->ct, nd->o.trace ? trace_out : NULL, nd->o.ascii) < 0) {
        fprintf(stderr, "%s: out of memory\n", cmd);
        return -1;
    }
    cfg.trace = conntrace_trace;
    cfg.trace_ctx = nd->ct;

    if (ustk_loop_init(&nd->loop, NULL, nd->link) < 0) {
        fprintf(stderr, "%s: out of memory\n", cmd);
        return -1;
    }
    nd->loop_ok = true;
    /* The clock starts near zero, and the ladders' times with it. */
    nd->loop.origin = ustk_clock_us() - 1;
    nd->loop.stop = &netdev_stop;
    nd->loop.sigmask = &nd->waitmask;
    rc = ustk_stack_create(&nd->stack, &cfg, ustk_loop_now(&nd->loop));
    if (rc < 0) {
        fprintf(stderr, "%s: cannot create the stack: %s\n", cmd, ustk_strerror(rc));
        return -1;
    }
    nd->loop.stack = nd->stack;
    /* What the stack sends to itself crosses no device; the capture
     * holds it too (netdev_close destroys the stack first). */
    if (nd->pcap)
        ustk_pcap_link_capture_loopback(nd->pcap, nd->stack);
    return 0;
}

void netdev_close(netdev *nd)
{
    if (nd->stack) {
        /* Destroying the stack traces what it closes: detach first. */
        ustk_stack_set_trace(nd->stack, NULL, NULL);
        ustk_stack_destroy(nd->stack);
        nd->stack = NULL;
    }
    conntrace_destroy(nd->ct);
    nd->ct = NULL;
    if (nd->loop_ok)
        ustk_loop_fini(&nd->loop);
    nd->loop_ok = false;
    ustk_link_destroy(nd->link); /* each decorator destroys what it wraps */
    nd->link = nd->dev = nd->pcap = nd->impair = NULL;
    if (nd->signals_set)
        sigprocmask(SIG_SETMASK, &nd->oldmask, NULL);
    nd->signals_set = false;
}

void netdev_describe(const netdev *nd, FILE *f)
{
    const netdev_opts *o = &nd->o;
    char ip[24], gw[40] = "";

    netdev_fmt_ip(ip, sizeof ip, o->ip, 0);
    if (o->gateway) {
        char g[20];
        netdev_fmt_ip(g, sizeof g, o->gateway, 0);
        snprintf(gw, sizeof gw, ", gateway %s", g);
    }
    fprintf(f, "%s: %s/%u%s on %s %s (%s, MTU %u", nd->cmd, ip, o->prefix_len,
            gw, o->kind == USTK_LINK_IP ? "TUN" : "TAP", o->dev,
            ustk_tundev_created(nd->dev)
                ? "created, gone when this ends; Linux has no IPv4 address "
                  "on it"
                : "attached",
            ustk_stack_config(nd->stack)->mtu);
    if (o->kind == USTK_LINK_ETHERNET)
        fprintf(f, ", MAC %02x:%02x:%02x:%02x:%02x:%02x", o->mac[0], o->mac[1],
                o->mac[2], o->mac[3], o->mac[4], o->mac[5]);
    if (o->vnet_hdr)
        fputs(ustk_stack_config(nd->stack)->tso_max
                  ? ", virtio-net headers: TSO, checksum offload"
                  : ", virtio-net headers, plain frames", f);
    if (o->uring)
        fprintf(f, ", io_uring: %u frames per submission", o->uring);
    fputs(")\n", f);
    if (nd->impair)
        fprintf(f, "%s: impairments: %g%% loss, %g%% reordered, %g%% "
                "duplicated, %g%% corrupted, %llu ms delay, each direction "
                "(--impair-seed %llu)\n", nd->cmd, o->loss * 100,
                o->reorder * 100, o->dup * 100, o->corrupt * 100,
                (unsigned long long)o->delay_ms,
                (unsigned long long)o->impair_seed);
    if (o->pcap)
        fprintf(f, "%s: recording to %s\n", nd->cmd, o->pcap);
}

void netdev_describe_if(const netdev *nd, FILE *f, bool verbose)
{
    if (verbose || ustk_tundev_created(nd->dev) ||
        (nd->impair && !nd->o.impair_seed_given))
        netdev_describe(nd, f);
}

void netdev_print_stats(const netdev *nd, FILE *f)
{
    ustk_stack_stats st;
    ustk_tundev_stats ds;
    uint64_t n;

    ustk_stack_stats_get(nd->stack, &st);
    fprintf(f,
            "counters:\n"
            "  frames: %llu in, %llu out\n"
            "  tcp: %llu segments in, %llu out, %llu retransmitted; %llu "
            "active opens, %llu passive; %llu resets sent\n"
            "  arp: %llu requests sent, %llu replies sent; icmp: %llu echo "
            "replies sent\n"
            "  dropped: %llu\n",
            (unsigned long long)st.frames_in, (unsigned long long)st.frames_out,
            (unsigned long long)st.tcp_segs_in,
            (unsigned long long)st.tcp_segs_out,
            (unsigned long long)st.tcp_retransmits,
            (unsigned long long)st.tcp_active_opens,
            (unsigned long long)st.tcp_passive_opens,
            (unsigned long long)st.tcp_resets_sent,
            (unsigned long long)st.arp_requests_sent,
            (unsigned long long)st.arp_replies_sent,
            (unsigned long long)st.icmp_echo_replies,
            (unsigned long long)st.drops_total);
    /* What is no fault of anyone's (Linux's IPv6 on the device, say) is
     * listed apart, so that the drops that tell of trouble stand out. */
    for (int pass = 0; pass < 2; pass++) {
        bool head = false;
        for (int r = 1; r < USTK_DROP__COUNT; r++) {
            if (ustk_drop_benign(r) != pass ||
                (n = ustk_stack_drops(nd->stack, r)) == 0)
                continue;
            if (pass && !head)
                fprintf(f, "    of which ignored (no fault):\n");
            head = true;
            fprintf(f, "    %-8llu %s\n", (unsigned long long)n,
                    ustk_drop_str(r));
        }
    }
    ustk_tundev_stats_get(nd->dev, &ds);
    fprintf(f, "  device %s: %llu frames read (%llu bytes), %llu written "
            "(%llu bytes), %llu refused\n", nd->o.dev,
            (unsigned long long)ds.frames_in, (unsigned long long)ds.bytes_in,
            (unsigned long long)ds.frames_out, (unsigned long long)ds.bytes_out,
            (unsigned long long)ds.send_errors);
    if (nd->o.vnet_hdr)
        fprintf(f, "  offloads: %llu TSO frames written (%llu made by TCP), "
                "%llu with a partial checksum; %llu coalesced frames in, "
                "%llu checksums completed here\n",
                (unsigned long long)ds.tso_out,
                (unsigned long long)st.tcp_tso_frames,
                (unsigned long long)ds.csum_out,
                (unsigned long long)ds.gso_in,
                (unsigned long long)ds.csum_sw);
    if (nd->impair) {
        ustk_impair_stats is[2];
        ustk_impair_stats_get(nd->impair, is);
        for (int i = 0; i < 2; i++)
            fprintf(f, "  impairments, %s: %llu frames, %llu lost, %llu "
                    "reordered, %llu duplicated, %llu corrupted, %llu "
                    "overflowed\n", i ? "in" : "out",
                    (unsigned long long)is[i].frames,
                    (unsigned long long)is[i].lost,
                    (unsigned long long)is[i].reordered,
                    (unsigned long long)is[i].duplicated,
                    (unsigned long long)is[i].corrupted,
                    (unsigned long long)is[i].queue_drops);
    }
    if (nd->pcap) {
        int err = ustk_pcap_link_flush(nd->pcap);
        if (err < 0)
            fprintf(f, "  capture %s: write error: %s\n", nd->o.pcap,
                    strerror(-err));
    }
}

void netdev_drain(netdev *nd, ustk_time until)
{
    /* A signal may be what brought us here: a second one ends the wait. */
    ustk_time now;

    netdev_stop = 0;
    ustk_loop_flush(&nd->loop);
    while (conntrace_busy(nd->ct) > 0 && (now = ustk_loop_now(&nd->loop)) < until) {
        if (ustk_loop_step(&nd->loop, until - now) <= 0)
            break;
    }
    ustk_loop_flush(&nd->loop);
}
