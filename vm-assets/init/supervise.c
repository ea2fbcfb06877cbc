/* `run`: the per-container supervisor (conmon's model). It is started detached by the agent and
 * outlives it: it forks the container's first process into new namespaces, reports each step on
 * the ready fd, relays stdout/stderr into the log file, and records how the container ended in
 * the exit file, so a restarted agent loses neither. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "console.h"
#include "container.h"
#include "devcgroup.h"
#include "json.h"
#include "log.h"
#include "security.h"
#include "userns.h"
#include "util.h"

/* After the container's init exits the kernel kills the rest of its pid namespace, which closes
 * the pipes at once; only a process that smuggled a pipe end elsewhere could hold them longer. */
#define DRAIN_MS 2000

static const struct spec *spec;
static int ready_fd = -1;
static pid_t child = -1;
static struct log_stream streams[2];

static void ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ready(const char *fmt, ...) {
  if (ready_fd < 0) return;
  char line[1200];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) {
    n = sizeof line - 1;
    line[n - 1] = '\n';
  }
  /* The agent may have gone away; SIGPIPE is ignored and the supervisor carries on without it. */
  write_all(ready_fd, line, (size_t)n);
}

static void ready_done(void) {
  if (ready_fd >= 0) close(ready_fd);
  ready_fd = -1;
}

static void signal_name(int sig, char *out, size_t size) {
  const char *abbrev = sigabbrev_np(sig);
  if (abbrev)
    snprintf(out, size, "SIG%s", abbrev);
  else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    snprintf(out, size, "SIGRTMIN+%d", sig - SIGRTMIN);
  else
    snprintf(out, size, "SIG%d", sig);
}

/* Milliseconds the supervisor spent unmounting the rootfs after the end, or -1 if it did not. */
static double unmounted_ms = -1;
/* Set once this supervisor mounted the overlay itself (--overlay): only then is unmounting it ours. */
static int overlay_mounted = 0;

static double ms_since(const struct timespec *t0);

/* With --unmount-rootfs: unmounts the rootfs and notes how long it took for the exit file, which is
 * how the agent learns that there is nothing left for it to unmount. */
static void unmount_rootfs(void) {
  if (!spec->unmount_rootfs || !spec->rootfs) return;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (umount2(spec->rootfs, 0) == 0)
    unmounted_ms = ms_since(&t0);
  else
    note("unmount %s: %s", spec->rootfs, strerror(errno));
}

static void write_exit_file(int code, int sig, const char *error) {
  if (!spec->exit_file) return;
  char time[48], signame[48] = "null";
  rfc3339_now(time, sizeof time);
  if (sig) {
    signame[0] = '"';
    signal_name(sig, signame + 1, sizeof signame - 2);
    strcat(signame, "\"");
  }
  char escaped[JSON_ESCAPED_MAX(1024) + 3] = "null";
  if (error) {
    size_t len = strnlen(error, 1024);
    escaped[0] = '"';
    size_t n = 1 + json_escape(escaped + 1, (const unsigned char *)error, len);
    escaped[n++] = '"';
    escaped[n] = '\0';
  }
  char body[sizeof escaped + 240];
  char unmounted[48] = "";
  if (unmounted_ms >= 0) snprintf(unmounted, sizeof unmounted, ",\"rootfsUnmountedMs\":%.3f", unmounted_ms);
  int n = snprintf(body, sizeof body, "{\"exitCode\":%d,\"signal\":%s,\"finishedAt\":\"%s\",\"error\":%s%s}\n", code, signame, time,
                   escaped, unmounted);
  if (write_file_atomic(spec->exit_file, body, (size_t)n, 1) < 0) note("write %s: %s", spec->exit_file, strerror(errno));
}

/* In the agent's (the machine's) mount namespace, as `mount -t overlay` would: the agent logs it
 * as that command, with the time reported here. */
static void mount_overlay(const char *options) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (mount("overlay", spec->rootfs, "overlay", 0, options) < 0) die("mount -t overlay on %s", spec->rootfs);
  overlay_mounted = 1;
  ready("mounted %.3f\n", ms_since(&t0));
}

