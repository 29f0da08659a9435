/* Default configuration: today's good practice, every value a knob. */
#include <string.h>

#include "ustack/ustack.h"

void ustk_config_default(ustk_config *c)
{
    memset(c, 0, sizeof(*c));
    c->link = USTK_LINK_ETHERNET;
    c->prefix_len = 24;
    c->mtu = 1500;
    c->seed = 1;

    c->max_sockets = 1024;
    c->max_time_wait = 4096;
    c->max_backlog = 128;
    c->max_half_open = 256;
    c->snd_buf = 256 * 1024;
    c->rcv_buf = 256 * 1024;
    c->arp_entries = 64;
    c->arp_queue = 64; /* the 45 fragments of a 64 KiB datagram */
    c->ctl_queue = 64;
    c->ephemeral_lo = 49152; /* RFC 6335 §6 dynamic ports */
    c->ephemeral_hi = 65535;

    c->ttl = 64; /* RFC 1700 / Linux default */
    c->max_routes = 16;
    c->frag_mem = 256 * 1024;
    c->frag_max = 64;
    c->frag_timeout = USTK_SEC(30); /* Linux's ipfrag_time */
    c->icmp_rate = 1000;            /* Linux's icmp_msgs_per_sec */
    c->icmp_burst = 50;             /* Linux's icmp_msgs_burst */
    c->udp_rcv_buf = 256 * 1024;
    c->udp_rcv_max = 512;
    c->dgram_queue = 128;           /* a 64 KiB datagram is 45 fragments at
                                       MTU 1500 */
    c->pmtu_entries = 64;
    c->pmtu_expire = USTK_SEC(600); /* Linux's mtu_expires */

    c->arp_ttl = USTK_SEC(60);
    c->arp_retry = USTK_SEC(1);
    c->arp_max_retries = 3;

    c->msl = USTK_SEC(30); /* Linux uses 60 s for 2*MSL */
    c->rto_initial = USTK_SEC(1);
    c->rto_min = USTK_MS(200);
    c->rto_max = USTK_SEC(120);
    c->syn_retries = 6;
    c->synack_retries = 5;
    c->data_retries = 15;
    c->fin_wait2_timeout = USTK_SEC(60);
    c->delack = USTK_MS(40);

    c->cc = USTK_CC_NEWRENO;
    c->init_cwnd = 10;
    c->nodelay = false;
    c->tcp_rack = true;
    c->tcp_tlp = true;
    c->tcp_predict = true;
    /* RFC 1122 §4.2.3.6: at least two hours idle by default. */
    c->keepalive_idle = USTK_SEC(7200);
    c->keepalive_intvl = USTK_SEC(75);
    c->keepalive_count = 9;

    c->opt_wscale = true;
    c->opt_sack = true;
    c->opt_timestamps = true;
    c->wscale = 7;
}
