/* ICMP (RFC 792, RFC 1122 §3.2.2): echo replies, the errors we send (port
 * and protocol unreachable, reassembly time exceeded) under a token-bucket
 * rate limit, and the errors we receive, matched through the datagram they
 * quote to the socket that sent it. */
#include <string.h>

#include "stack_priv.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define TOKEN 1000000u /* the bucket counts millionths of a token */

/* RFC 1812 §4.3.2.8 asks routers to limit the rate of ICMP errors; a host
 * that answers strangers needs the same (Linux limits its own too). A token
 * bucket: icmp_rate tokens a second, at most icmp_burst kept; an error
 * costs one. Echo replies are not limited: each answers one request. */
static bool icmp_token(ustk_stack *s, ustk_time now)
{
    uint64_t rate = s->cfg.icmp_rate;
    if (rate == 0)
        return false;
    uint64_t cap = (uint64_t)s->cfg.icmp_burst * TOKEN;
    if (now > s->icmp_last) {
        /* rate tokens a second are rate millionths a microsecond. */
        uint64_t dt = now - s->icmp_last;
        uint64_t room = cap > s->icmp_tokens ? cap - s->icmp_tokens : 0;
        if (dt > room / rate)
            s->icmp_tokens = cap;
        else
            s->icmp_tokens += dt * rate;
        s->icmp_last = now;
    }
    if (s->icmp_tokens < TOKEN)
        return false;
    s->icmp_tokens -= TOKEN;
    return true;
}

/* What an error means for the socket it concerns, after RFC 1122
 * §3.2.2.1 and §4.2.3.9: net, host and source route failures may be
 * routing transients (soft); protocol and port unreachable are hard;
 * "fragmentation needed" is soft (RFC 1191 turned it into path MTU
 * news); the administrative and precedence codes of RFC 1812 §5.2.7.1
 * are hard, as Linux treats them. */
static void icmp_meaning(uint8_t type, uint8_t code, int *err, bool *hard)
{
    *hard = false;
    if (type == USTK_ICMP_TIME_EXCEEDED) {
        *err = USTK_EHOSTUNREACH;
        return;
    }
    if (type == USTK_ICMP_PARAM_PROBLEM) {
        *err = USTK_EPROTO;
        return;
    }
    switch (code) {
    case USTK_ICMP_NET_UNREACH:
    case USTK_ICMP_NET_UNREACH_TOS:
        *err = USTK_ENETUNREACH;
        break;
    case USTK_ICMP_PROTO_UNREACH:
        *err = USTK_ENOPROTOOPT;
        *hard = true;
        break;
    case USTK_ICMP_PORT_UNREACH:
        *err = USTK_ECONNREFUSED;
        *hard = true;
        break;
    case USTK_ICMP_FRAG_NEEDED:
        *err = USTK_EMSGSIZE;
        break;
    case USTK_ICMP_SRCRT_FAILED:
        *err = USTK_EOPNOTSUPP;
        break;
    case USTK_ICMP_NET_UNKNOWN:
    case USTK_ICMP_NET_PROHIBITED:
        *err = USTK_ENETUNREACH;
        *hard = true;
        break;
    case USTK_ICMP_HOST_UNKNOWN:
    case USTK_ICMP_HOST_ISOLATED:
    case USTK_ICMP_HOST_PROHIBITED:
    case USTK_ICMP_COMM_PROHIBITED:
    case USTK_ICMP_PREC_VIOLATION:
    case USTK_ICMP_PREC_CUTOFF:
        *err = USTK_EHOSTUNREACH;
        *hard = true;
        break;
    default: /* host unreachable, and codes we do not know */
        *err = USTK_EHOSTUNREACH;
        break;
    }
}

