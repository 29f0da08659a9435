/* SipHash-2-4: a keyed hash. It keys the connection table (so a peer cannot
 * choose 4-tuples that collide) and makes initial sequence numbers
 * unguessable (RFC 6528 §3: ISN = M + F(localip, localport, remoteip,
 * remoteport, secretkey)). */
#ifndef USTK_UTIL_SIPHASH_H
#define USTK_UTIL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The key is read as two little-endian 64-bit words, the message byte by
 * byte, so neither needs any alignment. data may be NULL when len is 0. */
uint64_t ustk_siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
