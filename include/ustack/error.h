/* ustack — error codes.
 *
 * Every fallible call returns a negative USTK_E* code on failure. The codes
 * and their strings come from one list, so they can never drift apart. The
 * numeric values match Linux errno (negated) so that the POSIX layer can pass
 * them through unchanged.
 */
#ifndef USTACK_ERROR_H
#define USTACK_ERROR_H

#define USTK_ERRNO_MAP(X)                                                     \
    X(ENOENT, 2, "no such entry")                                            \
    X(EBADF, 9, "bad socket handle")                                          \
    X(EAGAIN, 11, "resource temporarily unavailable (would block)")           \
    X(ENOMEM, 12, "out of memory")                                            \
    X(EACCES, 13, "permission denied (broadcast or multicast destination)")   \
    X(EEXIST, 17, "entry exists already")                                     \
    X(EINVAL, 22, "invalid argument")                                         \
    X(EMFILE, 24, "socket table full")                                        \
    X(EPIPE, 32, "broken pipe: the sending side is shut down")                \
    X(EPROTO, 71, "protocol error")                                           \
    X(EDESTADDRREQ, 89, "destination address required")                      \
    X(EMSGSIZE, 90, "message too long")                                       \
    X(ENOPROTOOPT, 92, "protocol not available (protocol unreachable)")       \
    X(EPROTONOSUPPORT, 93, "protocol not supported")                          \
    X(EOPNOTSUPP, 95, "operation not supported on this socket")               \
    X(EADDRINUSE, 98, "address already in use")                               \
    X(EADDRNOTAVAIL, 99, "address not available")                             \
    X(ENETUNREACH, 101, "network is unreachable")                             \
    X(ECONNABORTED, 103, "connection aborted")                                \
    X(ECONNRESET, 104, "connection reset by peer")                            \
    X(ENOBUFS, 105, "no buffer space available")                              \
    X(EISCONN, 106, "socket is already connected")                            \
    X(ENOTCONN, 107, "socket is not connected")                               \
    X(ETIMEDOUT, 110, "connection timed out")                                 \
    X(ECONNREFUSED, 111, "connection refused")                                \
    X(EHOSTUNREACH, 113, "no route to host")                                  \
    X(EALREADY, 114, "operation already in progress")                         \
    X(EINPROGRESS, 115, "operation now in progress")

enum ustk_error {
    USTK_OK = 0,
#define USTK__ERR_ENUM(name, num, text) USTK_##name = -(num),
    USTK_ERRNO_MAP(USTK__ERR_ENUM)
#undef USTK__ERR_ENUM
};

/* Human-readable text for a code (0 or negative); never NULL. */
const char *ustk_strerror(int err);
/* The symbolic name ("ECONNREFUSED") for a code; never NULL. */
const char *ustk_errname(int err);

#endif
