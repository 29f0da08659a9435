/* A small static-file HTTP/1.1 server over the ustack socket API. */
#include "http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define HTTP_REQ_MAX 8192          /* request line and headers */
#define HTTP_HDR_MAX 512           /* our response headers */
#define HTTP_CHUNK (256u * 1024u)  /* file bytes read per send */
#define HTTP_IDLE USTK_SEC(30)     /* waiting for a request */
#define HTTP_LINGER USTK_SEC(10)   /* waiting for the FIN after ours */

struct http_server {
    char *root;     /* realpath of the root */
    size_t root_len;
    FILE *log;
    const char *cmd;
    uint8_t *chunk; /* file bytes on their way into a send buffer */
    uint32_t snd_buf;
};

typedef enum {
    ST_READ,  /* reading a request */
    ST_SEND,  /* sending a response */
    ST_DRAIN  /* our FIN is out: discard until the peer's */
} conn_state;

struct http_conn {
    http_server *h;
    ustk_stack *s;
    int sock;
    ustk_sockaddr peer;
    conn_state st;
    ustk_time last; /* when it last made progress */
    bool close_after;
    /* The request being read; bytes after its end are the next one. */
    char req[HTTP_REQ_MAX + 1];
    size_t req_len;
    /* The response: headers, then body_len bytes of fd (none for HEAD or
     * an error, whose short body is in the headers buffer). */
    char hdr[HTTP_HDR_MAX + 256];
    size_t hdr_len, hdr_off;
    int fd;
    uint64_t body_len, body_off;
};

/* ---- the server ----------------------------------------------------------- */

int http_server_create(http_server **out, const char *root, FILE *log,
                       const char *cmd)
{
    http_server *h = calloc(1, sizeof *h);
    struct stat sb;

    if (!h) {
        fprintf(stderr, "%s: out of memory\n", cmd);
        return -1;
    }
    h->log = log;
    h->cmd = cmd;
    h->root = realpath(root, NULL);
    if (!h->root) {
        fprintf(stderr, "%s: --root %s: %s\n", cmd, root, strerror(errno));
        goto fail;
    }
    if (stat(h->root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "%s: --root %s: not a directory\n", cmd, root);
        goto fail;
    }
    h->root_len = strlen(h->root);
    if (h->root_len == 1) /* "/": every path is under it */
        h->root_len = 0;
    h->chunk = malloc(HTTP_CHUNK);
    if (!h->chunk) {
        fprintf(stderr, "%s: out of memory\n", cmd);
        goto fail;
    }
    *out = h;
    return 0;
fail:
    free(h->root);
    free(h);
    return -1;
}

void http_server_destroy(http_server *h)
{
    if (!h)
        return;
    free(h->chunk);
    free(h->root);
    free(h);
}

http_conn *http_conn_new(http_server *h, ustk_stack *s, int sock,
                         const ustk_sockaddr *peer, ustk_time now)
{
    http_conn *c = calloc(1, sizeof *c);

    if (!c)
        return NULL;
    c->h = h;
    c->s = s;
    c->sock = sock;
    c->peer = *peer;
    c->st = ST_READ;
    c->last = now;
    c->fd = -1;
    if (!h->snd_buf)
        h->snd_buf = ustk_stack_config(s)->snd_buf;
    return c;
}

static void end_conn(http_conn *c, ustk_time now)
{
    if (c->fd >= 0)
        close(c->fd);
    (void)ustk_close(c->s, c->sock, now);
    free(c);
}

void http_conn_close(http_conn *c, ustk_time now)
{
    char sink[4096];

    /* Unread bytes would turn the close into a reset (RFC 2525 §2.17). */
    while (ustk_recv(c->s, c->sock, sink, sizeof sink, now) > 0)
        ;
    end_conn(c, now);
}

/* ---- responses ------------------------------------------------------------ */

