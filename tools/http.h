/* A small static-file HTTP/1.1 server over the ustack socket API, for
 * `ustack serve --http PORT --root DIR`.
 *
 * GET and HEAD of regular files under the root (a directory serves its
 * index.html; asked for without its trailing '/', it is redirected there
 * with a 301, as web servers do), with a Content-Type from the name of
 * the file served, Content-Length, persistent connections (HTTP/1.1 by
 * default, HTTP/1.0 with "Connection: keep-alive") and pipelined requests.
 * A path with a ".." segment is refused (403), and so is one that leads out
 * of the root through a symbolic link. A file is streamed from disk as the
 * send buffer drains: it is read (pread) only when the socket has room, so
 * a connection holds no file data of its own and a large file costs no
 * memory. Errors: 400, 403, 404, 405, 414, 431, 500, 505; after an error
 * the connection is closed.
 *
 * Nothing here waits or knows about devices: the caller runs the stack and
 * calls http_conn_step() when a connection's socket has news.
 */
#ifndef USTK_TOOLS_HTTP_H
#define USTK_TOOLS_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ustack/ustack.h"

typedef struct http_server http_server;
typedef struct http_conn http_conn;

/* root must be a directory. log: one line per request, or NULL. Returns
 * 0, or -1 after printing why (prefixed with cmd). */
int http_server_create(http_server **out, const char *root, FILE *log,
                       const char *cmd);
void http_server_destroy(http_server *h);

/* A connection just accepted (the handle now belongs to the connection). */
http_conn *http_conn_new(http_server *h, ustk_stack *s, int sock,
                         const ustk_sockaddr *peer, ustk_time now);
/* Do all the connection can do now. Returns true while it lives; false
 * when it has ended: its socket is closed and it is freed. */
bool http_conn_step(http_conn *c, ustk_time now);
/* Close connections idle since before `idle_before` (waiting for a request
 * or for the peer's FIN after ours). Returns false when c ended. */
bool http_conn_tick(http_conn *c, ustk_time now);
/* Close now (graceful, unread data discarded first) and free. */
void http_conn_close(http_conn *c, ustk_time now);

#endif
