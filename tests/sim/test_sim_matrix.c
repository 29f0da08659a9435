/* Simulation tier: a matrix of seeded conversations between two stacks.
 *
 * Case n draws everything from a generator seeded from n alone: the size
 * (1 byte to 1 MB spread evenly over the logarithm, and a fixed few cases of
 * 1-10 MB and of exactly 10 MB), echo or both directions at once (each side
 * sending its own stream, sometimes one way only), the close variant
 * (client, server, both), the link kind, NewReno or CUBIC, SACK on or off
 * (and one case in ten with no options at all), latency 0-200 ms, a rate of
 * 1-1000 Mbit/s or none, a short queue, loss up to 30 %, reordering,
 * duplication, corruption, small buffers, the MSL.
 *
 * Every run must deliver every byte exactly (compared and hashed, both
 * directions), end with both sides CLOSED and no call failing, use the
 * congestion control, SACK and timestamps it was configured with, and do
 * all that within a virtual-time limit derived from the case. The limit is
 * generous (the summary prints how close the closest case came): a case
 * that reaches it has stalled, and counts as a failure. Cases without
 * random loss or corruption must also never go long without a byte read
 * (see stall_limit()).
 *
 * The extremes are combined freely, 10 MB at 30 % loss over 200 ms
 * included: in virtual time that is hours, in wall time a fraction of a
 * second, because the cost of a case is the number of frames, not the
 * virtual time.
 *
 *   MATRIX_CASE=n   run case n alone and print it (SCEN_TRACE=1: its trace)
 *   MATRIX_COUNT=k  run cases 0..k-1 instead of the default count
 *
 * Case n is the same whatever the count, the build or the machine. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_scenario.h"
#include "util/rng.h"

/* The 10,000 cases take about 5 s of wall time in the RelWithDebInfo build.
 * The AddressSanitizer build of `make check` (Debug, ASan and UBSan) is
 * five to ten times slower, so there the matrix runs every tenth case and
 * every case of 1 MB or more (1,280 cases, about 20 s). */
#if defined(__SANITIZE_ADDRESS__)
#define MATRIX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MATRIX_ASAN 1
#endif
#endif
#ifndef MATRIX_ASAN
#define MATRIX_ASAN 0
#endif

#define MATRIX_CASES 10000
#define MATRIX_ASAN_STRIDE 10
#define MB 1000000u

/* A case that runs longer than this in wall time is stuck inside the
 * stack: say which one before the suite's timeout kills the program. */
#define WATCHDOG_SECONDS 300

#define SLOWEST 10

typedef struct mcase {
    unsigned n;
    scen_cfg cfg;
    ustk_time stall_limit; /* see stall_limit(); 0 = none */
} mcase;

typedef struct slow {
    unsigned n;
    double ms;
} slow;

/* What the whole run saw, for the summary. */
typedef struct tally {
    unsigned passed, failed;
    unsigned duplex, closes[3], cubic, sack, no_options, lossy, heavy, large,
        ip;
    uint64_t rtx_timeout, rtx_fast, rtx_sack;
    double wall_ms, virtual_s, worst_ratio, worst_stall;
    unsigned worst_case, worst_stall_case, stall_checked;
    slow top[SLOWEST + 1];
} tally;

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Log-uniform in [lo, hi]. */
static double log_uniform(ustk_rng *g, double lo, double hi)
{
    return exp(log(lo) + (log(hi) - log(lo)) * ustk_rng_unit(g));
}

/* Few of the largest: a fixed share of cases by number, so that the mix
 * does not depend on the luck of the draw (about 2 % of the cases). */
static bool case_10mb(unsigned n, bool back)
{
    return n % 250 == (back ? 133u : 8u);
}

static bool case_1_10mb(unsigned n, bool back)
{
    return n % 100 == (back ? 91u : 42u);
}

static bool case_large(unsigned n)
{
    return case_10mb(n, false) || case_10mb(n, true) || case_1_10mb(n, false) ||
           case_1_10mb(n, true);
}

static size_t draw_size(ustk_rng *g, unsigned n, bool back)
{
    if (case_10mb(n, back))
        return 10 * MB;
    if (case_1_10mb(n, back))
        return (size_t)log_uniform(g, 1e6, 10e6);
    if (back && ustk_rng_below(g, 8) == 0)
        return 0; /* one way only */
    return (size_t)log_uniform(g, 1, 1e6);
}

