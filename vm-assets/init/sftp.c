/* SFTP v3 client connection for sharefs (sftp.h). One connection at a time, non-blocking: requests
 * are appended to an output buffer and written as the socket takes them, replies read into an input
 * buffer and handed to the callback their request id was registered with. Pipelining is the point:
 * the desktop's server answers namespace requests in order and runs reads and writes together, so
 * a listing, a file's chunks and the writes behind a `write(2)` are all in flight at once. */
#include "sftp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Request ids index this table (id & mask): at most this many requests in flight. */
#define PENDING_SLOTS 65536
/* The largest reply accepted: a DATA of 256 KiB and its header, or a long listing. */
#define MAX_PACKET (1024 * 1024)

struct pending {
  sftp_callback cb;
  void *ctx;
  int used;
};

static struct pending pending[PENDING_SLOTS];
static uint32_t next_id = 1;
static size_t in_flight;
/* When the desktop last said anything, or (if later) when a request found it with nothing in flight. */
static struct timespec heard;
static int sock = -1;
static unsigned generation;

static uint8_t *out;
static size_t out_len, out_off, out_cap;
static size_t packet_start; /* where the request being built starts in `out` */

static uint8_t *in;
static size_t in_len, in_cap;

uint32_t sftp_u32(struct sftp_reader *r) {
  if (r->left < 4) return r->bad = 1, 0;
  uint32_t v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
  r->p += 4, r->left -= 4;
  return v;
}

uint64_t sftp_u64(struct sftp_reader *r) {
  uint64_t hi = sftp_u32(r);
  return hi << 32 | sftp_u32(r);
}

const uint8_t *sftp_str(struct sftp_reader *r, uint32_t *len) {
  *len = sftp_u32(r);
  if (r->bad || r->left < *len) return r->bad = 1, NULL;
  const uint8_t *s = r->p;
  r->p += *len, r->left -= *len;
  return s;
}

void sftp_read_attrs(struct sftp_reader *r, struct sftp_attrs *a) {
  memset(a, 0, sizeof *a);
  a->flags = sftp_u32(r);
  if (a->flags & ATTR_SIZE) a->size = sftp_u64(r);
  if (a->flags & ATTR_UIDGID) a->uid = sftp_u32(r), a->gid = sftp_u32(r);
  if (a->flags & ATTR_PERMISSIONS) a->mode = sftp_u32(r);
  if (a->flags & ATTR_ACMODTIME) a->atime = sftp_u32(r), a->mtime = sftp_u32(r);
  if (a->flags & ATTR_EXTENDED) {
    uint32_t n = sftp_u32(r), len;
    for (uint32_t i = 0; i < n && !r->bad; i++) sftp_str(r, &len), sftp_str(r, &len);
  }
}

/* The desktop's server is Node: a failure's message starts with the system's code ("EEXIST: file
 * already exists, mkdir …"), which says more than SFTP v3's FAILURE. */
static int errno_of_message(const uint8_t *msg, uint32_t len) {
  static const struct {
    const char *name;
    int code;
  } codes[] = {{"EEXIST", EEXIST},   {"ENOTEMPTY", ENOTEMPTY}, {"EISDIR", EISDIR}, {"ENOTDIR", ENOTDIR},
               {"EINVAL", EINVAL},   {"ENOSPC", ENOSPC},       {"EXDEV", EXDEV},   {"ELOOP", ELOOP},
               {"ENAMETOOLONG", ENAMETOOLONG}, {"EBUSY", EBUSY}, {"EFBIG", EFBIG}, {"EMLINK", EMLINK},
               {"EROFS", EROFS},     {"ETXTBSY", ETXTBSY},     {"EDQUOT", EDQUOT}, {"EPERM", EPERM}};
  for (size_t i = 0; msg && i < sizeof codes / sizeof codes[0]; i++) {
    size_t n = strlen(codes[i].name);
    if (len > n && memcmp(msg, codes[i].name, n) == 0 && msg[n] == ':') return codes[i].code;
  }
  return EPERM; /* what sshfs answers for a FAILURE it cannot tell apart */
}

