/* dial: bridges stdin/stdout to a unix socket, both ways at once, until the socket's peer hangs up.
 *
 *   dial SOCKET
 *
 * The desktop's exec channel runs it to reach the agent's socket (deploy.ts) and the Docker API's
 * (ssh-machine.ts): a static C bridge costs the machine a fraction of the CPU a Node one did (bench
 * case 15 measured it when shared folders crossed it too: ~0.3 s of CPU per 256 MiB for Node's).
 *
 * Each direction has its own buffer and goes on while the other waits: a bridge that blocked writing
 * one way while the other way's peer waited for it to read would deadlock through SSH's flow control.
 * End of stdin is passed on as a half-close of the socket (the peer sees EOF and may still answer);
 * end of the socket ends the bridge, whatever stdin still holds. Exit: 0 when the peer hung up,
 * 1 when the socket cannot be reached or a copy fails, 2 for a malformed command line. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "commands.h"

/* Per direction: large enough that a 256 KiB SFTP WRITE crosses in one read and one write. */
#define DIAL_BUFFER (256 * 1024)

struct way {
  int in, out;
  char *buf;
  size_t len, off; /* data read and not yet written: buf[off, len) */
  int eof;         /* `in` ended */
};

static int nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int fail(const char *what, const char *path) {
  fprintf(stderr, "onggi-init dial: %s%s%s: %s\n", what, path ? " " : "", path ? path : "", strerror(errno));
  return 1;
}

/* Moves what is ready on one way without blocking: reads when its buffer is empty, writes while
 * it holds data. 0 when it would block (or `in` ended), -1 on an error (errno says which). */
static int step(struct way *w) {
  for (;;) {
    ssize_t n;
    if (w->len) {
      n = write(w->out, w->buf + w->off, w->len - w->off);
      if (n > 0 && (w->off += (size_t)n) == w->len) w->len = w->off = 0;
    } else if (!w->eof) {
      n = read(w->in, w->buf, DIAL_BUFFER);
      if (n > 0) w->len = (size_t)n;
      if (n == 0) w->eof = 1;
    } else
      return 0;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
  }
}

int cmd_dial(int argc, char **argv) {
  if (argc != 1 || argv[0][0] != '/') {
    fputs("onggi-init dial: expected SOCKET (an absolute path)\n", stderr);
    return 2;
  }
  const char *path = argv[0];
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    fprintf(stderr, "onggi-init dial: socket path too long: %s\n", path);
    return 2;
  }
  strcpy(addr.sun_path, path);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return fail("socket", NULL);
  if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) return fail("cannot reach", path);
  /* A peer gone mid-write is an EPIPE handled here, not a signal that ends the bridge unreported. */
  signal(SIGPIPE, SIG_IGN);
  if (nonblocking(0) < 0 || nonblocking(1) < 0 || nonblocking(sock) < 0) return fail("fcntl", NULL);
  struct way up = {.in = 0, .out = sock, .buf = malloc(DIAL_BUFFER)};
  struct way down = {.in = sock, .out = 1, .buf = malloc(DIAL_BUFFER)};
  if (!up.buf || !down.buf) return fail("malloc", NULL);
  int up_open = 1;
  for (;;) {
    if (step(&down) < 0) {
      /* stdout gone (nobody reads the answers) or the socket reset: the same end as a hang-up */
      if (errno == EPIPE || errno == ECONNRESET) return 0;
      return fail(down.len ? "write stdout" : "read the socket", NULL);
    }
    if (down.eof && down.len == 0) return 0;
    if (up_open && step(&up) < 0) {
      /* the peer stopped reading: what it still says comes down until it hangs up */
      if (errno != EPIPE && errno != ECONNRESET) return fail(up.len ? "write to the socket" : "read stdin", NULL);
      up.len = 0;
      up.eof = 1;
    }
    /* stdin ended and all of it written: the peer hears EOF and may still answer. */
    if (up_open && up.eof && up.len == 0) {
      shutdown(sock, SHUT_WR);
      up_open = 0;
    }
    struct pollfd fds[2] = {
        {.fd = down.len ? down.out : down.in, .events = down.len ? POLLOUT : POLLIN},
        {.fd = up.len ? up.out : up.in, .events = up.len ? POLLOUT : POLLIN},
    };
    if (poll(fds, up_open ? 2 : 1, -1) < 0 && errno != EINTR) return fail("poll", NULL);
  }
}
