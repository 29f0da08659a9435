/* The pcap decorator around a simulated end: the file it writes is read
 * back byte by byte (global header, each record's header and bytes), and
 * handed to tshark when it is installed; with a stack behind it, the
 * stack's packets to itself are in the file too. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "link/pcap.h"
#include "link/sim.h"
#include "ustack/ustack.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "wire/udp.h"

/* ---- helpers ---------------------------------------------------------- */

/* A fresh temporary path (the file exists, empty, until removed). */
static void temp_path(char *path, size_t cap)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/ustk_pcap_XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void check_global_header(const uint8_t *h, uint32_t linktype)
{
    /* Written little-endian: the magic reads d4 c3 b2 a1 on disk. */
    const uint8_t magic[4] = { 0xd4, 0xc3, 0xb2, 0xa1 };
    assert_memory_equal(h, magic, 4);
    assert_int_equal(le32(h), 0xa1b2c3d4u);
    assert_int_equal(le16(h + 4), 2);
    assert_int_equal(le16(h + 6), 4);
    assert_int_equal(le32(h + 8), 0);
    assert_int_equal(le32(h + 12), 0);
    assert_int_equal(le32(h + 16), 262144);
    assert_int_equal(le32(h + 20), linktype);
}

/* Check the record at *off and step past it. */
static void check_record(const uint8_t *file, size_t file_len, size_t *off,
                         ustk_time ts, const uint8_t *frame, size_t len)
{
    assert_true(*off + 16 + len <= file_len);
    const uint8_t *r = file + *off;
    assert_int_equal(le32(r), (uint32_t)(ts / 1000000u));
    assert_int_equal(le32(r + 4), (uint32_t)(ts % 1000000u));
    assert_int_equal(le32(r + 8), len);
    assert_int_equal(le32(r + 12), len);
    assert_memory_equal(r + 16, frame, len);
    *off += 16 + len;
}

static const uint8_t MAC_A[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };

/* An Ethernet ARP request (op 1) or reply (op 2) between 10.0.0.1 and
 * 10.0.0.2; 42 bytes. */
static size_t arp_frame(uint8_t *f, int op)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    const uint8_t ip_a[4] = { 10, 0, 0, 1 }, ip_b[4] = { 10, 0, 0, 2 };
    const uint8_t *src = op == 1 ? MAC_A : MAC_B;
    memcpy(f, op == 1 ? bcast : MAC_A, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x08, f[13] = 0x06;                 /* EtherType ARP */
    f[14] = 0x00, f[15] = 0x01;                 /* hardware: Ethernet */
    f[16] = 0x08, f[17] = 0x00;                 /* protocol: IPv4 */
    f[18] = 6, f[19] = 4;
    f[20] = 0x00, f[21] = (uint8_t)op;
    memcpy(f + 22, src, 6);
    memcpy(f + 28, op == 1 ? ip_a : ip_b, 4);
    if (op == 1)
        memset(f + 32, 0, 6);
    else
        memcpy(f + 32, MAC_A, 6);
    memcpy(f + 38, op == 1 ? ip_b : ip_a, 4);
    return 42;
}

/* A bare IPv4 packet carrying UDP 1234 -> 5678 with `payload` bytes. */
static size_t udp_packet(uint8_t *p, size_t payload)
{
    size_t total = 20 + 8 + payload;
    memset(p, 0, total);
    p[0] = 0x45;
    p[2] = (uint8_t)(total >> 8), p[3] = (uint8_t)total;
    p[8] = 64;
    p[9] = 17;
    const uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 };
    memcpy(p + 12, src, 4);
    memcpy(p + 16, dst, 4);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    p[10] = (uint8_t)(~sum >> 8), p[11] = (uint8_t)~sum;
    p[20] = 1234 >> 8, p[21] = 1234 & 0xff;
    p[22] = 5678 >> 8, p[23] = 5678 & 0xff;
    p[24] = (uint8_t)((8 + payload) >> 8), p[25] = (uint8_t)(8 + payload);
    /* UDP checksum 0: none, which IPv4 allows (RFC 768). */
    for (size_t i = 0; i < payload; i++)
        p[28 + i] = (uint8_t)('a' + i % 26);
    return total;
}