int sftp_status_errno(struct sftp_reader *r, uint8_t type) {
  if (!r) return EIO;
  if (type != FXP_STATUS) return EIO;
  uint32_t code = sftp_u32(r), len = 0;
  const uint8_t *msg = sftp_str(r, &len);
  switch (code) {
    case FX_OK: return 0;
    case FX_EOF: return -1;
    case FX_NO_SUCH_FILE: return ENOENT;
    case FX_PERMISSION_DENIED: return EACCES;
    case FX_OP_UNSUPPORTED: return EOPNOTSUPP;
    case FX_FAILURE: return errno_of_message(msg, len);
    default: return EIO;
  }
}

static void reserve(size_t more) {
  if (out_len + more <= out_cap) return;
  if (out_off > 0 && out_len + more - out_off <= out_cap) {
    memmove(out, out + out_off, out_len - out_off);
    out_len -= out_off, packet_start -= out_off, out_off = 0;
    return;
  }
  size_t cap = out_cap ? out_cap : 64 * 1024;
  while (cap < out_len + more) cap *= 2;
  uint8_t *grown = realloc(out, cap);
  if (!grown) die("sharefs: out of memory");
  out = grown, out_cap = cap;
}

void sftp_put_u32(uint32_t v) {
  reserve(4);
  uint8_t *p = out + out_len;
  p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = v;
  out_len += 4;
}

void sftp_put_u64(uint64_t v) {
  sftp_put_u32(v >> 32);
  sftp_put_u32((uint32_t)v);
}

void sftp_put_str(const void *s, size_t len) {
  sftp_put_u32((uint32_t)len);
  reserve(len);
  memcpy(out + out_len, s, len);
  out_len += len;
}

void sftp_put_cstr(const char *s) { sftp_put_str(s, strlen(s)); }

void sftp_put_attrs(const struct sftp_attrs *a) {
  sftp_put_u32(a->flags);
  if (a->flags & ATTR_SIZE) sftp_put_u64(a->size);
  if (a->flags & ATTR_UIDGID) sftp_put_u32(a->uid), sftp_put_u32(a->gid);
  if (a->flags & ATTR_PERMISSIONS) sftp_put_u32(a->mode);
  if (a->flags & ATTR_ACMODTIME) sftp_put_u32(a->atime), sftp_put_u32(a->mtime);
}

static void hear(void) { clock_gettime(CLOCK_MONOTONIC, &heard); }

void sftp_begin(uint8_t type, sftp_callback cb, void *ctx) {
  if (in_flight == 0) hear(); /* silence counts from the first request, not from the last answer */
  /* a full table never happens in practice (sharefs bounds what it sends); skipping used ids keeps it correct */
  while (pending[next_id & (PENDING_SLOTS - 1)].used || next_id == 0) next_id++;
  uint32_t id = next_id++;
  pending[id & (PENDING_SLOTS - 1)] = (struct pending){cb, ctx, 1};
  in_flight++;
  reserve(9);
  packet_start = out_len;
  out_len += 4;
  out[out_len++] = type;
  sftp_put_u32(id);
}

void sftp_end(void) {
  uint32_t len = (uint32_t)(out_len - packet_start - 4);
  uint8_t *p = out + packet_start;
  p[0] = len >> 24, p[1] = len >> 16, p[2] = len >> 8, p[3] = len;
}

/* Every request still waiting hears that the connection is gone (its callback with NULL). */
static void lost(void) {
  if (sock >= 0) close(sock);
  sock = -1;
  out_len = out_off = in_len = 0;
  for (size_t i = 0; i < PENDING_SLOTS && in_flight > 0; i++) {
    if (!pending[i].used) continue;
    struct pending p = pending[i];
    pending[i].used = 0;
    in_flight--;
    p.cb(p.ctx, 0, NULL);
  }
}

int sftp_silent_ms(void) {
  if (sock < 0 || in_flight == 0) return -1;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int)((t.tv_sec - heard.tv_sec) * 1000 + (t.tv_nsec - heard.tv_nsec) / 1000000);
}

