#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* Unix98 pty slaves: majors 136 to 143, 256 minors each. */
#define PTY_SLAVE_MAJOR 136
#define PTY_SLAVE_MAJORS 8

/* Once the command has exited: its last output is read until the master reports EIO (no slave fd
 * left), or until the pty has been quiet this long (a background process it left holds the slave
 * open), or at most DRAIN_MAX_MS; then the master is closed, which hangs up any such process. */
#define DRAIN_QUIET_MS 100
#define DRAIN_MAX_MS 2000

#define RELAY_BUF 16384

/* The size of the terminal we were given, if stdin (or else stdout) is one and knows its size. */
static int outer_size(struct winsize *ws) {
  for (int fd = 0; fd <= 1; fd++)
    if (ioctl(fd, TIOCGWINSZ, ws) == 0 && ws->ws_row && ws->ws_col) return 0;
  return -1;
}

struct pty pty_open(const struct spec *sp) {
  struct pty pty;
  /* The container's /dev/ptmx: a symlink to pts/ptmx, so the pty belongs to its devpts instance
   * and has a name under its /dev/pts. The container's root can replace it: only the multiplexer
   * itself is accepted, and the device cgroup we joined limits what an open may reach. */
  pty.master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (pty.master < 0) die("open /dev/ptmx in the container");
  struct stat st;
  if (fstat(pty.master, &st) < 0) die("fstat /dev/ptmx");
  if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2) diex("/dev/ptmx in the container is not the pty multiplexer (5:2)");
  if (grantpt(pty.master) < 0) die("grantpt");
  if (unlockpt(pty.master) < 0) die("unlockpt");

  /* Opened here rather than in the child, so the slave side is never without an open fd until the
   * command and whatever it starts are done: EIO on the master then means exactly that.
   * TIOCGPTPEER (Linux 4.13) opens it through the master's own devpts mount; before that, by
   * name, checked to be the slave of this very master. */
  pty.slave = ioctl(pty.master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (pty.slave < 0) {
    if (errno != EINVAL && errno != ENOTTY) die("open the pty slave (TIOCGPTPEER)");
    unsigned int n;
    char name[64];
    if (ioctl(pty.master, TIOCGPTN, &n) < 0) die("TIOCGPTN");
    snprintf(name, sizeof name, "/dev/pts/%u", n);
    pty.slave = open(name, O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
    if (pty.slave < 0) die("open %s", name);
    if (fstat(pty.slave, &st) < 0) die("fstat %s", name);
    if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(PTY_SLAVE_MAJOR + n / 256, n % 256) || n / 256 >= PTY_SLAVE_MAJORS)
      diex("%s is not the slave of the pty just opened", name);
  }
  /* grantpt's owner: the user the command runs as (devpts already made the group tty, mode 0620),
   * so it may reopen its terminal by name as programs like ssh and gpg do. */
  if (fchown(pty.slave, sp->uid, (gid_t)-1) < 0) die("chown the pty slave to %u", (unsigned)sp->uid);

  struct winsize ws = {0};
  if (outer_size(&ws) < 0) {
    ws.ws_row = sp->tty_rows;
    ws.ws_col = sp->tty_cols;
  }
  if (ws.ws_row && ws.ws_col && ioctl(pty.master, TIOCSWINSZ, &ws) < 0) die("TIOCSWINSZ");
  return pty;
}

void pty_stdio_guard(void) {
  for (int fd = 0; fd <= 2; fd++)
    if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd) die("open /dev/null as fd %d", fd);
}

void pty_attach(struct pty *pty) {
  close(pty->master);
  if (setsid() < 0) die("setsid");
  if (ioctl(pty->slave, TIOCSCTTY, 0) < 0) die("TIOCSCTTY");
  for (int fd = 0; fd <= 2; fd++)
    if (dup2(pty->slave, fd) < 0) die("dup2 the pty slave to fd %d", fd);
  if (pty->slave > 2) close(pty->slave);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Our stdout may be shared with a process that made it non-blocking: wait for room then. */
static int write_out(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) return -1;
        continue;
      }
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* A resize line from --resize-fd: `ROWSxCOLS`, each 1..65535; anything else is ignored. */
static void resize_line(int master, const char *line) {
  unsigned rows, cols;
  char extra;
  if (sscanf(line, "%5ux%5u%c", &rows, &cols, &extra) != 2 || rows < 1 || rows > 0xffff || cols < 1 || cols > 0xffff) return;
  struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
  ioctl(master, TIOCSWINSZ, &ws); /* the kernel sends SIGWINCH to the command's foreground group */
}

