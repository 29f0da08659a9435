/* `ustack connect`: netcat over ustack on a real TAP or TUN device.
 *
 * TCP: standard input goes to the connection, the connection to standard
 * output. At the end of input the sending side is shut down (a FIN, the
 * peer may go on sending); when the peer's FIN has come, everything it
 * sent has been written out, and ours has gone too, the connection is over
 * and the command waits (a bounded time) for the last ACK so that the peer
 * is not left hanging, then exits 0. Refused, timed out, unreachable or
 * reset: the error on stderr and exit 1.
 *
 * UDP (--udp): each read of standard input is one datagram (at most what
 * fits in the MTU); each datagram received goes to standard output. After
 * the end of input the command waits --wait seconds of quiet for replies.
 * An ICMP port unreachable for the peer ends it with "connection refused"
 * and exit 1.
 *
 * Standard input and output are never switched to non-blocking mode (they
 * may be shared with the shell): the loop polls them, reads only after
 * POLLIN, and writes a pipe at most PIPE_BUF bytes per POLLOUT, which a
 * pipe that reports POLLOUT always takes without blocking.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "netdev.h"
#include "netcmd.h"

#define CN_BUF 65536u

typedef struct cn_opts {
    netdev_opts nd;
    ustk_sockaddr peer;
    bool udp;
    bool verbose;
    uint64_t timeout_s; /* connect timeout; 0 = the stack's SYN retries */
    double wait_s;      /* UDP: quiet time after the input ends; TCP: the
                           bound on waiting for the last ACK */
} cn_opts;

typedef struct cn {
    const cn_opts *o;
    netdev nd;
    ustk_stack *s;
    int sock;
    ustk_sockaddr local;
    char peer_txt[32];
    bool connected, in_eof, shut_sent, peer_eof;
    bool out_direct; /* stdout is a file: write everything at once */
    size_t in_off, in_len, out_off, out_len;
    uint64_t bytes_sent, bytes_received;
    ustk_time t_connect, t_connected, t_quiet;
    int status; /* exit status once decided, -1 while running */
    uint8_t in[CN_BUF], out[CN_BUF];
} cn;

static const char *const CMD = "ustack connect";

static void fail(cn *c, const char *what, int err)
{
    fprintf(stderr, "%s: %s: %s%s%s\n", CMD, c->peer_txt, what ? what : "",
            what ? ": " : "", ustk_strerror(err));
    c->status = 1;
}

/* ---- standard input and output ------------------------------------------------ */

static void read_stdin(cn *c, size_t max)
{
    ssize_t n;

    do
        n = read(STDIN_FILENO, c->in, max);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        fprintf(stderr, "%s: reading standard input: %s\n", CMD, strerror(errno));
        c->in_eof = true; /* what was read still goes; then our FIN */
        return;
    }
    if (n == 0) {
        c->in_eof = true;
        return;
    }
    c->in_off = 0;
    c->in_len = (size_t)n;
}

/* Write what we can to standard output without blocking. Returns -1 when
 * standard output failed (the reader went away, a full disk). */
static int write_stdout(cn *c)
{
    while (c->out_len) {
        size_t n = c->out_len;
        ssize_t w;
        if (!c->out_direct) {
            struct pollfd p = { .fd = STDOUT_FILENO, .events = POLLOUT };
            if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLOUT | POLLERR | POLLHUP)))
                return 0;
            if (n > PIPE_BUF)
                n = PIPE_BUF;
        }
        w = write(STDOUT_FILENO, c->out + c->out_off, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            fprintf(stderr, "%s: writing standard output: %s\n", CMD, strerror(errno));
            return -1;
        }
        c->out_off += (size_t)w;
        c->out_len -= (size_t)w;
    }
    c->out_off = 0;
    return 0;
}

/* ---- TCP ---------------------------------------------------------------------------- */