void ustk__icmp_error(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *h,
                      const uint8_t *pkt, uint8_t type, uint8_t code,
                      bool link_bcast)
{
    /* RFC 1122 §3.2.2: an ICMP error MUST NOT be sent about a datagram
     * sent to an IP broadcast or multicast address or as a link-layer
     * broadcast, about a fragment other than the first, about a datagram
     * whose source is not one host (zero, broadcast, multicast, class E),
     * or about an ICMP error message. A loopback source is one host,
     * this one: only our loopback queue brings one (ip.c drops it from a
     * link), and the error goes back through the queue. */
    if (link_bcast || !ustk__ip_is_local(s, h->dst) ||
        (h->frag & USTK_IPV4_OFFMASK))
        return;
    if (h->src == 0 || ustk__ip_is_bcast(s, h->src) ||
        ustk__ip_is_class_de(h->src))
        return;
    size_t plen = (size_t)h->total_len - h->hdr_len;
    if (h->proto == USTK_IP_PROTO_ICMP) {
        ustk_icmp_hdr inner;
        if (ustk_icmp_parse_header(pkt + h->hdr_len, plen, &inner) != 0 ||
            ustk_icmp_type_is_error(inner.type))
            return;
    }
    if (ustk__route(s, h->src) == 0)
        return; /* no way back; the datagram itself is counted already */
    if (!icmp_token(s, now)) {
        ustk__drop(s, USTK_DROP_ICMP_RATE_LIMITED, NULL, NULL, 0);
        return;
    }
    /* RFC 792: the data is the offending datagram's header and the first
     * 64 bits of its data. */
    ustk_icmp_hdr e;
    memset(&e, 0, sizeof(e));
    e.type = type;
    e.code = code;
    e.data = pkt;
    e.data_len = h->hdr_len +
                 (plen < USTK_ICMP_QUOTE_DATA ? plen : USTK_ICMP_QUOTE_DATA);
    uint8_t hdr[USTK_ICMP_HDR_LEN];
    ustk_icmp_emit_header(&e, hdr);
    /* From the address the datagram was sent to: the sender then knows
     * whom it concerns (and a loopback one stays on this host). */
    if (ustk__ip_send(s, &s->ctl, USTK_IP_PROTO_ICMP, h->dst, h->src, hdr,
                      e.data, e.data_len) != 0) {
        ustk__drop(s, USTK_DROP_TX_QUEUE_FULL, NULL, NULL, 0);
        return;
    }
    s->stats.icmp_errors_sent++;
    s->stats.icmp_out++;
}

/* RFC 1122 §3.2.2.6: answer an echo request with the same identifier,
 * sequence number and data, from the address it was sent to. A request
 * that came in fragments gets a reply in fragments. */
static void echo_reply(ustk_stack *s, const ustk_ipv4_hdr *ih,
                       const ustk_icmp_hdr *req)
{
    s->stats.icmp_echo_requests++;
    ustk_icmp_hdr rep = *req;
    rep.type = USTK_ICMP_ECHO_REPLY;
    rep.code = 0;
    uint8_t hdr[USTK_ICMP_HDR_LEN];
    ustk_icmp_emit_header(&rep, hdr);
    int r = ustk__ip_send(s, &s->dgq, USTK_IP_PROTO_ICMP, ih->dst, ih->src,
                          hdr, req->data, req->data_len);
    if (r) {
        ustk__drop(s, r == USTK_ENETUNREACH ? USTK_DROP_IP_NO_ROUTE
                                            : USTK_DROP_TX_QUEUE_FULL,
                   NULL, NULL, 0);
        return;
    }
    s->stats.icmp_echo_replies++;
    s->stats.icmp_out++;
}

/* What a datagram socket keeps of an error (type, code and the rest of
 * its header, from offender) about the datagram q quotes, which means
 * err: ustk_sock_error_info(). */
static void dgram_err_info(ustk_sock_err_info *e, uint8_t origin,
                           ustk_ip4 offender, uint8_t type, uint8_t code,
                           uint32_t rest, const ustk_icmp_quote *q, int err)
{
    memset(e, 0, sizeof(*e));
    e->err = err;
    e->origin = origin;
    e->type = type;
    e->code = code;
    if (type == USTK_ICMP_DEST_UNREACH && code == USTK_ICMP_FRAG_NEEDED)
        e->mtu = (uint16_t)rest; /* RFC 1191 §4: the low 16 bits */
    else if (type == USTK_ICMP_PARAM_PROBLEM)
        e->pointer = (uint8_t)(rest >> 24); /* RFC 792: the first octet */
    e->offender = offender;
    e->dst.addr = q->dst;
    if (q->proto == USTK_IP_PROTO_UDP) {
        e->dst.port = q->dport;
    } else if (q->proto == USTK_IP_PROTO_ICMP) {
        e->echo_id = q->echo_id;
        e->echo_seq = q->echo_seq;
    }
}

/* Hand an error about a UDP datagram or an echo request we sent to the
 * socket that sent it. Returns 0 or the drop reason (not yet counted). */
static int dgram_error(ustk_stack *s, const ustk_icmp_quote *q,
                       const ustk_sock_err_info *e, bool hard)
{
    if (q->proto == USTK_IP_PROTO_UDP)
        return ustk__dgram_icmp_error(s, USTK_PROTO_UDP, q->src, q->sport, e,
                                      hard);
    if (q->proto == USTK_IP_PROTO_ICMP &&
        q->icmp_type == USTK_ICMP_ECHO_REQUEST)
        return ustk__dgram_icmp_error(s, USTK_PROTO_ICMP, q->src, q->echo_id,
                                      e, hard);
    return USTK_DROP_ICMP_NO_MATCH; /* about no socket's datagram */
}