/* The supervisor's part of a user namespace, while its child waits: the maps, then the rootfs
 * (its layers idmapped through the child's namespace), then the word to go on. */
static void enter_userns_from_outside(int sync_fd) {
  write_id_maps(child, spec);
  if (spec->overlay) {
    int fds[512];
    size_t nfds = 0;
    char *options = spec->idmap_layers ? idmapped_overlay_options(spec->overlay, child, fds, 512, &nfds) : (char *)spec->overlay;
    mount_overlay(options);
    /* The overlay holds clones of its layers; our detached trees go with their fds. */
    for (size_t i = 0; i < nfds; i++) close(fds[i]);
    if (options != spec->overlay) free(options);
  }
  char c = SYNC_USERNS;
  if (send(sync_fd, &c, 1, MSG_NOSIGNAL) < 0) die("write to the container process");
}

/* Any failure before the command runs: the container is not half-alive, it is gone, and the
 * agent hears why on both channels it may be reading. */
static void failed_before_start(const char *message) {
  dprintf(STDERR_FILENO, "%s: %s\n", PROG, message);
  if (child > 0) {
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  /* A start that failed or was cancelled (the agent died before "go") leaves no mount of ours: the
   * exit file says so, before the agent hears "error", so the two never race to unmount. */
  if (overlay_mounted) unmount_rootfs();
  char line[1024];
  snprintf(line, sizeof line, "%s", message);
  for (char *p = line; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  ready("error %s\n", line);
  ready_done();
  write_exit_file(127, 0, message);
  console_end(127);
}

/* The pty master the child sent with SYNC_CONSOLE (--tty), or -1. */
static int received_master = -1;

/* One message from the child; 0 at EOF. A file descriptor sent along is kept in received_master. */
static ssize_t receive(int fd, char *buf, size_t size) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  ssize_t n;
  while ((n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n < 0) die("read from the container process");
  buf[n] = '\0';
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS && cmsg->cmsg_len == CMSG_LEN(sizeof(int))) {
    int got;
    memcpy(&got, CMSG_DATA(cmsg), sizeof got);
    if (n > 0 && buf[0] == SYNC_CONSOLE && received_master < 0)
      received_master = got;
    else
      close(got);
  }
  return n;
}

/* Output as it is read goes to the console's attachers too. */
static void tee_to_console(const struct log_stream *s, const unsigned char *data, size_t len) {
  console_output(s == &streams[1] ? 'e' : 'o', data, len);
}

/* The agent's word on the go fd: "go" lets the container start, anything else cancels it. */
static int wait_for_go(int fd) {
  char line[8];
  size_t len = 0;
  for (;;) {
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    if (len < sizeof line - 1) line[len++] = c;
  }
  line[len] = '\0';
  close(fd);
  return strcmp(line, "go") == 0;
}

static int take_fd(int fd, const char *option) {
  if (fd < 0) return -1;
  /* Never into the container, and never into anything the container runs. */
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) die("%s %d", option, fd);
  return fd;
}

/* Milliseconds since t0 (CLOCK_MONOTONIC): the durations the agent logs for the mounts done here. */
static double ms_since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) * 1e3 + (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static long ms_until(const struct timespec *deadline) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
  return ms < 0 ? 0 : ms;
}

/* Relays output and signals until the container's first process has exited and its output is
 * drained; returns its wait status. */