static void tcp_io(cn *c, ustk_time now)
{
    ptrdiff_t r;

    while (c->in_len) {
        r = ustk_send(c->s, c->sock, c->in + c->in_off, c->in_len, now);
        if (r == USTK_EAGAIN)
            break;
        if (r < 0) {
            fail(c, "send", (int)r);
            return;
        }
        c->in_off += (size_t)r;
        c->in_len -= (size_t)r;
        c->bytes_sent += (uint64_t)r;
    }
    if (c->in_eof && c->in_len == 0 && !c->shut_sent) {
        int rc = ustk_shutdown(c->s, c->sock, USTK_SHUT_WR, now);
        if (rc < 0) {
            fail(c, "shutdown", rc);
            return;
        }
        c->shut_sent = true;
        if (c->o->verbose)
            fprintf(stderr, "%s: end of input: %llu bytes sent, FIN queued\n",
                    CMD, (unsigned long long)c->bytes_sent);
    }
    while (!c->peer_eof && c->out_off + c->out_len < CN_BUF) {
        r = ustk_recv(c->s, c->sock, c->out + c->out_off + c->out_len,
                      CN_BUF - c->out_off - c->out_len, now);
        if (r == USTK_EAGAIN)
            break;
        if (r < 0) {
            fail(c, "recv", (int)r);
            return;
        }
        if (r == 0) {
            c->peer_eof = true;
            if (c->o->verbose)
                fprintf(stderr, "%s: the peer closed its side: %llu bytes "
                        "received\n", CMD,
                        (unsigned long long)(c->bytes_received + c->out_len));
            break;
        }
        c->out_len += (size_t)r;
    }
}

static int tcp_state(const cn *c)
{
    return conntrace_state(c->nd.ct, c->local.port, c->o->peer.addr,
                           c->o->peer.port);
}

static void print_summary(cn *c, ustk_time now, int state)
{
    ustk_tcp_info ti;
    char local[32];
    bool have = ustk_tcp_info_get(c->s, c->sock, &ti) == 0;
    double secs = c->t_connected ? (double)(now - c->t_connected) / 1e6 : 0.0;

    netdev_fmt_ip(local, sizeof local, c->local.addr, c->local.port);
    fprintf(stderr, "%s: %s -> %s: sent %llu bytes, received %llu in %.3f s; "
            "final state %s\n", CMD, local, c->peer_txt,
            (unsigned long long)c->bytes_sent,
            (unsigned long long)c->bytes_received, secs,
            state >= 0 ? ustk_tcp_state_name(state) : "unknown");
    if (have)
        fprintf(stderr, "%s: tcp: mss %u, srtt %.3f ms, rto %u ms, cwnd %u, "
                "%u retransmits (%u timeout, %u fast, %u SACK)\n", CMD,
                ti.mss, ti.srtt_us / 1000.0, ti.rto_us / 1000, ti.cwnd,
                ti.retransmits, ti.rtx_timeout, ti.rtx_fast, ti.rtx_sack);
}

/* Open a socket of proto and connect it to the peer (a TCP connect is
 * under way when this returns); 0, or -1 after saying why. */
static int open_connected(cn *c, int proto, ustk_time now)
{
    int rc;

    c->sock = ustk_open(c->s, proto);
    if (c->sock < 0) {
        fail(c, "socket", c->sock);
        return -1;
    }
    rc = ustk_connect(c->s, c->sock, &c->o->peer, now);
    if (rc < 0 && rc != USTK_EINPROGRESS) {
        fail(c, "connect", rc);
        return -1;
    }
    if (ustk_getsockname(c->s, c->sock, &c->local) != 0)
        c->local.addr = c->o->nd.ip;
    return 0;
}

static int tcp_start(cn *c, ustk_time now)
{
    if (open_connected(c, USTK_PROTO_TCP, now) < 0)
        return -1;
    c->t_connect = now;
    return 0;
}