static const char *reason(int code)
{
    switch (code) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

static void log_req(http_conn *c, const char *line, int code, uint64_t bytes)
{
    char peer[32];

    if (!c->h->log)
        return;
    snprintf(peer, sizeof peer, "%u.%u.%u.%u:%u", c->peer.addr >> 24,
             (c->peer.addr >> 16) & 255, (c->peer.addr >> 8) & 255,
             c->peer.addr & 255, c->peer.port);
    fprintf(c->h->log, "%s: http %s \"%s\" %d %llu\n", c->h->cmd, peer, line,
            code, (unsigned long long)bytes);
}

/* An error: a short text body, and the connection closes after it. */
static void respond_error(http_conn *c, int code, bool head)
{
    char body[96];
    int n = snprintf(body, sizeof body, "%d %s\n", code, reason(code));

    c->close_after = true;
    c->hdr_len = (size_t)snprintf(
        c->hdr, sizeof c->hdr,
        "HTTP/1.1 %d %s\r\nServer: ustack\r\nContent-Type: text/plain\r\n"
        "Content-Length: %d\r\n%sConnection: close\r\n\r\n%s",
        code, reason(code), n, code == 405 ? "Allow: GET, HEAD\r\n" : "",
        head ? "" : body);
    c->hdr_off = 0;
    c->body_len = c->body_off = 0;
}

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        { ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" },
        { ".txt", "text/plain; charset=utf-8" }, { ".css", "text/css" },
        { ".js", "text/javascript" },            { ".json", "application/json" },
        { ".png", "image/png" },                 { ".jpg", "image/jpeg" },
        { ".jpeg", "image/jpeg" },               { ".gif", "image/gif" },
        { ".svg", "image/svg+xml" },             { ".pdf", "application/pdf" },
    };
    const char *dot = strrchr(path, '.');

    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* The path of a request target (RFC 9112 §3.2): where it starts, and its
 * length, up to the query. The absolute-form's scheme and authority
 * (§3.2.2) are skipped; an absolute-form without a path has none. */
static const char *target_path(const char *target, size_t *len)
{
    const char *p = target;

    if (strncasecmp(p, "http://", 7) == 0) {
        p = strchr(p + 7, '/');
        if (!p) {
            *len = 0;
            return target + strlen(target);
        }
    }
    *len = strcspn(p, "?#");
    return p;
}

/* The request target into a path relative to the root: percent-decoded,
 * without query, empty and "." segments. Returns 0, or the status code of
 * the refusal (400 malformed, 403 a ".." segment, 414 too long). */
static int target_to_path(const char *target, char *out, size_t cap)
{
    char dec[PATH_MAX];
    size_t n = 0, o = 0, len;
    const char *p = target_path(target, &len), *end = p + len;

    if (len == 0 && p != target) /* absolute-form without a path: "/" */
        p = end = "/";
    if (*p != '/')
        return 400;
    for (; p < end; p++) {
        char ch = *p;
        if (ch == '%') {
            int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;
            if (hi < 0 || lo < 0)
                return 400;
            ch = (char)(hi * 16 + lo);
            p += 2;
            if (ch == '\0')
                return 400;
        }
        if (n + 1 >= sizeof dec)
            return 414;
        dec[n++] = ch;
    }
    dec[n] = '\0';
    /* Segment by segment: ".." would climb out of the root. */
    for (char *seg = dec, *next; seg; seg = next) {
        next = strchr(seg, '/');
        if (next)
            *next++ = '\0';
        if (seg[0] == '\0' || strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0)
            return 403;
        size_t sl = strlen(seg);
        if (o + sl + 2 >= cap)
            return 414;
        if (o)
            out[o++] = '/';
        memcpy(out + o, seg, sl);
        o += sl;
    }
    out[o] = '\0';
    return 0;
}

/* 301 to the target with a '/' after its path (the query kept), as web
 * servers answer a directory asked for without one. Like a 200, it keeps
 * the connection unless the request closes it. Returns false when the
 * Location does not fit in the response headers. */
static bool respond_redirect(http_conn *c, const char *target, int minor,
                             bool keep, bool head)
{
    static const char body[] = "301 Moved Permanently\n";
    size_t plen;
    const char *path = target_path(target, &plen);
    int n;

    n = snprintf(c->hdr, sizeof c->hdr,
                 "HTTP/1.%d 301 Moved Permanently\r\nServer: ustack\r\n"
                 "Location: %.*s/%s\r\nContent-Type: text/plain\r\n"
                 "Content-Length: %zu\r\nConnection: %s\r\n\r\n%s",
                 minor, (int)plen, path, path + plen, sizeof body - 1,
                 keep ? "keep-alive" : "close", head ? "" : body);
    if (n < 0 || (size_t)n >= sizeof c->hdr)
        return false;
    c->close_after = !keep;
    c->hdr_len = (size_t)n;
    c->hdr_off = 0;
    c->body_len = c->body_off = 0;
    return true;
}

/* Is resolved (a realpath) the root or under it? */
static bool under_root(const http_server *h, const char *resolved)
{
    return strncmp(resolved, h->root, h->root_len) == 0 &&
           (resolved[h->root_len] == '\0' || resolved[h->root_len] == '/');
}

/* Open what a relative path names: a regular file, or a directory's
 * index.html when the request's path ended in '/' (slash); a directory
 * asked for without it is -301, so that relative links in its index
 * resolve against the directory. Returns the fd with *size set and *index
 * telling whether it is the directory's index.html, or minus a status code. */
static int open_file(const http_server *h, const char *rel, bool slash,
                     uint64_t *size, bool *index)
{
    char full[PATH_MAX * 2], *res;
    struct stat sb;
    int fd, err;

    snprintf(full, sizeof full, "%s/%s", h->root_len ? h->root : "", rel);
    for (int tries = 0; tries < 2; tries++) {
        res = realpath(full, NULL);
        if (!res) {
            err = errno;
            return err == ENOENT || err == ENOTDIR ? -404 : err == EACCES ? -403
                   : err == ENAMETOOLONG                 ? -414
                                                         : -500;
        }
        /* A symbolic link out of the root is as bad as "..". */
        if (!under_root(h, res)) {
            free(res);
            return -403;
        }
        fd = open(res, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        err = errno;
        free(res);
        if (fd < 0)
            return err == ENOENT ? -404 : err == EACCES ? -403 : -500;
        if (fstat(fd, &sb) != 0) {
            close(fd);
            return -500;
        }
        if (S_ISREG(sb.st_mode)) {
            *size = (uint64_t)sb.st_size;
            *index = tries == 1;
            return fd;
        }
        close(fd);
        if (!S_ISDIR(sb.st_mode) || tries == 1)
            return -403; /* a device, a FIFO; or a directory named index.html */
        if (!slash)
            return -301;
        /* A directory: its index.html, if any (no listings). */
        if (strlen(full) + sizeof "/index.html" > sizeof full)
            return -414;
        strcat(full, "/index.html");
    }
    return -404;
}

/* Find the end of the headers: returns the length of the request head
 * (through the blank line), 0 when not complete yet. */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* Does the comma-separated header value contain the token? */
static bool has_token(const char *v, const char *tok)
{
    size_t tl = strlen(tok);

    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        size_t n = strcspn(v, ", \t");
        if (n == tl && strncasecmp(v, tok, tl) == 0)
            return true;
        v += n;
    }
    return false;
}

/* Parse the request head of len bytes at c->req and prepare the response. */
static void handle_request(http_conn *c, size_t len)
{
    char line[160];
    char *head = c->req, *eol, *method, *target, *version, *p;
    char rel[PATH_MAX];
    const char *path;
    size_t path_len;
    bool head_only = false, keep, index = false;
    int minor, code;
    uint64_t size = 0;

    head[len - 1] = '\0'; /* the last '\n' of the head */
    eol = strchr(head, '\n');
    if (eol) {
        *eol = '\0';
        if (eol > head && eol[-1] == '\r')
            eol[-1] = '\0';
    }
    /* For the log, cut to fit. */
    {
        size_t n = strnlen(head, sizeof line - 1);
        for (size_t i = 0; i < n; i++)
            line[i] = (head[i] >= ' ' && head[i] < 0x7f) ? head[i] : '?';
        line[n] = '\0';
    }

    method = head;
    target = strchr(method, ' ');
    version = target ? strchr(target + 1, ' ') : NULL;
    if (!target || !version || strchr(version + 1, ' ')) {
        respond_error(c, 400, false);
        log_req(c, line, 400, 0);
        return;
    }
    *target++ = '\0';
    *version++ = '\0';
    /* RFC 9112 §3.2: the target is visible ASCII. Anything else (a bare CR,
     * a tab) is malformed, and could not be echoed into a Location. */
    for (p = target; *p; p++) {
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f) {
            respond_error(c, 400, false);
            log_req(c, line, 400, 0);
            return;
        }
    }
    if (strncmp(version, "HTTP/1.", 7) != 0 || (version[7] != '0' && version[7] != '1') ||
        version[8] != '\0') {
        code = strncmp(version, "HTTP/", 5) == 0 ? 505 : 400;
        respond_error(c, code, false);
        log_req(c, line, code, 0);
        return;
    }
    minor = version[7] - '0';
    head_only = strcmp(method, "HEAD") == 0;
    keep = minor == 1;

    if (!head_only && strcmp(method, "GET") != 0) {
        respond_error(c, 405, false);
        log_req(c, line, 405, 0);
        return;
    }
    /* Headers: Connection decides persistence; we take no request bodies. */
    for (p = eol ? eol + 1 : NULL; p && *p;) {
        char *next = strchr(p, '\n'), *colon, *v;
        if (next)
            *next++ = '\0';
        size_t n = strlen(p);
        if (n && p[n - 1] == '\r')
            p[--n] = '\0';
        if (n == 0)
            break;
        colon = strchr(p, ':');
        if (!colon) {
            respond_error(c, 400, head_only);
            log_req(c, line, 400, 0);
            return;
        }
        *colon = '\0';
        for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
            ;
        if (strcasecmp(p, "Connection") == 0) {
            if (has_token(v, "close"))
                keep = false;
            else if (has_token(v, "keep-alive"))
                keep = true;
        } else if ((strcasecmp(p, "Content-Length") == 0 && strcmp(v, "0") != 0) ||
                   strcasecmp(p, "Transfer-Encoding") == 0) {
            respond_error(c, 400, head_only);
            log_req(c, line, 400, 0);
            return;
        }
        p = next;
    }

    code = target_to_path(target, rel, sizeof rel);
    if (code == 0) {
        path = target_path(target, &path_len);
        int fd = open_file(c->h, rel, path_len == 0 || path[path_len - 1] == '/',
                           &size, &index);
        if (fd < 0)
            code = -fd;
        else
            c->fd = fd;
    }
    if (code == 301) {
        if (respond_redirect(c, target, minor, keep, head_only)) {
            log_req(c, line, 301, 0);
            return;
        }
        code = 414;
    }
    if (code) {
        respond_error(c, code, head_only);
        log_req(c, line, code, 0);
        return;
    }
    c->close_after = !keep;
    c->hdr_len = (size_t)snprintf(
        c->hdr, sizeof c->hdr,
        "HTTP/1.%d 200 OK\r\nServer: ustack\r\nContent-Type: %s\r\n"
        "Content-Length: %llu\r\nConnection: %s\r\n\r\n",
        minor, content_type(index ? "index.html" : rel), (unsigned long long)size,
        keep ? "keep-alive" : "close");
    c->hdr_off = 0;
    c->body_off = 0;
    c->body_len = head_only ? 0 : size;
    if (head_only) {
        close(c->fd);
        c->fd = -1;
    }
    log_req(c, line, 200, c->body_len);
}