static void make_sim(ustk_link **a, ustk_link **b, ustk_link_kind kind)
{
    ustk_sim_params p;
    ustk_sim_params_default(&p);
    p.kind = kind;
    p.latency = USTK_MS(2);
    assert_int_equal(ustk_sim_pair_create(a, b, &p), 0);
}

/* ---- tests ------------------------------------------------------------ */

static void test_records_sent_and_received(void **state)
{
    (void)state;
    char path[256];
    temp_path(path, sizeof path);
    ustk_link *a, *b, *cap;
    make_sim(&a, &b, USTK_LINK_ETHERNET);
    assert_int_equal(ustk_pcap_link_create(&cap, a, path), 0);
    assert_int_equal(cap->kind, USTK_LINK_ETHERNET);

    uint8_t req[64], rep[64], rx[USTK_LINK_FRAME_MAX];
    size_t req_len = arp_frame(req, 1), rep_len = arp_frame(rep, 2), len = 0;
    /* Times with a whole-second part, to check the split. */
    const ustk_time t0 = USTK_SEC(1700000000) + 123456;
    const ustk_time t1 = t0 + 500;
    const ustk_time t_rx = t0 + USTK_SEC(3) + 999999;

    assert_int_equal(ustk_link_send(cap, t0, req, req_len), 0);
    req[41] = 3; /* a second request, for 10.0.0.3 */
    assert_int_equal(ustk_link_send(cap, t1, req, req_len), 0);
    /* A frame the inner link refuses is not recorded. */
    uint8_t *huge = calloc(1, USTK_LINK_FRAME_MAX + 1);
    assert_non_null(huge);
    assert_int_equal(ustk_link_send(cap, t1, huge, USTK_LINK_FRAME_MAX + 1), USTK_EMSGSIZE);
    free(huge);

    /* b answers; the decorator forwards next_arrival and records on recv. */
    assert_int_equal(ustk_link_recv(b, t0 + USTK_MS(2), rx, sizeof rx, &len), 0);
    assert_int_equal(ustk_link_send(b, t0 + USTK_MS(2), rep, rep_len), 0);
    assert_int_equal(ustk_link_next_arrival(cap, 0), t0 + USTK_MS(4));
    assert_int_equal(ustk_link_recv(cap, t0, rx, sizeof rx, &len), USTK_EAGAIN);
    assert_int_equal(ustk_link_recv(cap, t_rx, rx, sizeof rx, &len), 0);
    assert_int_equal(len, rep_len);
    assert_true(ustk_link_next_arrival(cap, 0) == USTK_TIME_NEVER);
    assert_int_equal(cap->ops->fd(cap), -1);

    ustk_link_destroy(cap); /* also destroys a */
    ustk_link_destroy(b);

    size_t flen;
    uint8_t *file = read_file(path, &flen);
    assert_int_equal(flen, 24 + 3 * (16 + 42));
    check_global_header(file, 1);
    size_t off = 24;
    req[41] = 2;
    check_record(file, flen, &off, t0, req, req_len);
    req[41] = 3;
    check_record(file, flen, &off, t1, req, req_len);
    check_record(file, flen, &off, t_rx, rep, rep_len); /* the time of recv */
    assert_int_equal(off, flen);
    free(file);
    assert_int_equal(remove(path), 0);
}

static void test_ip_linktype(void **state)
{
    (void)state;
    char path[256];
    temp_path(path, sizeof path);
    ustk_link *a, *b, *cap;
    make_sim(&a, &b, USTK_LINK_IP);
    assert_int_equal(ustk_pcap_link_create(&cap, a, path), 0);
    assert_int_equal(cap->kind, USTK_LINK_IP);

    uint8_t pkt[128];
    size_t n = udp_packet(pkt, 11);
    assert_int_equal(ustk_link_send(cap, 42, pkt, n), 0);
    ustk_link_destroy(cap);
    ustk_link_destroy(b);

    size_t flen;
    uint8_t *file = read_file(path, &flen);
    check_global_header(file, 228);
    size_t off = 24;
    check_record(file, flen, &off, 42, pkt, n);
    assert_int_equal(off, flen);
    free(file);
    assert_int_equal(remove(path), 0);
}

