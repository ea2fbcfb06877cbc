#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* How long one write to an attacher may wait for room before that attacher is dropped: a
 * stalled client must not stall the container's log (the others and the file keep going). */
#define CLIENT_WRITE_MS 1000
#define HEADER 5

struct client {
  int fd;
  size_t len;
  unsigned char buf[HEADER + CONSOLE_FRAME_MAX];
};

static int listener = -1;
static const char *socket_path;
static struct client clients[CONSOLE_CLIENTS];
static int master = -1, input = -1;
/* Input taken from an attacher, not yet written: while it waits, no attacher is read (the
 * pipe or pty's own buffer is the queue and the container reads at its pace). */
static unsigned char pending[HEADER + CONSOLE_FRAME_MAX];
static size_t pending_len, pending_off;
/* EOF came after input not yet written: the pipe is closed once that input is. */
static int close_when_written;
static int holding;
static struct timespec hold_until;

int console_enabled(void) { return listener >= 0; }

void console_listen(const struct spec *sp) {
  for (int i = 0; i < CONSOLE_CLIENTS; i++) clients[i].fd = -1;
  if (!sp->console) return;
  socket_path = sp->console;
  /* A unix socket's path is limited to 107 bytes and a state directory can be deep: bind by the
   * name inside its directory instead. */
  char dir[PATH_MAX];
  const char *slash = strrchr(sp->console, '/');
  snprintf(dir, sizeof dir, "%.*s", (int)(slash - sp->console) + (slash == sp->console), sp->console);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(slash + 1) >= sizeof addr.sun_path) diex("--console: name too long: %s", slash + 1);
  strcpy(addr.sun_path, slash + 1);
  listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listener < 0) die("socket");
  if (chdir(dir) < 0) die("chdir %s", dir);
  /* Left by an earlier run of this container: nobody listens on it any more. */
  if (unlink(addr.sun_path) < 0 && errno != ENOENT) die("unlink %s", sp->console);
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind %s", sp->console);
  if (chdir("/") < 0) die("chdir /");
  if (listen(listener, CONSOLE_CLIENTS) < 0) die("listen %s", sp->console);
  if (sp->attach_wait_ms) {
    holding = 1;
    clock_gettime(CLOCK_MONOTONIC, &hold_until);
    hold_until.tv_sec += (time_t)(sp->attach_wait_ms / 1000);
    hold_until.tv_nsec += (long)(sp->attach_wait_ms % 1000) * 1000000L;
    if (hold_until.tv_nsec >= 1000000000L) {
      hold_until.tv_sec++;
      hold_until.tv_nsec -= 1000000000L;
    }
  }
}

void console_set_tty(int fd, int stdin_open) {
  master = fd;
  input = stdin_open ? fd : -1;
}

void console_set_stdin(int fd) {
  input = fd;
  if (fd >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK) < 0) die("fcntl O_NONBLOCK on the stdin pipe");
}

long console_hold_left_ms(void) {
  if (!holding) return 0;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long ms = (hold_until.tv_sec - now.tv_sec) * 1000 + (hold_until.tv_nsec - now.tv_nsec) / 1000000;
  if (ms <= 0) holding = 0;
  return ms < 0 ? 0 : ms;
}

int console_holding(void) { return holding && console_hold_left_ms() > 0; }

static void drop(struct client *c) {
  close(c->fd);
  c->fd = -1;
  c->len = 0;
}