/* A limit on the virtual time: a generous multiple of what the transfer
 * should take (serialization, one smaller buffer per round trip, slow
 * start), up to 20 s for every frame the link may lose or corrupt, plus
 * the handshake, the teardown and TIME-WAIT. */
static ustk_time case_limit(const scen_cfg *c)
{
    double total = (double)c->bytes +
                   (double)(c->mode == SCEN_DUPLEX ? c->back_bytes : c->bytes);
    double rtt = 2.0 * (double)c->sim.latency + 1000.0;
    double ser = c->sim.rate_bps ? total * 8e6 / (double)c->sim.rate_bps : 0;
    double buf = 256.0 * 1024;
    if (c->snd_buf && c->snd_buf < buf)
        buf = c->snd_buf;
    if (c->rcv_buf && c->rcv_buf < buf)
        buf = c->rcv_buf;
    double ideal = ser + (total / buf + 20.0) * rtt;
    double frames = 2.0 * (total / 1000.0) + 20.0;
    double bad = c->sim.loss + c->sim.corrupt;
    if (c->sim.queue_limit)
        bad += 0.02; /* tail drops */
    return (ustk_time)(120e6 + 4.0 * (double)c->msl + 10.0 * ideal +
                       frames * bad * 20e6);
}

/* Without random loss or corruption a correct sender never waits long:
 * a drop from the short queue or a reordered segment is repaired by fast
 * retransmit or one timeout, and an RTO is not much more than the longest
 * round trip (latency, reordering delay and a full queue each way). So in
 * such cases no time without a byte read may last longer than a few of
 * those round trips; a sender that waits out a chain of backed-off
 * timeouts there has lost track of what to resend. 0: no bound (a lossy
 * case may rightly back off for a long time). */
static ustk_time stall_limit(const scen_cfg *c)
{
    if (c->sim.loss > 0 || c->sim.corrupt > 0)
        return 0;
    double lat = (double)c->sim.latency;
    double reorder = 0;
    if (c->sim.reorder > 0)
        reorder = c->sim.reorder_delay ? (double)c->sim.reorder_delay
                                       : 2.0 * lat + 1000.0;
    double queue = 0;
    if (c->sim.rate_bps) {
        double frames = c->sim.queue_limit ? c->sim.queue_limit : 1024;
        queue = frames * 1538.0 * 8e6 / (double)c->sim.rate_bps;
    }
    double rtt_max = 2.0 * (lat + reorder + queue) + 1000.0;
    return (ustk_time)(3e6 + 4.0 * rtt_max);
}