/* Hand an error (ih its IPv4 header) to the protocol of the datagram it
 * quotes. The quote must be of a datagram we sent; each protocol then
 * checks it is about a socket of its own (TCP also that the sequence
 * number is in flight, RFC 5927 §4.1), so a forged error needs what only
 * the path to the peer sees. */
static void error_input(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *ih,
                        const ustk_icmp_hdr *h)
{
    s->stats.icmp_errors_in++;
    ustk_icmp_quote q;
    int r = ustk_icmp_quote_parse(h, &q);
    if (r) {
        ustk__drop(s, r, NULL, NULL, 0);
        return;
    }
    /* An error comes back to the address the datagram it quotes was sent
     * from: ours from a link, ours or a loopback one from our loopback
     * queue (a link cannot bring a loopback destination, ip.c). */
    if (q.src != ih->dst) {
        ustk__drop(s, USTK_DROP_ICMP_ERR_NOT_OURS, NULL, NULL, 0);
        return;
    }
    int err;
    bool hard;
    icmp_meaning(h->type, h->code, &err, &hard);
    if (q.proto == USTK_IP_PROTO_TCP) {
        /* Counts its own drops. */
        ustk__tcp_icmp_error(s, now, &q, err, hard,
                             h->type == USTK_ICMP_DEST_UNREACH &&
                                 h->code == USTK_ICMP_FRAG_NEEDED,
                             (uint16_t)h->rest);
        return;
    }
    ustk_sock_err_info e;
    dgram_err_info(&e, USTK_ERR_ORIGIN_ICMP, ih->src, h->type, h->code, h->rest,
                   &q, err);
    r = dgram_error(s, &q, &e, hard);
    if (r)
        ustk__drop(s, r, NULL, NULL, 0);
}

void ustk__icmp_input(ustk_stack *s, ustk_time now, const ustk_ipv4_hdr *ih,
                      const uint8_t *pkt)
{
    const uint8_t *p = pkt + ih->hdr_len;
    size_t len = (size_t)ih->total_len - ih->hdr_len;
    ustk_icmp_hdr h;
    int r = ustk_icmp_parse(p, len, &h);
    if (r) {
        ustk__drop(s, r, NULL, NULL, 0);
        return;
    }
    s->stats.icmp_in++;
    switch (h.type) {
    case USTK_ICMP_ECHO_REQUEST:
        echo_reply(s, ih, &h);
        return;
    case USTK_ICMP_ECHO_REPLY:
        r = ustk__ping_input(s, ih, (uint16_t)(h.rest >> 16), p, len);
        break;
    case USTK_ICMP_DEST_UNREACH:
    case USTK_ICMP_TIME_EXCEEDED:
    case USTK_ICMP_PARAM_PROBLEM:
        error_input(s, now, ih, &h);
        return;
    case USTK_ICMP_SOURCE_QUENCH:
        /* RFC 6633 deprecates it: a host discards it. */
        s->stats.icmp_errors_in++;
        r = USTK_DROP_ICMP_SOURCE_QUENCH;
        break;
    default:
        /* RFC 1122 §3.2.2: unknown types MUST be silently discarded;
         * redirects too, as we take routes only from our own table. */
        r = USTK_DROP_ICMP_TYPE;
        break;
    }
    if (r)
        ustk__drop(s, r, NULL, NULL, 0);
}

void ustk__icmp_local_unreachable(ustk_stack *s, const uint8_t *pkt,
                                  uint32_t len)
{
    /* Our own packet has the shape of an error's quote: a header and at
     * least 8 bytes. Later fragments carry no ports and are skipped; TCP
     * learns from ustk__tcp_unreachable. */
    ustk_icmp_hdr fake;
    memset(&fake, 0, sizeof(fake));
    fake.data = pkt;
    fake.data_len = len;
    ustk_icmp_quote q;
    if (ustk_icmp_quote_parse(&fake, &q) != 0)
        return;
    /* As if we had answered ourselves "host unreachable" (which is what
     * Linux does with packets ARP gave up on): a connected socket, and a
     * ping socket, learn their peer cannot be reached, and which datagram
     * was lost. The drop is counted already (ARP_UNRESOLVED). */
    ustk_sock_err_info e;
    dgram_err_info(&e, USTK_ERR_ORIGIN_LOCAL, s->cfg.ip, USTK_ICMP_DEST_UNREACH,
                   USTK_ICMP_HOST_UNREACH, 0, &q, USTK_EHOSTUNREACH);
    (void)dgram_error(s, &q, &e, true);
}