/* After a round: returns true when the run is over (c->status set). */
static bool tcp_after(cn *c, ustk_time now, const struct pollfd *ext)
{
    int ev = ustk_sock_poll(c->s, c->sock), st;

    if (ev < 0) {
        fail(c, "poll", ev);
        return true;
    }
    if (ev & USTK_ERROR) {
        int err = ustk_sock_error(c->s, c->sock);
        if (err < 0) {
            fail(c, c->connected ? NULL : "connect", err);
            return true;
        }
    }
    if (!c->connected) {
        if (!(ev & USTK_WRITABLE)) {
            if (c->o->timeout_s && now - c->t_connect >= USTK_SEC(c->o->timeout_s)) {
                fail(c, "connect", USTK_ETIMEDOUT);
                return true;
            }
            return false;
        }
        c->connected = true;
        c->t_connected = now;
        if (c->o->verbose) {
            char local[32];
            netdev_fmt_ip(local, sizeof local, c->local.addr, c->local.port);
            fprintf(stderr, "%s: connected to %s from %s\n", CMD, c->peer_txt, local);
        }
    }
    if (ext[0].revents & (POLLIN | POLLHUP | POLLERR))
        read_stdin(c, CN_BUF);
    /* Until standard output is full or the stack has nothing more: each
     * write makes room for what the stack still holds, and no event would
     * come to say so. */
    for (;;) {
        size_t before;
        tcp_io(c, now);
        if (c->status >= 0)
            return true;
        if (c->out_len == 0)
            break;
        before = c->out_len;
        if (write_stdout(c) < 0) {
            c->status = 1;
            return true;
        }
        c->bytes_received += before - c->out_len;
        if (c->out_len)
            break; /* a full pipe: POLLOUT wakes us */
    }
    if (!(c->peer_eof && c->out_len == 0 && c->shut_sent))
        return false;
    /* Both directions are done: wait for our FIN to be acknowledged. */
    st = tcp_state(c);
    if (st == USTK_TCP_TIME_WAIT || st == USTK_TCP_CLOSED) {
        c->status = 0;
        return true;
    }
    if (!c->t_quiet)
        c->t_quiet = now + (ustk_time)(c->o->wait_s * 1e6);
    if (now >= c->t_quiet) {
        fprintf(stderr, "%s: %s: gave up waiting for the last ACK (state %s)\n",
                CMD, c->peer_txt, st >= 0 ? ustk_tcp_state_name(st) : "unknown");
        c->status = 0;
        return true;
    }
    return false;
}

/* ---- UDP ---------------------------------------------------------------------------- */

static int udp_start(cn *c, ustk_time now)
{
    if (open_connected(c, USTK_PROTO_UDP, now) < 0)
        return -1;
    c->connected = true;
    c->t_connected = now;
    return 0;
}

static bool udp_after(cn *c, ustk_time now, const struct pollfd *ext)
{
    /* An IPv4 header (20) and a UDP header (8) share the MTU. */
    size_t dmax = ustk_stack_config(c->s)->mtu - 28u;
    ptrdiff_t r;
    int ev;

    if (ext[0].revents & (POLLIN | POLLHUP | POLLERR))
        read_stdin(c, dmax < CN_BUF ? dmax : CN_BUF);
    if (c->in_len) {
        r = ustk_send(c->s, c->sock, c->in, c->in_len, now);
        if (r >= 0) {
            c->bytes_sent += c->in_len;
            c->in_len = 0;
        } else if (r != USTK_EAGAIN) {
            fail(c, "send", (int)r);
            return true;
        }
    }
    ev = ustk_sock_poll(c->s, c->sock);
    if (ev >= 0 && (ev & USTK_ERROR)) {
        int err = ustk_sock_error(c->s, c->sock);
        if (err < 0) {
            fail(c, NULL, err);
            return true;
        }
    }
    for (;;) {
        bool got = false;
        /* Whole datagrams only: each needs room for the largest. */
        while (CN_BUF - c->out_off - c->out_len >= dmax) {
            r = ustk_recv(c->s, c->sock, c->out + c->out_off + c->out_len,
                          CN_BUF - c->out_off - c->out_len, now);
            if (r == USTK_EAGAIN)
                break;
            if (r < 0) {
                fail(c, "recv", (int)r);
                return true;
            }
            if ((size_t)r > dmax)
                r = (ptrdiff_t)dmax; /* the rest was cut off */
            c->out_len += (size_t)r;
            c->bytes_received += (uint64_t)r;
            got = true;
            if (c->in_eof)
                c->t_quiet = now + (ustk_time)(c->o->wait_s * 1e6);
        }
        if (c->out_len && write_stdout(c) < 0) {
            c->status = 1;
            return true;
        }
        if (!got || c->out_len)
            break; /* nothing more, or a full pipe (POLLOUT wakes us) */
    }
    if (c->in_eof && c->in_len == 0) {
        if (!c->t_quiet)
            c->t_quiet = now + (ustk_time)(c->o->wait_s * 1e6);
        if (now >= c->t_quiet && c->out_len == 0) {
            c->status = 0;
            return true;
        }
    }
    return false;
}