static void test_flush_while_open(void **state)
{
    (void)state;
    char path[256];
    temp_path(path, sizeof path);
    ustk_link *a, *b, *cap;
    make_sim(&a, &b, USTK_LINK_ETHERNET);
    assert_int_equal(ustk_pcap_link_create(&cap, a, path), 0);
    uint8_t f[64];
    size_t n = arp_frame(f, 1);
    assert_int_equal(ustk_link_send(cap, 1, f, n), 0);
    assert_int_equal(ustk_pcap_link_flush(cap), 0);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 24 + 16 + 42);

    /* Only a pcap decorator can be flushed. */
    assert_int_equal(ustk_pcap_link_flush(b), USTK_EINVAL);
    assert_int_equal(ustk_pcap_link_flush(NULL), USTK_EINVAL);
    ustk_link_destroy(cap);
    ustk_link_destroy(b);
    assert_int_equal(remove(path), 0);
}

static void test_open_failure_leaves_inner(void **state)
{
    (void)state;
    ustk_link *a, *b, *cap = (ustk_link *)&cap;
    make_sim(&a, &b, USTK_LINK_ETHERNET);
    int rc = ustk_pcap_link_create(&cap, a, "/nonexistent-ustk-dir/x.pcap");
    assert_int_equal(rc, -ENOENT);
    assert_null(cap);
    assert_int_equal(ustk_pcap_link_create(&cap, NULL, "/tmp/x"), USTK_EINVAL);
    assert_int_equal(ustk_pcap_link_create(&cap, a, NULL), USTK_EINVAL);

    /* A file that takes no bytes fails at once, and is left alone. */
    struct stat st;
    if (stat("/dev/full", &st) == 0) {
        assert_int_equal(ustk_pcap_link_create(&cap, a, "/dev/full"), -ENOSPC);
        assert_null(cap);
        assert_int_equal(stat("/dev/full", &st), 0);
    }

    /* a is still ours and still works. */
    uint8_t f[64];
    size_t n = arp_frame(f, 1);
    assert_int_equal(ustk_link_send(a, 0, f, n), 0);
    ustk_link_destroy(a);
    ustk_link_destroy(b);
}

/* Run tshark on a file; returns its exit status and the number of packet
 * lines it printed, or -1 when it could not be run. */