/* Everything about case n comes from n. */
static void make_case(unsigned n, mcase *m)
{
    ustk_rng g;
    ustk_rng_seed(&g,
                  0x6d6174726978ull ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull));
    scen_cfg *c = &m->cfg;
    scen_cfg_default(c);
    m->n = n;
    c->seed = ustk_rng_next(&g) >> 8;
    c->sim.seed = ustk_rng_next(&g);
    c->link = ustk_rng_below(&g, 2) ? USTK_LINK_IP : USTK_LINK_ETHERNET;
    c->close = (scen_close)ustk_rng_below(&g, 3);
    c->cc = ustk_rng_below(&g, 2) ? USTK_CC_CUBIC : USTK_CC_NEWRENO;
    c->sack = (int)ustk_rng_below(&g, 2);
    c->options = ustk_rng_below(&g, 10) != 0;
    if (!c->options)
        c->sack = 0;
    c->bytes = draw_size(&g, n, false);
    if (ustk_rng_below(&g, 2)) {
        c->mode = SCEN_DUPLEX;
        c->back_bytes = draw_size(&g, n, true);
    }

    /* Latency: none in one case of eight, else 0.1-200 ms. */
    c->sim.latency = ustk_rng_below(&g, 8) == 0
                         ? 0
                         : (ustk_time)log_uniform(&g, 100, 200000);
    /* Rate: unlimited in one case of five, else 1-1000 Mbit/s. */
    c->sim.rate_bps =
        ustk_rng_below(&g, 5) == 0 ? 0 : (uint64_t)log_uniform(&g, 1e6, 1e9);
    /* A short queue in one case of five: tail drops on top of the loss. */
    if (ustk_rng_below(&g, 5) == 0)
        c->sim.queue_limit = 16 + (uint32_t)ustk_rng_below(&g, 240);
    /* Impaired in three cases of four; each impairment then on or off. */
    if (ustk_rng_below(&g, 4) != 0) {
        if (ustk_rng_below(&g, 4) != 0)
            c->sim.loss = 0.30 * ustk_rng_unit(&g);
        if (ustk_rng_below(&g, 2))
            c->sim.reorder = 0.10 * ustk_rng_unit(&g);
        if (ustk_rng_below(&g, 3) == 0)
            c->sim.duplicate = 0.05 * ustk_rng_unit(&g);
        if (ustk_rng_below(&g, 3) == 0)
            c->sim.corrupt = 0.05 * ustk_rng_unit(&g);
    }
    /* Small buffers in one case of eight: flow control under loss. */
    if (ustk_rng_below(&g, 8) == 0) {
        c->snd_buf = 2048 + (uint32_t)ustk_rng_below(&g, 62 * 1024);
        c->rcv_buf = 2048 + (uint32_t)ustk_rng_below(&g, 62 * 1024);
    }
    c->msl = USTK_MS(200) + (ustk_time)ustk_rng_below(&g, USTK_SEC(3));
    /* The link flips bits that a real Ethernet's frame check sequence would
     * catch, ARP has no checksum of its own, and RFC 826 has a host take
     * the sender's address from every request and reply. So one flipped
     * bit in an ARP sender address poisons the cache until the entry
     * expires: after 60 s by default, longer than SYN-RECEIVED lives (about
     * 1 case in 1,000 of the Ethernet cases with corruption failed so).
     * Such cases use a short ARP lifetime, which also exercises refreshing
     * an entry in use. */
    if (c->link == USTK_LINK_ETHERNET && c->sim.corrupt > 0)
        c->arp_ttl = USTK_SEC(1) + (ustk_time)ustk_rng_below(&g, USTK_SEC(4));

    /* At 30 % loss in each direction a round trip fails half the time, so
     * the default retry counts (3 ARP requests, 6 SYNs, 15 data
     * retransmissions) would end a few correct connections with
     * EHOSTUNREACH or ETIMEDOUT: four ARP requests in a row go unanswered
     * in about 3 % of such cases, and a stack rightly gives up a connection
     * in SYN-SENT then (RFC 5927 §4). The matrix tests delivery, not giving
     * up: under heavy loss it allows many more retries and caps the
     * backoff, which keeps the virtual time of such cases sane. */
    if (c->sim.loss + c->sim.corrupt > 0.03) {
        c->arp_retries = 40;
        c->syn_retries = 40;
        c->data_retries = 40;
        c->rto_max = USTK_SEC(10);
    }
    c->limit = case_limit(c);
    m->stall_limit = stall_limit(c);
}

static const char *close_name(scen_close c)
{
    return c == SCEN_CLOSE_CLIENT   ? "client"
           : c == SCEN_CLOSE_SERVER ? "server"
                                    : "both";
}

static void print_case(const mcase *m)
{
    const scen_cfg *c = &m->cfg;
    printf("case %u: %s bytes=%zu back=%zu close=%s link=%s cc=%s sack=%d "
           "options=%d latency=%.1fms rate=%.1fMbit/s queue=%u loss=%.3f "
           "reorder=%.3f dup=%.3f corrupt=%.3f snd_buf=%u rcv_buf=%u "
           "msl=%.0fms limit=%.0fs stall_limit=%.1fs seed=%llu "
           "simseed=%llu\n",
           m->n, c->mode == SCEN_DUPLEX ? "duplex" : "echo", c->bytes,
           c->mode == SCEN_DUPLEX ? c->back_bytes : c->bytes,
           close_name(c->close), c->link == USTK_LINK_IP ? "ip" : "eth",
           c->cc == USTK_CC_CUBIC ? "cubic" : "newreno", c->sack, c->options,
           (double)c->sim.latency / 1e3, (double)c->sim.rate_bps / 1e6,
           c->sim.queue_limit, c->sim.loss, c->sim.reorder, c->sim.duplicate,
           c->sim.corrupt, c->snd_buf, c->rcv_buf, (double)c->msl / 1e3,
           (double)c->limit / 1e6, (double)m->stall_limit / 1e6,
           (unsigned long long)c->seed, (unsigned long long)c->sim.seed);
}