/* The whole frame or nothing: an attacher that takes no data for CLIENT_WRITE_MS is dropped. */
static void send_frame(struct client *c, char type, const void *data, size_t len) {
  unsigned char header[HEADER] = {(unsigned char)type, (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                                  (unsigned char)len};
  const unsigned char *parts[2] = {header, data};
  size_t sizes[2] = {HEADER, len};
  for (int p = 0; p < 2 && c->fd >= 0; p++) {
    size_t off = 0;
    while (off < sizes[p]) {
      ssize_t n = send(c->fd, parts[p] + off, sizes[p] - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += (size_t)n;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
      if (n < 0 && errno == EAGAIN && poll(&pfd, 1, CLIENT_WRITE_MS) > 0 && !(pfd.revents & (POLLERR | POLLHUP))) continue;
      drop(c);
      break;
    }
  }
}

void console_output(char stream, const void *data, size_t len) {
  const unsigned char *bytes = data;
  for (int i = 0; i < CONSOLE_CLIENTS; i++)
    for (size_t at = 0; clients[i].fd >= 0 && at < len; at += CONSOLE_FRAME_MAX) {
      size_t piece = len - at < CONSOLE_FRAME_MAX ? len - at : CONSOLE_FRAME_MAX;
      send_frame(&clients[i], stream, bytes + at, piece);
    }
}

nfds_t console_pollfds(struct pollfd *fds) {
  nfds_t n = 0;
  if (listener < 0) return 0;
  fds[n++] = (struct pollfd){.fd = listener, .events = POLLIN};
  if (pending_off < pending_len && input >= 0) fds[n++] = (struct pollfd){.fd = input, .events = POLLOUT};
  for (int i = 0; i < CONSOLE_CLIENTS; i++)
    if (clients[i].fd >= 0) fds[n++] = (struct pollfd){.fd = clients[i].fd, .events = pending_off < pending_len ? 0 : POLLIN};
  return n;
}

static void resize(const unsigned char *text, size_t len) {
  char size[16], *x;
  unsigned long rows, cols;
  if (master < 0 || len >= sizeof size) return;
  memcpy(size, text, len);
  size[len] = '\0';
  if (!(x = strchr(size, 'x'))) return;
  *x = '\0';
  if (parse_ulong(size, 65535, &rows) < 0 || parse_ulong(x + 1, 65535, &cols) < 0 || !rows || !cols) return;
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  ioctl(master, TIOCSWINSZ, &ws);
}

static void close_input(void) {
  close(input);
  input = -1;
  close_when_written = 0;
}

/* Reads what an attacher sent and acts on every whole frame; a malformed one drops it. */
static void receive_from(struct client *c) {
  ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    drop(c);
    return;
  }
  c->len += (size_t)n;
  size_t at = 0;
  while (c->len - at >= HEADER) {
    const unsigned char *h = c->buf + at;
    size_t len = (size_t)h[1] << 24 | (size_t)h[2] << 16 | (size_t)h[3] << 8 | h[4];
    if (len > CONSOLE_FRAME_MAX || (h[0] != 'i' && h[0] != 'r' && h[0] != 'c')) {
      drop(c);
      return;
    }
    if (c->len - at < HEADER + len) break;
    if (h[0] == 'i' && input >= 0 && !close_when_written) {
      /* Room is certain: pending was empty when this read began, and holds a whole buffer. */
      memcpy(pending + pending_len, h + HEADER, len);
      pending_len += len;
    } else if (h[0] == 'r') {
      resize(h + HEADER, len);
    } else if (h[0] == 'c' && input >= 0 && input != master) {
      /* EOF for a pipe (`run -i`), after what came before it; a pty has no end of input but the
       * ^D typed into it. */
      if (pending_off < pending_len)
        close_when_written = 1;
      else
        close_input();
    }
    at += HEADER + len;
  }
  memmove(c->buf, c->buf + at, c->len - at);
  c->len -= at;
}

static void accept_client(void) {
  int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  for (int i = 0; i < CONSOLE_CLIENTS; i++)
    if (clients[i].fd < 0) {
      clients[i].fd = fd;
      clients[i].len = 0;
      holding = 0;
      return;
    }
  close(fd);
}

void console_handle(const struct pollfd *fds, nfds_t n) {
  for (nfds_t k = 0; k < n; k++) {
    if (!fds[k].revents) continue;
    if (fds[k].fd == listener) {
      accept_client();
    } else if (fds[k].fd == input && (fds[k].events & POLLOUT)) {
      ssize_t put = write(input, pending + pending_off, pending_len - pending_off);
      if (put > 0) pending_off += (size_t)put;
      /* The reader is gone (EPIPE) or the pty hung up: what was typed has nowhere to go. */
      else if (put < 0 && errno != EAGAIN && errno != EINTR) pending_off = pending_len;
      if (pending_off == pending_len) {
        pending_off = pending_len = 0;
        if (close_when_written) close_input();
      }
    } else {
      for (int i = 0; i < CONSOLE_CLIENTS; i++) {
        if (clients[i].fd != fds[k].fd) continue;
        /* Two attachers typing at once: the second is read once the first one's input is written. */
        if ((fds[k].revents & POLLIN) && pending_len == 0)
          receive_from(&clients[i]);
        else if (fds[k].revents & POLLIN)
          continue;
        else if (fds[k].revents & (POLLHUP | POLLERR))
          drop(&clients[i]);
      }
    }
  }
  /* Input whose reader went away (the pty master was closed by the log at EIO) is dropped. */
  if (input < 0) pending_off = pending_len = 0;
}

void console_end(int exit_code) {
  if (listener < 0) return;
  char code[16];
  int len = snprintf(code, sizeof code, "%d", exit_code);
  for (int i = 0; i < CONSOLE_CLIENTS; i++)
    if (clients[i].fd >= 0) {
      send_frame(&clients[i], 'x', code, (size_t)len);
      if (clients[i].fd >= 0) drop(&clients[i]);
    }
  close(listener);
  listener = -1;
  if (unlink(socket_path) < 0 && errno != ENOENT) note("unlink %s: %s", socket_path, strerror(errno));
  if (input >= 0 && input != master) close(input);
  input = master = -1;
}