static int run_tshark(const char *path, int *lines, char *out, size_t out_cap)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "tshark -n -r '%s' 2>/dev/null", path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[1024];
    size_t used = 0;
    *lines = 0;
    out[0] = '\0';
    while (fgets(line, sizeof line, p)) {
        (*lines)++;
        size_t l = strlen(line);
        if (used + l < out_cap) {
            memcpy(out + used, line, l + 1);
            used += l;
        }
    }
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_tshark_reads_files(void **state)
{
    (void)state;
    if (system("command -v tshark >/dev/null 2>&1") != 0) {
        print_message("tshark is not installed: skipping the tshark check\n");
        skip();
    }
    char eth_path[256], ip_path[256];
    temp_path(eth_path, sizeof eth_path);
    temp_path(ip_path, sizeof ip_path);

    ustk_link *a, *b, *cap;
    make_sim(&a, &b, USTK_LINK_ETHERNET);
    assert_int_equal(ustk_pcap_link_create(&cap, a, eth_path), 0);
    uint8_t f[USTK_LINK_FRAME_MAX];
    size_t n = arp_frame(f, 1), len;
    assert_int_equal(ustk_link_send(cap, USTK_SEC(10), f, n), 0);
    assert_int_equal(ustk_link_recv(b, USTK_SEC(11), f, sizeof f, &len), 0);
    n = arp_frame(f, 2);
    assert_int_equal(ustk_link_send(b, USTK_SEC(11), f, n), 0);
    assert_int_equal(ustk_link_recv(cap, USTK_SEC(12), f, sizeof f, &len), 0);
    ustk_link_destroy(cap);
    ustk_link_destroy(b);

    make_sim(&a, &b, USTK_LINK_IP);
    assert_int_equal(ustk_pcap_link_create(&cap, a, ip_path), 0);
    n = udp_packet(f, 100);
    assert_int_equal(ustk_link_send(cap, USTK_SEC(1), f, n), 0);
    n = udp_packet(f, 1400);
    assert_int_equal(ustk_link_send(cap, USTK_SEC(2), f, n), 0);
    ustk_link_destroy(cap);
    ustk_link_destroy(b);

    char out[4096];
    int lines;
    assert_int_equal(run_tshark(eth_path, &lines, out, sizeof out), 0);
    assert_int_equal(lines, 2);
    assert_non_null(strstr(out, "ARP"));
    assert_non_null(strstr(out, "10.0.0.2"));

    assert_int_equal(run_tshark(ip_path, &lines, out, sizeof out), 0);
    assert_int_equal(lines, 2);
    assert_non_null(strstr(out, "UDP"));
    assert_non_null(strstr(out, "5678"));

    assert_int_equal(remove(eth_path), 0);
    assert_int_equal(remove(ip_path), 0);
}

/* ---- a stack's packets to itself ----------------------------------------- */

#define LO_A USTK_IP4(10, 0, 0, 1)
#define LO_PEER USTK_IP4(10, 0, 0, 2)
#define LO_1 USTK_IP4(127, 0, 0, 1)
#define LO_X USTK_IP4(127, 1, 2, 3)
#define LO_BYTES 20000
#define LO_PORT 4001 /* a port tshark has no dissector for */

static uint8_t lo_out[2][LO_BYTES], lo_in[2][LO_BYTES];
/* What the capture shows of the TCP conversation: the payload each way. */
static uint8_t lo_seen[2][LO_BYTES];
static size_t lo_seen_len[2];

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* Pump the stack and its link, moving the clock to each deadline, until
 * nothing is due within a second (delayed ACKs are; TIME-WAIT is not). */
static void lo_run(ustk_stack *s, ustk_link *l, ustk_time *now)
{
    for (int i = 0; i < 100000; i++) {
        ustk_pump(s, l, *now);
        ustk_time d = ustk_next_deadline(s, *now);
        if (d > *now + USTK_SEC(1))
            return;
        if (d > *now)
            *now = d;
    }
    fail_msg("the stack never settled");
}

/* An echo request to dst from ping socket p, and its reply. */
static void lo_ping(ustk_stack *s, ustk_link *l, ustk_time *now, int p,
                    ustk_ip4 dst, uint8_t seq)
{
    uint8_t req[8 + 32] = { 8, 0, 0, 0, 0, 0, 0, seq }, got[64];
    memset(req + 8, seq, 32);
    ustk_sockaddr to = { dst, 0 }, from;
    assert_int_equal(ustk_sendto(s, p, req, sizeof req, &to, *now),
                     (ptrdiff_t)sizeof req);
    lo_run(s, l, now);
    assert_int_equal(ustk_recvfrom(s, p, got, sizeof got, &from, *now),
                     (ptrdiff_t)sizeof req);
    assert_int_equal(from.addr, dst);
}

/* The conversations: pings to 127.0.0.1 and to our own address, a UDP
 * datagram to 127.1.2.3 and its answer, and a TCP connection to
 * 127.0.0.1 that carries LO_BYTES each way and closes. Returns the
 * packets the stack sent to itself. */
