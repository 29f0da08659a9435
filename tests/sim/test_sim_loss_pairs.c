/* Simulation tier: every single lost frame and every pair of lost frames of
 * one whole conversation.
 *
 * The conversation: the client connects, sends 100 full segments (100 x
 * 1448 bytes, the MSS less the timestamp option) one way, and closes; the
 * server reads to the end and closes. The link numbers every frame of both
 * directions in the order they are sent (the handshake, the data, the ACKs,
 * the FINs, the last ACK), and its loss mask drops the frames with the
 * given numbers. With N frames in the undisturbed run (about 157), the
 * test drops each frame i < N alone, then each pair i < j < N. It does so
 * three times, each with other settings:
 *   - the client closes first; NewReno with SACK;
 *   - the server closes first; NewReno without SACK (NewReno's partial
 *     ACKs, RFC 6582, do the recovery);
 *   - both close at once; CUBIC with SACK.
 * Every run must deliver the bytes exactly, end with both sides CLOSED, and
 * no call may fail; nor may it stall (see STALL_MAX).
 *
 * No pair is left out in the plain build: a run costs a fraction of a
 * millisecond (IP link, 1 ms latency, 100 Mbit/s so that the receiver sees
 * the segments one at a time and ACKs every second one, a short MSL), so
 * the three sweeps of about 12,300 runs each take some 10 s. The
 * AddressSanitizer build (Debug, about eight times slower) runs every
 * single loss of every sweep but each pair in one sweep only, the one
 * numbered (i + j) mod 3: every pair is still dropped once, in 25-35 s.
 *
 *   LOSS_PAIR=sweep:i,j   run one case (sweep 0, 1, 2 as above; ",j" left
 *                         out for a single loss), with SCEN_TRACE=1 for
 *                         its trace */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sim_scenario.h"

#if defined(__SANITIZE_ADDRESS__)
#define LOSS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOSS_ASAN 1
#endif
#endif
#ifndef LOSS_ASAN
#define LOSS_ASAN 0
#endif

#define SEGMENTS 100
#define SEG_BYTES 1448
/* Two lost frames cost at most two timeouts before the data moves again:
 * 1 + 2 s from the initial RTO (RFC 6298 §2.1, doubled by §5.5), or 1 s
 * for a lost SYN and then the 3 s that §5.7 restarts the RTO with. So no
 * run may go longer than 7 s without a byte read, nor end more than 7 s
 * after the undisturbed run did. A sender that waits out more has lost
 * track of what to resend. */
#define STALL_MAX USTK_SEC(7)
#define END_SLACK USTK_SEC(7)
/* Failures printed in full per sweep; the rest are only counted. */
#define PRINT_MAX 20

static void base_cfg(scen_cfg *c, scen_close close)
{
    scen_cfg_default(c);
    c->link = USTK_LINK_IP;
    c->mode = SCEN_DUPLEX;
    c->bytes = SEGMENTS * SEG_BYTES;
    c->back_bytes = 0;
    c->close = close;
    c->cc = close == SCEN_CLOSE_BOTH ? USTK_CC_CUBIC : USTK_CC_NEWRENO;
    c->sack = close != SCEN_CLOSE_SERVER;
    c->sim.latency = USTK_MS(1);
    c->sim.rate_bps = 100000000;
    c->msl = USTK_MS(500);
    c->limit = USTK_SEC(600);
}

static const char *sweep_name(scen_close c)
{
    return c == SCEN_CLOSE_CLIENT   ? "client closes, NewReno, SACK"
           : c == SCEN_CLOSE_SERVER ? "server closes, NewReno, no SACK"
                                    : "both close, CUBIC, SACK";
}

static bool run_ok(const scen_cfg *c, scen_result *r)
{
    if (scen_run(c, r) != 0)
        return false;
    return r->max_stall <= STALL_MAX && r->data_ok && !r->timed_out &&
           r->client_err == 0 && r->server_err == 0 &&
           r->client_state == USTK_TCP_CLOSED &&
           r->server_state == USTK_TCP_CLOSED;
}