/* The connection used what the case asked for: the congestion control,
 * SACK and timestamps as configured on both stacks. */
static bool info_ok(const scen_cfg *c, bool have, const ustk_tcp_info *i)
{
    return have && i->cc == (uint8_t)c->cc && i->sack_ok == (c->sack == 1) &&
           i->ts_ok == c->options;
}

static bool result_ok(const mcase *m, const scen_result *r)
{
    const scen_cfg *c = &m->cfg;
    return (!m->stall_limit || r->max_stall <= m->stall_limit) && r->data_ok &&
           !r->timed_out && r->client_err == 0 && r->server_err == 0 &&
           r->client_state == USTK_TCP_CLOSED &&
           r->server_state == USTK_TCP_CLOSED &&
           info_ok(c, r->client_info_ok, &r->client_info) &&
           info_ok(c, r->server_info_ok, &r->server_info);
}

static void print_result(const scen_result *r)
{
    const ustk_tcp_info *ci = &r->client_info, *si = &r->server_info;
    printf("  data_ok=%d timed_out=%d cerr=%s serr=%s cstate=%s sstate=%s "
           "server_got=%zu client_got=%zu end=%.3fs data_done=%.3fs "
           "max_stall=%.3fs frames=%u rtx=%llu "
           "steps=%llu client(info=%d cc=%d sack=%d ts=%d) "
           "server(info=%d cc=%d sack=%d ts=%d)\n",
           r->data_ok, r->timed_out, ustk_errname(r->client_err),
           ustk_errname(r->server_err), ustk_tcp_state_name(r->client_state),
           ustk_tcp_state_name(r->server_state), r->server_got, r->client_got,
           (double)r->end / 1e6, (double)r->data_done / 1e6,
           (double)r->max_stall / 1e6, r->frames,
           (unsigned long long)r->retransmits, (unsigned long long)r->steps,
           r->client_info_ok, ci->cc, ci->sack_ok, ci->ts_ok, r->server_info_ok,
           si->cc, si->sack_ok, si->ts_ok);
}

static volatile sig_atomic_t current_case = -1;

static void on_alarm(int sig)
{
    (void)sig;
    char msg[128];
    int len = snprintf(msg, sizeof msg,
                       "\nmatrix: case %d still running after %d s of wall "
                       "time; rerun it with MATRIX_CASE=%d\n",
                       (int)current_case, WATCHDOG_SECONDS, (int)current_case);
    if (len > 0)
        (void)!write(2, msg, (size_t)len);
    _exit(1);
}

static void note_slow(slow *top, unsigned n, double ms)
{
    for (int i = 0; i < SLOWEST; i++) {
        if (ms > top[i].ms) {
            memmove(&top[i + 1], &top[i],
                    sizeof(*top) * (size_t)(SLOWEST - 1 - i));
            top[i].n = n;
            top[i].ms = ms;
            return;
        }
    }
}

static void count_mix(tally *t, const mcase *m, const scen_result *r)
{
    const scen_cfg *c = &m->cfg;
    t->duplex += c->mode == SCEN_DUPLEX;
    t->closes[c->close]++;
    t->cubic += c->cc == USTK_CC_CUBIC;
    t->sack += c->sack == 1;
    t->no_options += !c->options;
    t->lossy += c->sim.loss > 0;
    t->heavy += c->sim.loss >= 0.2;
    t->large += c->bytes >= MB || c->back_bytes >= MB;
    t->ip += c->link == USTK_LINK_IP;
    const ustk_tcp_info *i[2] = {&r->client_info, &r->server_info};
    for (int k = 0; k < 2; k++) {
        t->rtx_timeout += i[k]->rtx_timeout;
        t->rtx_fast += i[k]->rtx_fast;
        t->rtx_sack += i[k]->rtx_sack;
    }
}