/* ---- the connection's steps ------------------------------------------------ */

/* Bytes the send buffer can take now (an estimate; send() has the last
 * word). */
static size_t send_room(const http_conn *c)
{
    ustk_tcp_info ti;

    if (ustk_tcp_info_get(c->s, c->sock, &ti) != 0)
        return HTTP_CHUNK / 4;
    return ti.snd_queued >= c->h->snd_buf ? 0 : c->h->snd_buf - ti.snd_queued;
}

typedef enum { GO_ON, WAIT, END } step;

static step send_response(http_conn *c, ustk_time now)
{
    ptrdiff_t r;

    while (c->hdr_off < c->hdr_len) {
        r = ustk_send(c->s, c->sock, c->hdr + c->hdr_off, c->hdr_len - c->hdr_off, now);
        if (r == USTK_EAGAIN)
            return WAIT;
        if (r < 0)
            return END;
        c->hdr_off += (size_t)r;
        c->last = now;
    }
    while (c->body_off < c->body_len) {
        uint64_t left = c->body_len - c->body_off;
        size_t want = send_room(c);
        ssize_t n;
        if (want == 0)
            return WAIT; /* an ACK will make room, and report it */
        if (want > HTTP_CHUNK)
            want = HTTP_CHUNK;
        if (want > left)
            want = (size_t)left;
        do
            n = pread(c->fd, c->h->chunk, want, (off_t)c->body_off);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            /* The file shrank or failed under us: the promised length can
             * no longer be kept, so the connection cannot go on. */
            fprintf(stderr, "%s: http: reading the file failed at byte %llu: %s\n",
                    c->h->cmd, (unsigned long long)c->body_off,
                    n < 0 ? strerror(errno) : "it got shorter");
            return END;
        }
        r = ustk_send(c->s, c->sock, c->h->chunk, (size_t)n, now);
        if (r == USTK_EAGAIN)
            return WAIT;
        if (r < 0)
            return END;
        c->body_off += (uint64_t)r;
        c->last = now;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    if (c->close_after) {
        /* Our FIN goes out after the response; the peer's ends it. */
        if (ustk_shutdown(c->s, c->sock, USTK_SHUT_WR, now) < 0)
            return END;
        c->st = ST_DRAIN;
        return GO_ON;
    }
    c->st = ST_READ;
    return GO_ON;
}