static void print_failure(scen_close close, uint32_t i, int64_t j,
                          const scen_result *r)
{
    char pair[32];
    if (j < 0)
        snprintf(pair, sizeof pair, "%u", i);
    else
        snprintf(pair, sizeof pair, "%u,%lld", i, (long long)j);
    printf("FAIL %s: drop %s (rerun: LOSS_PAIR=%d:%s SCEN_TRACE=1): "
           "data_ok=%d timed_out=%d cerr=%s serr=%s cstate=%s sstate=%s "
           "server_got=%zu end=%.3fs max_stall=%.3fs frames=%u\n",
           sweep_name(close), pair, (int)close, pair, r->data_ok, r->timed_out,
           ustk_errname(r->client_err), ustk_errname(r->server_err),
           ustk_tcp_state_name(r->client_state),
           ustk_tcp_state_name(r->server_state), r->server_got,
           (double)r->end / 1e6, (double)r->max_stall / 1e6, r->frames);
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct sweep_result {
    uint32_t frames;
    unsigned singles, pairs, failed_singles, failed_pairs;
    unsigned short_runs; /* runs that never sent a frame of the mask */
    ustk_time worst_stall, worst_end;
    uint32_t stall_i, end_i;
    int64_t stall_j, end_j; /* -1: a single loss */
} sweep_result;

/* Drop frame i (and j, when j >= 0) of the conversation c. */
static void drop_run(const scen_cfg *c, scen_close close, uint32_t i, int64_t j,
                     sweep_result *out, unsigned *printed)
{
    scen_cfg d = *c;
    d.sim.drop_mask[0] = i;
    d.sim.drop_mask[1] = (uint32_t)j;
    d.sim.drop_mask_len = j < 0 ? 1 : 2;
    scen_result r;
    bool ok = run_ok(&d, &r);
    if (j < 0)
        out->singles++;
    else
        out->pairs++;
    out->short_runs += r.sim.masked < d.sim.drop_mask_len;
    if (r.max_stall > out->worst_stall) {
        out->worst_stall = r.max_stall;
        out->stall_i = i;
        out->stall_j = j;
    }
    if (r.end > out->worst_end) {
        out->worst_end = r.end;
        out->end_i = i;
        out->end_j = j;
    }
    if (!ok) {
        if (j < 0)
            out->failed_singles++;
        else
            out->failed_pairs++;
        if ((*printed)++ < PRINT_MAX)
            print_failure(close, i, j, &r);
    }
}

static void sweep(scen_close close, sweep_result *out)
{
    memset(out, 0, sizeof(*out));
    scen_cfg c;
    base_cfg(&c, close);
    scen_result base;
    assert_true(run_ok(&c, &base));
    assert_int_equal(base.retransmits, 0);
    c.limit = base.end + END_SLACK;
    uint32_t n = base.frames;
    out->frames = n;
    unsigned printed = 0;
    double t0 = wall_s();
    for (uint32_t i = 0; i < n; i++)
        drop_run(&c, close, i, -1, out, &printed);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++)
            if (!LOSS_ASAN || (i + j) % 3 == (uint32_t)close)
                drop_run(&c, close, i, j, out, &printed);
    printf("# sweep %d (%s): %u frames undisturbed; every single loss (%u "
           "runs, %u failed) and %s (%u runs, %u failed) in %.1f s\n",
           (int)close, sweep_name(close), n, out->singles, out->failed_singles,
           LOSS_ASAN ? "every pair i<j with (i+j) mod 3 = the sweep's number"
                     : "every pair i<j",
           out->pairs, out->failed_pairs, wall_s() - t0);
    printf("#   longest stall %.3f s (drop %u,%d), latest end %.3f s (drop "
           "%u,%d), %u runs ended before a frame to drop was sent\n",
           (double)out->worst_stall / 1e6, out->stall_i, (int)out->stall_j,
           (double)out->worst_end / 1e6, out->end_i, (int)out->end_j,
           out->short_runs);
}

static void one_case(const char *spec)
{
    int close = 0;
    unsigned i = 0, j = 0;
    int k = sscanf(spec, "%d:%u,%u", &close, &i, &j);
    assert_true(k >= 2 && close >= 0 && close <= 2);
    scen_cfg c;
    base_cfg(&c, (scen_close)close);
    scen_result r;
    assert_true(run_ok(&c, &r));
    c.limit = r.end + END_SLACK;
    c.sim.drop_mask[0] = i;
    c.sim.drop_mask[1] = j;
    c.sim.drop_mask_len = k == 3 ? 2 : 1;
    bool ok = run_ok(&c, &r);
    if (!ok)
        print_failure((scen_close)close, i, k == 3 ? (int64_t)j : -1, &r);
    printf("%u passed, %u failed\n", ok ? 1u : 0u, ok ? 0u : 1u);
    assert_true(ok);
}

static void all_pairs(void **st)
{
    (void)st;
    const char *spec = getenv("LOSS_PAIR");
    if (spec && *spec) {
        one_case(spec);
        return;
    }
    unsigned passed = 0, failed = 0;
    for (int close = 0; close < 3; close++) {
        sweep_result s;
        sweep((scen_close)close, &s);
        failed += s.failed_singles + s.failed_pairs;
        passed += s.singles + s.pairs - s.failed_singles - s.failed_pairs;
    }
    printf("%u passed, %u failed\n", passed, failed);
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