static uint64_t lo_converse(ustk_stack *s, ustk_link *l, ustk_time *now)
{
    int p = ustk_open(s, USTK_PROTO_ICMP);
    lo_ping(s, l, now, p, LO_1, 1);
    lo_ping(s, l, now, p, LO_A, 2);

    int srv = ustk_open(s, USTK_PROTO_UDP), cli = ustk_open(s, USTK_PROTO_UDP);
    ustk_sockaddr any7 = { 0, 7 }, to = { LO_X, 7 }, from;
    uint8_t got[16];
    assert_int_equal(ustk_bind(s, srv, &any7), 0);
    assert_int_equal(ustk_sendto(s, cli, "hello", 5, &to, *now), 5);
    lo_run(s, l, now);
    assert_int_equal(ustk_recvfrom(s, srv, got, sizeof got, &from, *now), 5);
    assert_int_equal(ustk_sendto(s, srv, "world", 5, &from, *now), 5);
    lo_run(s, l, now);
    assert_int_equal(ustk_recv(s, cli, got, sizeof got, *now), 5);

    uint64_t segs0 = 0;
    ustk_stack_stats st;
    ustk_stack_stats_get(s, &st);
    segs0 = st.tcp_segs_out;
    int lis = ustk_open(s, USTK_PROTO_TCP), c = ustk_open(s, USTK_PROTO_TCP);
    ustk_sockaddr any_p = { 0, LO_PORT }, to_p = { LO_1, LO_PORT };
    assert_int_equal(ustk_bind(s, lis, &any_p), 0);
    assert_int_equal(ustk_listen(s, lis, 1), 0);
    assert_int_equal(ustk_connect(s, c, &to_p, *now), USTK_EINPROGRESS);
    lo_run(s, l, now);
    int a = ustk_accept(s, lis, NULL);
    assert_true(a >= 0);
    for (int d = 0; d < 2; d++)
        for (size_t i = 0; i < LO_BYTES; i++)
            lo_out[d][i] = (uint8_t)(i * 7 + d * 101 + (i >> 9));
    size_t sent[2] = { 0, 0 }, rcvd[2] = { 0, 0 };
    int from_sock[2] = { c, a }, to_sock[2] = { a, c };
    for (int round = 0; round < 10000 && (rcvd[0] < LO_BYTES ||
                                          rcvd[1] < LO_BYTES); round++) {
        for (int d = 0; d < 2; d++) {
            ptrdiff_t n;
            if (sent[d] < LO_BYTES &&
                (n = ustk_send(s, from_sock[d], lo_out[d] + sent[d],
                               LO_BYTES - sent[d], *now)) > 0)
                sent[d] += (size_t)n;
            while ((n = ustk_recv(s, to_sock[d], lo_in[d] + rcvd[d],
                                  LO_BYTES - rcvd[d], *now)) > 0)
                rcvd[d] += (size_t)n;
        }
        lo_run(s, l, now);
    }
    for (int d = 0; d < 2; d++) {
        assert_int_equal(rcvd[d], LO_BYTES);
        assert_memory_equal(lo_in[d], lo_out[d], LO_BYTES);
    }
    assert_int_equal(ustk_close(s, c, *now), 0);
    lo_run(s, l, now);
    assert_int_equal(ustk_close(s, a, *now), 0);
    lo_run(s, l, now);
    ustk_stack_stats_get(s, &st);
    assert_int_equal(st.tcp_retransmits, 0);
    /* 2 pings, 2 datagrams, each way; every TCP segment. */
    return 4 + 2 + (st.tcp_segs_out - segs0);
}

/* Check one record that holds a packet of the stack to itself: valid
 * IPv4 (header checksum), addresses of this host at both ends, TCP and
 * UDP checksums good; gather TCP payload by direction. */