void sftp_close(void) { lost(); }

int sftp_connected(void) { return sock >= 0; }
unsigned sftp_generation(void) { return generation; }
int sftp_fd(void) { return sock; }
short sftp_events(void) { return sock < 0 ? 0 : (short)(POLLIN | (out_len > out_off ? POLLOUT : 0)); }
size_t sftp_queued(void) { return out_len - out_off; }

static int wait_fd(int fd, short events, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = events};
  int n;
  while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  return n;
}

int sftp_connect(const char *socket_path, int timeout_ms) {
  if (sock >= 0) return 0;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof addr.sun_path) return ENAMETOOLONG;
  strcpy(addr.sun_path, socket_path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int e = errno;
    close(fd);
    return e;
  }
  /* INIT, then VERSION, before anything else (the handshake is blocking: it is one round trip). */
  static const uint8_t init[] = {0, 0, 0, 5, FXP_INIT, 0, 0, 0, 3};
  uint8_t version[256];
  size_t got = 0, want = 4;
  if (write_all(fd, init, sizeof init) < 0) goto failed;
  while (got < want) {
    if (wait_fd(fd, POLLIN, timeout_ms) <= 0) {
      errno = ETIMEDOUT;
      goto failed;
    }
    ssize_t n = read(fd, version + got, want - got);
    if (n <= 0) {
      errno = n == 0 ? ECONNRESET : errno;
      goto failed;
    }
    got += (size_t)n;
    if (got == 4) {
      want = 4 + ((size_t)version[0] << 24 | (size_t)version[1] << 16 | (size_t)version[2] << 8 | version[3]);
      if (want > sizeof version || want < 9) {
        errno = EPROTO;
        goto failed;
      }
    }
  }
  if (version[4] != FXP_VERSION) {
    errno = EPROTO;
    goto failed;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  sock = fd;
  hear();
  generation++;
  return 0;
failed:;
  int e = errno;
  close(fd);
  return e;
}

static void dispatch(uint8_t *packet, size_t len) {
  struct sftp_reader r = {packet + 1, len - 1, 0};
  uint8_t type = packet[0];
  uint32_t id = sftp_u32(&r);
  struct pending *p = &pending[id & (PENDING_SLOTS - 1)];
  if (r.bad || !p->used) return; /* not ours: ignored, as an unknown reply must be */
  struct pending call = *p;
  p->used = 0;
  in_flight--;
  call.cb(call.ctx, type, &r);
}

void sftp_io(short revents) {
  if (sock < 0) return;
  if (revents & POLLOUT) {
    while (out_off < out_len) {
      ssize_t n = write(sock, out + out_off, out_len - out_off);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        lost();
        return;
      }
      out_off += (size_t)n;
    }
    if (out_off == out_len) out_off = out_len = 0;
  }
  if (!(revents & (POLLIN | POLLHUP | POLLERR))) return;
  for (;;) {
    if (in_cap - in_len < 64 * 1024) {
      size_t cap = in_cap ? in_cap * 2 : 2 * MAX_PACKET;
      uint8_t *grown = realloc(in, cap);
      if (!grown) die("sharefs: out of memory");
      in = grown, in_cap = cap;
    }
    ssize_t n = read(sock, in + in_len, in_cap - in_len);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      lost();
      return;
    }
    if (n < 0) break;
    hear();
    in_len += (size_t)n;
    size_t off = 0;
    while (in_len - off >= 4) {
      size_t len = (size_t)in[off] << 24 | (size_t)in[off + 1] << 16 | (size_t)in[off + 2] << 8 | in[off + 3];
      if (len < 5 || len > MAX_PACKET) {
        lost();
        return;
      }
      if (in_len - off < 4 + len) break;
      dispatch(in + off + 4, len);
      if (sock < 0) return; /* a callback's request found the connection gone */
      off += 4 + len;
    }
    memmove(in, in + off, in_len - off);
    in_len -= off;
  }
}