static step read_request(http_conn *c, ustk_time now)
{
    size_t end;
    ptrdiff_t r;

    for (;;) {
        end = head_end(c->req, c->req_len);
        if (end) {
            char next[HTTP_REQ_MAX];
            size_t rest = c->req_len - end;
            /* Keep what follows (a pipelined request) for later. */
            memcpy(next, c->req + end, rest);
            handle_request(c, end);
            memcpy(c->req, next, rest);
            c->req_len = rest;
            c->st = ST_SEND;
            return GO_ON;
        }
        if (c->req_len == HTTP_REQ_MAX) {
            respond_error(c, 431, false);
            log_req(c, "(request head too large)", 431, 0);
            c->req_len = 0;
            c->st = ST_SEND;
            return GO_ON;
        }
        r = ustk_recv(c->s, c->sock, c->req + c->req_len, HTTP_REQ_MAX - c->req_len, now);
        if (r == USTK_EAGAIN)
            return WAIT;
        if (r <= 0)
            return END; /* the peer is done (or gone) */
        c->req_len += (size_t)r;
        c->last = now;
    }
}

static step drain(http_conn *c, ustk_time now)
{
    char sink[4096];
    ptrdiff_t r;

    for (;;) {
        r = ustk_recv(c->s, c->sock, sink, sizeof sink, now);
        if (r == USTK_EAGAIN)
            return WAIT;
        if (r <= 0)
            return END;
        c->last = now;
    }
}

bool http_conn_step(http_conn *c, ustk_time now)
{
    step s = GO_ON;
    int ev = ustk_sock_poll(c->s, c->sock);

    if (ev < 0 || (ev & USTK_ERROR)) {
        (void)ustk_sock_error(c->s, c->sock);
        end_conn(c, now);
        return false;
    }
    while (s == GO_ON) {
        switch (c->st) {
        case ST_READ: s = read_request(c, now); break;
        case ST_SEND: s = send_response(c, now); break;
        case ST_DRAIN: s = drain(c, now); break;
        }
    }
    if (s == END) {
        http_conn_close(c, now);
        return false;
    }
    return true;
}

bool http_conn_tick(http_conn *c, ustk_time now)
{
    if ((c->st == ST_READ && now - c->last > HTTP_IDLE) ||
        (c->st == ST_DRAIN && now - c->last > HTTP_LINGER)) {
        http_conn_close(c, now);
        return false;
    }
    return true;
}