static int supervise(int sigfd) {
  int status = 0, exited = 0;
  struct timespec deadline = {0, 0};
  int tty = streams[0].fd >= 0 && streams[0].fd == received_master;
  for (;;) {
    struct pollfd fds[3 + CONSOLE_POLLFDS] = {{.fd = sigfd, .events = POLLIN}};
    nfds_t nfds = 1;
    /* Held for the first attacher (`start -a`): unread output waits in the pipe or pty. */
    int holding = console_holding();
    for (int i = 0; i < 2; i++)
      if (streams[i].fd >= 0 && !holding) fds[nfds++] = (struct pollfd){.fd = streams[i].fd, .events = POLLIN};
    nfds_t nstreams = nfds;
    nfds += console_pollfds(fds + nfds);
    if (exited && streams[0].fd < 0 && streams[1].fd < 0) break;
    long timeout = exited ? ms_until(&deadline) : -1;
    if (exited && timeout == 0) break;
    if (holding) {
      long left = console_hold_left_ms();
      timeout = timeout < 0 || left < timeout ? left : timeout;
    }
    if (poll(fds, nfds, (int)timeout) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo != SIGCHLD) {
          /* Whoever signals the supervisor means the container. */
          if (!exited) kill(child, (int)si.ssi_signo);
          continue;
        }
        /* As subreaper we also inherit the container's orphans as the kernel kills them. */
        int st;
        pid_t pid;
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
          if (pid != child) continue;
          status = st;
          exited = 1;
          clock_gettime(CLOCK_MONOTONIC, &deadline);
          /* The drain starts once output is no longer held for an attacher. */
          deadline.tv_sec += (DRAIN_MS + console_hold_left_ms()) / 1000;
        }
      }
    }
    for (nfds_t i = 1; i < nstreams; i++) {
      if (!fds[i].revents) continue;
      for (int s = 0; s < 2; s++)
        if (streams[s].fd == fds[i].fd) log_pump(&streams[s]);
    }
    /* The log closed the pty master at EIO (no slave left): nothing more to type or resize. */
    if (tty && streams[0].fd < 0) {
      console_set_tty(-1, 0);
      tty = 0;
    }
    console_handle(fds + nstreams, nfds - nstreams);
  }
  for (int s = 0; s < 2; s++) {
    if (streams[s].fd < 0) continue;
    /* Something outside still holds the pipe: keep what was read, stop waiting for more. */
    fcntl(streams[s].fd, F_SETFL, O_NONBLOCK);
    log_pump(&streams[s]);
    log_finish(&streams[s]);
  }
  return status;
}