/* ---- running ---------------------------------------------------------------------------- */

static int run(cn *c)
{
    const cn_opts *o = c->o;
    struct pollfd ext[2];
    struct stat sb;
    ustk_time now;
    int rc;

    c->status = -1;
    netdev_fmt_ip(c->peer_txt, sizeof c->peer_txt, o->peer.addr, o->peer.port);
    c->out_direct = fstat(STDOUT_FILENO, &sb) == 0 && S_ISREG(sb.st_mode);
    if (netdev_open(&c->nd, &o->nd, CMD, stderr) < 0)
        return 1;
    c->s = c->nd.stack;
    netdev_describe_if(&c->nd, stderr, o->verbose);
    now = ustk_loop_now(&c->nd.loop);
    if ((o->udp ? udp_start(c, now) : tcp_start(c, now)) < 0)
        return 1;
    c->nd.loop.extra = ext;
    c->nd.loop.nextra = 2;

    for (;;) {
        ustk_time wait = USTK_TIME_NEVER;
        bool done;

        /* Read input only when the last read has gone into the stack, and
         * wait on output only when there is some. A negative fd is
         * skipped by poll. */
        ext[0] = (struct pollfd){ .fd = (c->connected && !c->in_eof && c->in_len == 0)
                                            ? STDIN_FILENO : -1,
                                  .events = POLLIN };
        ext[1] = (struct pollfd){ .fd = (c->out_len && !c->out_direct) ? STDOUT_FILENO : -1,
                                  .events = POLLOUT };
        if (c->t_quiet) {
            now = ustk_loop_now(&c->nd.loop);
            wait = c->t_quiet > now ? c->t_quiet - now : 0;
        }
        if (!c->connected && o->timeout_s)
            wait = USTK_SEC(1);
        rc = ustk_loop_step(&c->nd.loop, wait);
        if (rc < 0) {
            fprintf(stderr, "%s: the device failed: %s\n", CMD, strerror(-rc));
            return 1;
        }
        if (rc == 0) {
            fprintf(stderr, "%s: interrupted\n", CMD);
            c->status = 130;
            break;
        }
        now = ustk_loop_now(&c->nd.loop);
        done = o->udp ? udp_after(c, now, ext) : tcp_after(c, now, ext);
        if (done)
            break;
    }
    now = ustk_loop_now(&c->nd.loop);
    conntrace_flush(c->nd.ct);
    if (o->verbose && !o->udp)
        print_summary(c, now, tcp_state(c));
    else if (o->verbose)
        fprintf(stderr, "%s: %s: %llu bytes sent, %llu received\n", CMD,
                c->peer_txt, (unsigned long long)c->bytes_sent,
                (unsigned long long)c->bytes_received);
    /* Hand the last frames (our final ACK, a FIN) to the device. */
    if (c->sock >= 0)
        (void)ustk_close(c->s, c->sock, now);
    c->sock = -1;
    netdev_drain(&c->nd, now + USTK_MS(200));
    if (o->verbose && c->status == 0)
        netdev_print_stats(&c->nd, stderr);
    return c->status < 0 ? 1 : c->status;
}

/* ---- the command line ---------------------------------------------------------- */

