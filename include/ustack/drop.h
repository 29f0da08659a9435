/* ustack — reasons for dropping input.
 *
 * Nothing that arrives is ever dropped silently: every parser returns one of
 * these reasons for a rejection, and the stack counts every drop by reason
 * (see ustk_stack_drops()). The list gives the enum and the strings, and
 * says which reasons are no fault of anyone's: X(name, text) for a drop
 * that tells of trouble, B(name, text) for one that does not (a frame or
 * ARP packet for another host, a protocol this stack does not speak, an
 * announcement it keeps nothing of). Tools list the B reasons apart
 * ("ignored"), so that the others stand out.
 */
#ifndef USTACK_DROP_H
#define USTACK_DROP_H

#define USTK_DROP_MAP(X, B)                                                   \
    X(NONE, "not dropped")                                                    \
    X(ETH_SHORT, "ethernet: frame shorter than its header")                   \
    B(ETH_NOT_FOR_US, "ethernet: destination MAC is not ours")                \
    B(ETH_TYPE, "ethernet: unsupported ethertype")                            \
    X(ARP_SHORT, "arp: packet too short")                                     \
    X(ARP_FORMAT, "arp: not Ethernet/IPv4 or bad lengths")                    \
    X(ARP_OP, "arp: unknown operation")                                       \
    B(ARP_NOT_FOR_US, "arp: target address is not ours")                      \
    B(ARP_ANNOUNCE, "arp: announcement from a host not in the cache")         \
    X(ARP_QUEUE_FULL, "arp: queue of packets waiting on resolution full")     \
    X(ARP_UNRESOLVED, "arp: neighbour did not answer")                        \
    X(IP_SHORT, "ipv4: packet shorter than its header")                       \
    B(IP_VERSION, "ipv4: version is not 4")                                   \
    X(IP_HDR_LEN, "ipv4: bad header length")                                  \
    X(IP_TOTAL_LEN, "ipv4: total length disagrees with the frame")            \
    X(IP_CHECKSUM, "ipv4: bad header checksum")                               \
    X(IP_SRC, "ipv4: bad source address")                                     \
    X(IP_NOT_FOR_US, "ipv4: destination is not ours")                         \
    X(IP_LINK_BCAST, "ipv4: unicast datagram in a link broadcast frame")      \
    X(IP_FRAG_BAD, "ipv4: malformed fragment (length, or past the end)")      \
    X(IP_FRAG_DUP, "ipv4: duplicate fragment")                                \
    X(IP_FRAG_OVERLAP, "ipv4: overlapping fragment (datagram discarded)")     \
    X(IP_FRAG_TOO_BIG, "ipv4: fragments reach past 65535 bytes")              \
    X(IP_FRAG_NO_MEMORY, "ipv4: reassembly memory budget exhausted")          \
    X(IP_FRAG_TABLE_FULL, "ipv4: too many datagrams under reassembly")        \
    X(IP_FRAG_TIMEOUT, "ipv4: reassembly timed out")                          \
    X(IP_PROTO, "ipv4: unsupported protocol")                                 \
    X(IP_NO_ROUTE, "ipv4: no route to destination")                           \
    X(ICMP_SHORT, "icmp: message too short")                                  \
    X(ICMP_CHECKSUM, "icmp: bad checksum")                                    \
    X(ICMP_TYPE, "icmp: type not handled")                                    \
    X(ICMP_NO_MATCH, "icmp: error about no socket of ours")                   \
    X(ICMP_BAD_SEQ, "icmp: error quoting a sequence number not in flight")    \
    X(ICMP_ERR_SHORT, "icmp: error quoting less than a header and 8 bytes")   \
    X(ICMP_ERR_QUOTE, "icmp: error quoting a malformed or later fragment")    \
    X(ICMP_ERR_NOT_OURS, "icmp: error quoting a datagram we did not send")    \
    X(ICMP_UNREPORTED, "icmp: error a datagram socket does not report")       \
    X(ICMP_SOURCE_QUENCH, "icmp: source quench ignored (RFC 6633)")           \
    X(ICMP_PMTU, "icmp: fragmentation needed that lowers no path MTU")        \
    X(ICMP_ECHO_NO_SOCKET, "icmp: echo reply for no ping socket")             \
    X(ICMP_QUEUE_FULL, "icmp: ping socket receive queue full")                \
    X(ICMP_RATE_LIMITED, "icmp: error not sent (rate limit)")                 \
    X(UDP_SHORT, "udp: datagram shorter than its header")                     \
    X(UDP_LEN, "udp: length field disagrees with the packet")                 \
    X(UDP_CHECKSUM, "udp: bad checksum")                                      \
    X(UDP_NO_SOCKET, "udp: no socket on that port")                           \
    X(UDP_NOT_PEER, "udp: not from the connected socket's peer")              \
    X(UDP_QUEUE_FULL, "udp: socket receive queue full")                       \
    X(TCP_SHORT, "tcp: segment shorter than its header")                      \
    X(TCP_HDR_LEN, "tcp: bad data offset")                                    \
    X(TCP_CHECKSUM, "tcp: bad checksum")                                      \
    X(TCP_OPTION, "tcp: malformed option")                                    \
    X(TCP_FLAGS, "tcp: impossible flag combination")                          \
    X(TCP_NO_SOCKET, "tcp: no connection or listener (answered by RST)")      \
    X(TCP_RST_NO_SOCKET, "tcp: RST for no connection")                        \
    X(TCP_LISTEN_BAD, "tcp: listener got a segment that is not a SYN")        \
    X(TCP_ACCEPT_QUEUE_FULL, "tcp: listener accept queue full")               \
    X(TCP_SYN_BACKLOG_FULL, "tcp: too many half-open connections")            \
    X(TCP_NO_MEMORY, "tcp: connection table or memory exhausted")            \
    X(TCP_UNACCEPTABLE, "tcp: sequence number outside the window (ACKed)")    \
    X(TCP_RST_OUT_OF_WINDOW, "tcp: RST outside the window")                   \
    X(TCP_RST_CHALLENGED, "tcp: RST in window but not exact (challenge ACK)") \
    X(TCP_SYN_CHALLENGED, "tcp: SYN on a synchronized connection")            \
    X(TCP_RST_TIME_WAIT, "tcp: RST in TIME-WAIT ignored (RFC 1337)")           \
    X(TCP_ACK_UNACCEPTABLE, "tcp: ACK of data never sent")                    \
    X(TCP_ACK_OLD, "tcp: ACK older than the oldest unacknowledged byte")      \
    X(TCP_NO_ACK, "tcp: segment without ACK on a synchronized connection")    \
    X(TCP_OUT_OF_ORDER, "tcp: out-of-order data not kept (no room to track)") \
    X(TCP_PAWS, "tcp: timestamp older than TS.Recent (PAWS)")                 \
    X(TCP_NO_TIMESTAMP, "tcp: no timestamp on a connection that agreed to them") \
    X(TCP_RCV_BUF_FULL, "tcp: data beyond the receive buffer")                \
    X(TCP_DATA_AFTER_FIN, "tcp: data after the peer's FIN")                   \
    X(TCP_SYN_SENT_BAD, "tcp: unacceptable segment in SYN-SENT")              \
    X(TX_QUEUE_FULL, "output: control queue full (reply not sent)")         \
    X(TX_NO_ROOM, "output: caller's buffer too small for the frame")        \
    X(LOOP_QUEUE_FULL, "ipv4: loopback queue full (packet to ourselves)")     \
    X(IP_DST_LOOPBACK, "ipv4: loopback destination (127/8) from a link")      \
    X(ARP_LOOPBACK, "arp: loopback (127/8) sender or target address")         \
    X(TX_LOOPBACK, "output: loopback address (127/8) bound for a link")

enum ustk_drop {
#define USTK__DROP_ENUM(name, text) USTK_DROP_##name,
    USTK_DROP_MAP(USTK__DROP_ENUM, USTK__DROP_ENUM)
#undef USTK__DROP_ENUM
    USTK_DROP__COUNT
};

/* Text for a drop reason; never NULL. */
const char *ustk_drop_str(int reason);
/* Short symbolic name ("TCP_CHECKSUM"); never NULL. */
const char *ustk_drop_name(int reason);
/* Whether a reason is no fault of anyone's (a B reason above): a frame or
 * ARP packet for another host, a protocol this stack does not speak
 * (IPv6), an announcement from a host not in the ARP cache (RFC 826 keeps
 * only what it has). */
int ustk_drop_benign(int reason);

#endif