int cmd_run(struct spec *sp, const char *parse_error) {
  spec = sp;
  signal(SIGPIPE, SIG_IGN);
  fatal_hook = failed_before_start;
  /* The ready fd is the one channel to report a bad command line through, so take it first. */
  if (sp->ready_fd >= 0 && fcntl(sp->ready_fd, F_SETFD, FD_CLOEXEC) == 0) ready_fd = sp->ready_fd;
  if (parse_error) diex("%s", parse_error);
  if (sp->ready_fd >= 0 && ready_fd < 0) die("--ready-fd %d", sp->ready_fd);
  int go_fd = take_fd(sp->go_fd, "--go-fd");
  /* The supervisor lives as long as the container; it must not pin the agent's cwd or the rootfs. */
  if (chdir("/") < 0) die("chdir /");
  caps_mask(&sp->caps);
  /* With a user namespace the layers are idmapped through it, so the overlay waits for the clone. */
  if (sp->overlay && !sp->uid_map) mount_overlay(sp->overlay);
  int rootfs = open(sp->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfs < 0) die("open %s", sp->rootfs);
  close(rootfs);
  /* Before the container enters its cgroup, so it never has a moment without the filter. */
  attach_device_filter(sp);
  /* Listening before the container exists, so an attacher can connect once the agent hears "created". */
  console_listen(sp);

  int log_fd = -1, out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
  if (sp->stdin_open && !sp->tty && pipe2(in, O_CLOEXEC) < 0) die("pipe2");
  if (sp->log) {
    log_fd = log_open(sp->log, sp->log_max_size, sp->log_max_files);
    /* With a tty the pty master is the one output, read like a pipe. */
    if (!sp->tty && (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)) die("pipe2");
  }
  int sync[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) die("socketpair");
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) die("prctl PR_SET_CHILD_SUBREAPER");

  /* Signals are read from a signalfd in the loop, never handled asynchronously. */
  sigset_t mask;
  sigemptyset(&mask);
  int handled[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof handled / sizeof *handled; i++) sigaddset(&mask, handled[i]);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) die("sigprocmask");
  int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) die("signalfd");

  /* The supervisor stays in the host's pid namespace; its next child is pid 1 of a new one. A
   * plain fork keeps libc's idea of the process consistent, which a raw clone does not. */
  if (!sp->uid_map && unshare(CLONE_NEWPID) < 0) die("unshare CLONE_NEWPID");
  child = sp->uid_map ? clone_into_userns() : fork();
  if (child < 0) die("fork");
  if (child == 0) {
    int inherited[] = {sigfd, sync[0], out[0], err[0], in[1], log_fd, ready_fd, go_fd};
    for (size_t i = 0; i < sizeof inherited / sizeof *inherited; i++)
      if (inherited[i] >= 0) close(inherited[i]);
    container_main(sp, sync[1], out[1], err[1], in[0]);
  }
  close(sync[1]);
  if (sp->uid_map) enter_userns_from_outside(sync[0]);
  if (in[0] >= 0) {
    close(in[0]);
    console_set_stdin(in[1]);
  }
  if (console_enabled()) log_tee = tee_to_console;
  if (sp->log && !sp->tty) {
    close(out[1]);
    close(err[1]);
    log_stream_init(&streams[0], out[0], "stdout");
    log_stream_init(&streams[1], err[0], "stderr");
  } else {
    streams[0].fd = streams[1].fd = -1;
  }

  char msg[1100], pid_text[24];
  snprintf(pid_text, sizeof pid_text, "%d", (int)child);
  for (size_t i = 0; i < sp->cgroup_procs.n; i++)
    if (write_file(sp->cgroup_procs.items[i], pid_text) < 0) die("write %s to %s", pid_text, sp->cgroup_procs.items[i]);
  char c = SYNC_IN_CGROUPS;
  if (send(sync[0], &c, 1, MSG_NOSIGNAL) < 0) die("write to the container process");
  if (receive(sync[0], msg, sizeof msg) == 0) diex("the container process exited before its namespaces were made");
  if (msg[0] == SYNC_ERROR) diex("%s", msg + 1);
  if (sp->pid_file) {
    size_t len = strlen(pid_text);
    pid_text[len] = '\n';
    /* Not durable: after a power loss the pid means nothing, and the flushes would delay every start. */
    if (write_file_atomic(sp->pid_file, pid_text, len + 1, 0) < 0) die("write %s", sp->pid_file);
    pid_text[len] = '\0';
  }
  ready("created %d\n", (int)child);
  if (go_fd >= 0 && !wait_for_go(go_fd)) diex("cancelled before start");
  c = SYNC_GO;
  if (send(sync[0], &c, 1, MSG_NOSIGNAL) < 0) die("write to the container process");

  int execing = 0;
  while (receive(sync[0], msg, sizeof msg) > 0) {
    if (msg[0] == SYNC_EXECING) execing = 1;
    if (msg[0] == SYNC_ERROR) diex("%s", msg + 1);
  }
  close(sync[0]);
  if (!execing) diex("the container process died during setup");
  if (sp->tty) {
    if (received_master < 0) diex("the container process sent no pty");
    if (fcntl(received_master, F_SETFL, O_NONBLOCK) < 0) die("fcntl O_NONBLOCK on the pty master");
    log_stream_init(&streams[0], received_master, "stdout");
    console_set_tty(received_master, sp->stdin_open);
  }
  ready("started\n");
  ready_done();
  /* From here on a failure is the container's own exit, not a failed start. */
  fatal_hook = NULL;

  int status = supervise(sigfd);
  /* The container's mount namespace died with its last process: unmount its rootfs here, before
   * the exit file tells the agent, which then has no umount to spawn (it still checks, and unmounts
   * what is left, e.g. when this fails). */
  unmount_rootfs();
  if (WIFSIGNALED(status))
    write_exit_file(128 + WTERMSIG(status), WTERMSIG(status), NULL);
  else
    write_exit_file(WEXITSTATUS(status), 0, NULL);
  /* After the exit file: an attacher that hears the code finds the container ended. */
  console_end(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  return 0;
}