void connect_usage(FILE *f)
{
    fputs("usage: ustack connect [--tap NAME | --tun NAME] --ip ADDR[/PREFIX]\n"
          "                      [--gateway ADDR] [--udp] [--verbose] "
          "[--trace]\n"
          "                      [--pcap FILE] [--loss PCT] ... HOST PORT\n"
          "\n"
          "Like netcat, over ustack on a real TAP or TUN device: connect to "
          "HOST:PORT (an\n"
          "IPv4 address), send standard input, write what comes back to "
          "standard output.\n"
          "At the end of input the sending side is shut down (the peer may "
          "go on sending);\n"
          "it exits 0 once the peer has closed and everything is written. "
          "A refused,\n"
          "timed-out, unreachable or reset connection is reported and exits "
          "1. Needs root\n"
          "or CAP_NET_ADMIN. Trace and messages go to standard error.\n"
          "\n"
          "options:\n"
          "  --udp              UDP: each read of input is a datagram; "
          "replies to stdout\n"
          "  --wait SECONDS     UDP: wait this long for replies after the "
          "input ends\n"
          "                     (default 1); TCP: at most this long for the "
          "last ACK (3)\n"
          "  --timeout SECONDS  give up connecting after this long (default: "
          "SYN retries)\n"
          "  -v, --verbose      say what happens, and at the end the bytes, "
          "the final TCP\n"
          "                     state and the counters\n",
          f);
    netdev_usage(f);
}

static int parse(int argc, char **argv, cn_opts *o)
{
    const char *pos[2] = { NULL, NULL };
    bool wait_given = false;
    uint64_t port;
    int npos = 0, r;
    const char *v;
    args a;

    memset(o, 0, sizeof *o);
    netdev_opts_default(&o->nd);
    o->wait_s = 1.0;
    args_init(&a, CMD, argc, argv);
    while (args_next(&a)) {
        if ((r = netdev_parse(&a, &o->nd)) != 0) {
            if (r < 0)
                return -1;
        } else if (args_flag(&a, "--udp")) {
            o->udp = true;
        } else if (args_flag(&a, "--verbose") || args_flag(&a, "-v")) {
            o->verbose = true;
        } else if ((r = args_value(&a, "--wait", &v)) != 0) {
            if (r < 0 || args_double(&a, v, 0.0, 3600.0, &o->wait_s) < 0)
                return -1;
            wait_given = true;
        } else if ((r = args_value(&a, "--timeout", &v)) != 0) {
            if (r < 0 || args_u64(&a, v, 1, 3600, &o->timeout_s) < 0)
                return -1;
        } else if (a.arg[0] == '-' && a.arg[1] != '\0') {
            return args_unknown(&a);
        } else if (npos < 2) {
            pos[npos++] = a.arg;
        } else {
            return args_unknown(&a);
        }
    }
    if (npos < 2) {
        fprintf(stderr, "%s: give the peer: HOST PORT\n", CMD);
        return -1;
    }
    if (netdev_parse_ip(pos[0], &o->peer.addr) < 0 || o->peer.addr == 0) {
        fprintf(stderr, "%s: HOST: '%s' is not an IPv4 address (no names: "
                "ustack has no resolver)\n", CMD, pos[0]);
        return -1;
    }
    a.opt = "PORT";
    if (args_u64(&a, pos[1], 1, 65535, &port) < 0)
        return -1;
    o->peer.port = (uint16_t)port;
    if (!wait_given && !o->udp)
        o->wait_s = 3.0;
    return netdev_check(&a, &o->nd);
}

int connect_main(int argc, char **argv)
{
    cn_opts o;
    cn *c;
    int status;

    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            connect_usage(stdout);
            return 0;
        }
    if (parse(argc, argv, &o) < 0) {
        args_usage_hint(connect_usage);
        return 2;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        fprintf(stderr, "%s: out of memory\n", CMD);
        return 1;
    }
    c->o = &o;
    c->sock = -1;
    status = run(c);
    netdev_close(&c->nd);
    free(c);
    return status;
}