static void lo_check_packet(const uint8_t *pkt, size_t len)
{
    ustk_ipv4_hdr h;
    assert_int_equal(ustk_ipv4_parse(pkt, len, &h), 0);
    assert_int_equal(h.total_len, len);
    assert_true((h.src >> 24) == 127 || h.src == LO_A);
    assert_true((h.dst >> 24) == 127 || h.dst == LO_A);
    const uint8_t *l4 = pkt + h.hdr_len;
    size_t l4len = len - h.hdr_len;
    if (h.proto == USTK_IP_PROTO_TCP) {
        ustk_tcp_hdr t;
        assert_int_equal(ustk_tcp_parse(l4, l4len, h.src, h.dst, true, &t),
                         0);
        int d = t.dport == LO_PORT ? 0 : 1; /* client to server is 0 */
        size_t n = l4len - t.hdr_len;
        assert_true(lo_seen_len[d] + n <= LO_BYTES);
        memcpy(lo_seen[d] + lo_seen_len[d], l4 + t.hdr_len, n);
        lo_seen_len[d] += n;
    } else if (h.proto == USTK_IP_PROTO_UDP) {
        ustk_udp_hdr u;
        assert_int_equal(ustk_udp_parse(l4, l4len, h.src, h.dst, &u), 0);
        assert_int_equal(u.len, 8 + 5);
    } else {
        assert_int_equal(h.proto, USTK_IP_PROTO_ICMP);
    }
}

/* Lines tshark prints for the packets of a file that match a display
 * filter, with every checksum verified; -1 when it cannot be run. */
static int tshark_count(const char *path, const char *filter)
{
    char cmd[768];
    snprintf(cmd, sizeof cmd,
             "tshark -n -r '%s' -o ip.check_checksum:TRUE "
             "-o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE "
             "-Y '%s' 2>/dev/null",
             path, filter);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, p))
        n++;
    int status = pclose(p);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? n : -1;
}

/* A stack on one end of a simulated pair behind the recorder, asked to
 * record its packets to itself too: the file holds every link frame and
 * every such packet exactly once, in order, in the file's link type (on
 * Ethernet behind a header of zero addresses and type IPv4, as lo shows
 * them), whole and with good checksums, and the TCP payload it shows
 * each way is what was sent. After the recording of them stops, they
 * are not recorded. tshark, when installed, reads the file the same. */
