/* Simulation tier with TSO and checksum offload on both stacks, the
 * segments cut and checksummed by the software GSO link (link/gso.h) on
 * each end of the simulated pair, so the wire carries ordinary segments
 * and loses them one by one: pieces of one TSO segment lost, reordered
 * or SACKed apart must be recovered piece by piece. Every transfer is
 * checked byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sim_scenario.h"

static bool run_ok(const scen_cfg *c, scen_result *r, const char *what,
                   uint32_t i)
{
    assert_int_equal(scen_run(c, r), 0);
    bool ok = r->data_ok && !r->timed_out && r->client_err == 0 &&
              r->server_err == 0 && r->client_state == USTK_TCP_CLOSED &&
              r->server_state == USTK_TCP_CLOSED;
    if (!ok)
        print_error("%s %u (link=%d): data_ok=%d timed_out=%d cerr=%s "
                    "serr=%s cstate=%s sstate=%s\n",
                    what, i, (int)c->link, r->data_ok, r->timed_out,
                    ustk_errname(r->client_err), ustk_errname(r->server_err),
                    ustk_tcp_state_name(r->client_state),
                    ustk_tcp_state_name(r->server_state));
    return ok;
}

/* A clean echo of 4 MB: TSO segments go both ways, nothing is resent. */
static void clean(ustk_link_kind link)
{
    scen_cfg c;
    scen_result r;
    scen_cfg_default(&c);
    c.link = link;
    c.tso = true;
    c.bytes = 4 << 20;
    assert_true(run_ok(&c, &r, "clean", 0));
    assert_true(r.tso_frames > 100);
    assert_int_equal(r.retransmits, 0);
    /* The wire carried segments, not TSO packets: about one frame per
     * 1448 bytes each way plus ACKs. */
    assert_true(r.frames > 2 * (4u << 20) / 1448);
}

/* Drop each of the first frames of a 64 KB echo in turn: the pieces of
 * the first TSO segments, their ACKs, the handshake. */
static void sweep(ustk_link_kind link)
{
    scen_cfg c;
    scen_result base, r;
    scen_cfg_default(&c);
    c.link = link;
    c.tso = true;
    c.bytes = 64 * 1024;
    assert_true(run_ok(&c, &base, "base", 0));
    assert_true(base.tso_frames > 0);
    uint32_t failures = 0;
    for (uint32_t i = 0; i < base.frames; i++) {
        scen_cfg d = c;
        d.sim.drop_mask[0] = i;
        d.sim.drop_mask_len = 1;
        if (!run_ok(&d, &r, "drop frame", i))
            failures++;
    }
    printf("# tso link=%s: dropped each of %u frames in turn, %u failures\n",
           link == USTK_LINK_IP ? "ip" : "ethernet", base.frames, failures);
    assert_int_equal(failures, 0);
}

/* Seeded loss, reordering and duplication, 1 MB each way at once. */
static void impaired(ustk_link_kind link)
{
    uint32_t failures = 0;
    uint64_t tso = 0, rtx = 0;
    for (uint32_t seed = 1; seed <= 40; seed++) {
        scen_cfg c;
        scen_result r;
        scen_cfg_default(&c);
        c.link = link;
        c.tso = true;
        c.mode = SCEN_DUPLEX;
        c.bytes = c.back_bytes = 1 << 20;
        c.seed = seed;
        c.sim.seed = seed;
        c.sim.loss = 0.02;
        c.sim.reorder = 0.02;
        c.sim.duplicate = 0.01;
        if (!run_ok(&c, &r, "seed", seed))
            failures++;
        tso += r.tso_frames;
        rtx += r.retransmits;
    }
    printf("# tso link=%s: 40 seeds, %llu TSO segments, %llu "
           "retransmissions, %u failures\n",
           link == USTK_LINK_IP ? "ip" : "ethernet", (unsigned long long)tso,
           (unsigned long long)rtx, failures);
    assert_int_equal(failures, 0);
    assert_true(tso > 0);
    assert_true(rtx > 0);
}

static void eth_clean(void **st) { (void)st; clean(USTK_LINK_ETHERNET); }
static void ip_clean(void **st) { (void)st; clean(USTK_LINK_IP); }
static void eth_sweep(void **st) { (void)st; sweep(USTK_LINK_ETHERNET); }
static void ip_sweep(void **st) { (void)st; sweep(USTK_LINK_IP); }
static void eth_impaired(void **st) { (void)st; impaired(USTK_LINK_ETHERNET); }
static void ip_impaired(void **st) { (void)st; impaired(USTK_LINK_IP); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eth_clean),    cmocka_unit_test(ip_clean),
        cmocka_unit_test(eth_sweep),    cmocka_unit_test(ip_sweep),
        cmocka_unit_test(eth_impaired), cmocka_unit_test(ip_impaired),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