/* Run case n; print it when verbose or when it fails. */
static bool run_case(unsigned n, bool verbose, tally *t)
{
    mcase m;
    make_case(n, &m);
    if (verbose)
        print_case(&m);
    scen_result r;
    current_case = (sig_atomic_t)n;
    alarm(WATCHDOG_SECONDS);
    double t0 = wall_ms();
    int rc = scen_run(&m.cfg, &r);
    double ms = wall_ms() - t0;
    alarm(0);
    bool ok = rc == 0 && result_ok(&m, &r);
    if (verbose)
        print_result(&r);
    if (!ok) {
        printf("FAIL (rerun: MATRIX_CASE=%u, with SCEN_TRACE=1 for the "
               "trace) ",
               n);
        print_case(&m);
        if (rc != 0)
            printf("  scen_run could not set the case up\n");
        else
            print_result(&r);
    }
    double ratio = (double)r.end / (double)m.cfg.limit;
    if (verbose)
        printf("case %u: %s in %.1f ms of wall time, %.3f s virtual (%.1f%% "
               "of its limit)\n",
               n, ok ? "passed" : "FAILED", ms, (double)r.end / 1e6,
               ratio * 100);
    if (ok)
        t->passed++;
    else
        t->failed++;
    t->wall_ms += ms;
    t->virtual_s += (double)r.end / 1e6;
    if (ratio > t->worst_ratio) {
        t->worst_ratio = ratio;
        t->worst_case = n;
    }
    if (m.stall_limit) {
        double stall = (double)r.max_stall / (double)m.stall_limit;
        t->stall_checked++;
        if (stall > t->worst_stall) {
            t->worst_stall = stall;
            t->worst_stall_case = n;
        }
    }
    note_slow(t->top, n, ms);
    count_mix(t, &m, &r);
    return ok;
}

static void print_summary(const tally *t)
{
    unsigned n = t->passed + t->failed;
    printf("# slowest cases (wall time):\n");
    for (int i = 0; i < SLOWEST && t->top[i].ms > 0; i++) {
        mcase m;
        make_case(t->top[i].n, &m);
        printf("#  %8.1f ms  ", t->top[i].ms);
        print_case(&m);
    }
    printf("# mix of the %u cases: %u both directions at once, close by "
           "client/server/both %u/%u/%u, %u CUBIC, %u SACK, %u without "
           "options, %u IP link, %u lossy (%u at 20-30 %%), %u of 1-10 MB\n",
           n, t->duplex, t->closes[0], t->closes[1], t->closes[2], t->cubic,
           t->sack, t->no_options, t->ip, t->lossy, t->heavy, t->large);
    printf("# retransmissions by cause, until the handles were closed: %llu "
           "timeout, %llu fast, %llu SACK\n",
           (unsigned long long)t->rtx_timeout, (unsigned long long)t->rtx_fast,
           (unsigned long long)t->rtx_sack);
    printf("# %.1f s wall, %.0f s virtual in all; the closest to its limit "
           "was case %u at %.1f %%%s\n",
           t->wall_ms / 1e3, t->virtual_s, t->worst_case, t->worst_ratio * 100,
           MATRIX_ASAN ? "; sanitizer build: every 10th case and the large"
                       : "");
    printf("# %u cases without random loss had their longest stall "
           "bounded; the closest was case %u at %.1f %% of its bound\n",
           t->stall_checked, t->worst_stall_case, t->worst_stall * 100);
    printf("%u passed, %u failed\n", t->passed, t->failed);
}

static void matrix(void **st)
{
    (void)st;
    signal(SIGALRM, on_alarm);
    tally t;
    memset(&t, 0, sizeof t);
    const char *one = getenv("MATRIX_CASE");
    if (one && *one) {
        bool ok = run_case((unsigned)strtoul(one, NULL, 10), true, &t);
        printf("%u passed, %u failed\n", t.passed, t.failed);
        assert_true(ok);
        return;
    }
    unsigned count = MATRIX_CASES;
    const char *cnt = getenv("MATRIX_COUNT");
    if (cnt && *cnt)
        count = (unsigned)strtoul(cnt, NULL, 10);
    for (unsigned n = 0; n < count; n++)
        if (!MATRIX_ASAN || n % MATRIX_ASAN_STRIDE == 0 || case_large(n))
            run_case(n, false, &t);
    print_summary(&t);
    assert_int_equal(t.failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matrix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