static void loopback_recorded(ustk_link_kind kind)
{
    char path[256];
    temp_path(path, sizeof path);
    ustk_link *a, *b, *cap;
    make_sim(&a, &b, kind);
    assert_int_equal(ustk_pcap_link_create(&cap, a, path), 0);
    ustk_config c;
    ustk_config_default(&c);
    c.link = kind;
    c.ip = LO_A;
    c.prefix_len = 24;
    c.gateway = USTK_IP4(10, 0, 0, 254);
    memcpy(c.mac, MAC_A, 6);
    ustk_stack *s = NULL;
    ustk_time now = USTK_SEC(1);
    assert_int_equal(ustk_stack_create(&s, &c, now), 0);
    assert_int_equal(ustk_pcap_link_capture_loopback(cap, s), 0);
    assert_int_equal(ustk_pcap_link_capture_loopback(b, s), USTK_EINVAL);
    lo_run(s, cap, &now); /* the gratuitous ARP on Ethernet */
    if (kind == USTK_LINK_IP) {
        /* A datagram that does cross the link. */
        int u = ustk_open(s, USTK_PROTO_UDP);
        ustk_sockaddr peer = { LO_PEER, 9 };
        assert_int_equal(ustk_sendto(s, u, "out", 3, &peer, now), 3);
        lo_run(s, cap, &now);
    }
    uint64_t loops = lo_converse(s, cap, &now);

    /* Stopped: a ping to ourselves is no longer recorded. */
    assert_int_equal(ustk_pcap_link_capture_loopback(cap, NULL), 0);
    int p = ustk_open(s, USTK_PROTO_ICMP);
    lo_ping(s, cap, &now, p, LO_1, 3);
    ustk_stack_stats st;
    ustk_stack_stats_get(s, &st);
    uint64_t link_frames = st.frames_out + st.frames_in;
    assert_int_equal(link_frames, 1);
    assert_int_equal(ustk_pcap_link_flush(cap), 0);
    ustk_stack_destroy(s); /* first: it points at the recorder */
    ustk_link_destroy(cap);
    ustk_link_destroy(b);

    size_t flen;
    uint8_t *file = read_file(path, &flen);
    check_global_header(file, kind == USTK_LINK_IP ? 228 : 1);
    size_t off = 24;
    uint64_t nlink = 0, nloop = 0;
    uint32_t last_sec = 0, last_usec = 0;
    memset(lo_seen_len, 0, sizeof lo_seen_len);
    while (off < flen) {
        assert_true(off + 16 <= flen);
        const uint8_t *r = file + off;
        uint32_t sec = le32(r), usec = le32(r + 4), incl = le32(r + 8);
        assert_int_equal(le32(r + 12), incl);
        assert_true(off + 16 + incl <= flen);
        assert_true(sec > last_sec || (sec == last_sec && usec >= last_usec));
        last_sec = sec;
        last_usec = usec;
        const uint8_t *f = r + 16;
        if (kind == USTK_LINK_ETHERNET) {
            static const uint8_t zero[12];
            assert_true(incl >= 14);
            if (memcmp(f, zero, 12) == 0) {
                assert_int_equal(f[12], 0x08);
                assert_int_equal(f[13], 0x00);
                lo_check_packet(f + 14, incl - 14);
                nloop++;
            } else {
                assert_memory_equal(f + 6, MAC_A, 6); /* ours, on the link */
                nlink++;
            }
        } else {
            ustk_ipv4_hdr h;
            assert_int_equal(ustk_ipv4_parse(f, incl, &h), 0);
            if (h.dst == LO_PEER) {
                nlink++;
            } else {
                lo_check_packet(f, incl);
                nloop++;
            }
        }
        off += 16 + incl;
    }
    assert_int_equal(off, flen);
    assert_int_equal(nlink, link_frames);
    assert_int_equal(nloop, loops);
    for (int d = 0; d < 2; d++) {
        assert_int_equal(lo_seen_len[d], LO_BYTES);
        assert_true(fnv(lo_seen[d], LO_BYTES) == fnv(lo_out[d], LO_BYTES));
    }
    free(file);

    if (system("command -v tshark >/dev/null 2>&1") == 0) {
        assert_int_equal(tshark_count(path, "frame"), (int)(nlink + nloop));
        assert_int_equal(tshark_count(path, "ip.dst == 127.0.0.0/8"),
                         (int)(nloop - 2));
        assert_int_equal(tshark_count(path, "ip.src == 10.0.0.1 && "
                                            "ip.dst == 10.0.0.1"), 2);
        assert_int_equal(tshark_count(path, "tcp.checksum.status == 1"),
                         (int)(nloop - 6));
        assert_int_equal(tshark_count(path, "icmp"), 4);
        assert_int_equal(
            tshark_count(path, "_ws.malformed || ip.checksum.status == 0 || "
                               "tcp.checksum.status == 0 || "
                               "udp.checksum.status == 0 || "
                               "_ws.expert.severity >= 6291456"),
            0);
        if (kind == USTK_LINK_ETHERNET)
            assert_int_equal(tshark_count(path, "eth.src == 00:00:00:00:00:00 "
                                                "&& eth.dst == "
                                                "00:00:00:00:00:00"),
                             (int)nloop);
    } else {
        print_message("tshark is not installed: the file is checked by "
                      "hand only\n");
    }
    assert_int_equal(remove(path), 0);
}

static void test_loopback_recorded_eth(void **state)
{
    (void)state;
    loopback_recorded(USTK_LINK_ETHERNET);
}

static void test_loopback_recorded_ip(void **state)
{
    (void)state;
    loopback_recorded(USTK_LINK_IP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_sent_and_received),
        cmocka_unit_test(test_ip_linktype),
        cmocka_unit_test(test_flush_while_open),
        cmocka_unit_test(test_open_failure_leaves_inner),
        cmocka_unit_test(test_tshark_reads_files),
        cmocka_unit_test(test_loopback_recorded_eth),
        cmocka_unit_test(test_loopback_recorded_ip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