int pty_relay(struct pty *pty, int sigfd, pid_t child, int resize_fd) {
  close(pty->slave);
  pty->slave = -1;
  int master = pty->master;
  int flags = fcntl(master, F_GETFL);
  if (flags < 0 || fcntl(master, F_SETFL, flags | O_NONBLOCK) < 0) die("fcntl O_NONBLOCK on the pty master");
  /* A reader of our stdout that went away is an EPIPE, not the end of us. */
  sigset_t pipe_mask;
  sigemptyset(&pipe_mask);
  sigaddset(&pipe_mask, SIGPIPE);
  sigprocmask(SIG_BLOCK, &pipe_mask, NULL);

  static char in[RELAY_BUF], out[RELAY_BUF];
  char sizes[64];
  size_t in_len = 0, in_off = 0, sizes_len = 0;
  int stdin_open = 1, exited = 0, status = 0;
  long long drain_deadline = 0;
  for (;;) {
    struct pollfd fds[4];
    nfds_t n = 0;
    int mi = -1, si = -1, ri = -1;
    fds[n++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
    if (master >= 0) {
      mi = (int)n;
      fds[n++] = (struct pollfd){.fd = master, .events = (short)(POLLIN | (in_off < in_len && !exited ? POLLOUT : 0))};
    }
    /* Stdin is read only into an empty buffer: the pty's own buffer is the queue, and the
     * command reads at its pace. At EOF the session goes on until the command ends (docker exec -t). */
    if (stdin_open && master >= 0 && in_off == in_len && !exited) {
      si = (int)n;
      fds[n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
    }
    if (resize_fd >= 0 && master >= 0 && !exited) {
      ri = (int)n;
      fds[n++] = (struct pollfd){.fd = resize_fd, .events = POLLIN};
    }
    int timeout = -1;
    if (exited) {
      long long left = drain_deadline - now_ms();
      if (master < 0 || left <= 0) break;
      timeout = left < DRAIN_QUIET_MS ? (int)left : DRAIN_QUIET_MS;
    }
    int ready = poll(fds, n, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (ready == 0) break; /* the command has exited and its pty went quiet */

    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si_info;
      ssize_t got = read(sigfd, &si_info, sizeof si_info);
      if (got == (ssize_t)sizeof si_info) {
        int sig = (int)si_info.ssi_signo;
        if (sig == SIGCHLD) {
          int st;
          if (!exited && waitpid(child, &st, WNOHANG) == child) {
            exited = 1;
            status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
            drain_deadline = now_ms() + DRAIN_MAX_MS;
          }
        } else if (sig == SIGWINCH) {
          struct winsize ws;
          if (master >= 0 && outer_size(&ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
        } else if (!exited) {
          /* The command has its own session: nothing from our terminal (a hangup, a ^C when
           * it is not raw) reaches it unless we pass it on, whoever sent it. */
          kill(child, sig);
        }
      } else if (got < 0 && errno != EINTR && errno != EAGAIN) {
        die("read signalfd");
      }
    }

    if (mi >= 0 && fds[mi].revents) {
      short revents = fds[mi].revents;
      if (revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t got = read(master, out, sizeof out);
        if (got > 0) {
          /* Our reader is gone: hang the pty up, as a closed terminal would. */
          if (write_out(STDOUT_FILENO, out, (size_t)got) < 0) {
            close(master);
            master = -1;
          }
        } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
          /* EIO: no slave fd is open any more, and everything written to it has been read. */
          close(master);
          master = -1;
        }
      }
      if (master >= 0 && (revents & POLLOUT)) {
        ssize_t put = write(master, in + in_off, in_len - in_off);
        if (put > 0)
          in_off += (size_t)put;
        else if (put < 0 && errno != EAGAIN && errno != EINTR)
          in_off = in_len;
      }
    }

    if (ri >= 0 && fds[ri].revents) {
      ssize_t got = read(resize_fd, sizes + sizes_len, sizeof sizes - 1 - sizes_len);
      if (got > 0) {
        sizes_len += (size_t)got;
        char *nl;
        while ((nl = memchr(sizes, '\n', sizes_len)) != NULL) {
          *nl = '\0';
          if (master >= 0) resize_line(master, sizes);
          size_t used = (size_t)(nl - sizes) + 1;
          memmove(sizes, nl + 1, sizes_len - used);
          sizes_len -= used;
        }
        if (sizes_len == sizeof sizes - 1) sizes_len = 0; /* a line that long is no size: dropped */
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(resize_fd); /* the writer is done: the size stays as it is */
        resize_fd = -1;
      }
    }

    if (si >= 0 && fds[si].revents) {
      ssize_t got = read(STDIN_FILENO, in, sizeof in);
      if (got > 0) {
        in_off = 0;
        in_len = (size_t)got;
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        stdin_open = 0;
      }
    }
  }
  if (master >= 0) close(master);
  pty->master = -1;
  return status;
}
