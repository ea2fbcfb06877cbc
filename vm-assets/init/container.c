#include "container.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "privileges.h"
#include "pty.h"
#include "rootfs.h"
#include "userns.h"
#include "util.h"

static int sync_fd = -1;
static int out_fd = -1, err_fd = -1, in_fd = -1;

static void tell(const char *message, size_t len) {
  /* The supervisor may be gone; then nobody is left to tell and exiting is all there is. */
  while (send(sync_fd, message, len, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

static void report_failure(const char *message) {
  char buf[1100];
  int n = snprintf(buf, sizeof buf, "%c%s", SYNC_ERROR, message);
  tell(buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void wait_for(char expected) {
  char c = 0;
  ssize_t n;
  while ((n = recv(sync_fd, &c, 1, 0)) < 0 && errno == EINTR) {
  }
  /* EOF: the supervisor died or gave up (cancelled); it already owns the story. */
  if (n != 1 || c != expected) _exit(127);
}

/* The new network namespace's loopback, up (what `ip link set lo up` does), done here while we
 * still hold CAP_NET_ADMIN: no nsenter + ip spawn on every container start. */
static void loopback_up(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) die("read the flags of lo");
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) die("bring lo up");
  close(fd);
}

/* --tty: a pty from the container's own devpts (as `exec --tty` makes one), its master handed to
 * the supervisor, which keeps it for the container's life and serves it to attachers; the slave
 * becomes this process's controlling terminal and stdio. Done as root, before privileges drop. */
static void take_console(const struct spec *sp) {
  struct pty pty = pty_open(sp);
  char c = SYNC_CONSOLE;
  struct iovec iov = {.iov_base = &c, .iov_len = 1};
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &pty.master, sizeof(int));
  while (sendmsg(sync_fd, &msg, MSG_NOSIGNAL) < 0)
    if (errno != EINTR) die("send the pty master to the supervisor");
  pty_attach(&pty);
}

static void hand_over_stdio(void) {
  if (out_fd >= 0 && (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0)) die("dup2 the log pipes");
  if (in_fd >= 0 && dup2(in_fd, STDIN_FILENO) < 0) die("dup2 the stdin pipe");
  char x = SYNC_EXECING;
  tell(&x, 1);
}

void container_main(const struct spec *sp, int sync, int out, int err, int in) {
  sync_fd = sync;
  out_fd = out;
  err_fd = err;
  in_fd = in;
  fatal_status = 127;
  fatal_hook = report_failure;

  /* The supervisor's signal handling is not the container's: start from the defaults. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  cloexec_from(3);
  /* Device nodes and mount points get exactly the modes asked for. */
  umask(0);

  /* Our namespaces below must be made in the user namespace once it has its maps, and our copy
   * of the machine's mounts must hold the rootfs, which the supervisor mounts after the clone. */
  if (sp->uid_map) wait_for(SYNC_USERNS);
  /* Everything but the pid namespace, which fork already put us in as pid 1. */
  if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET) < 0) die("unshare mount, uts, ipc and net namespaces");
  /* Private at once, not only in setup_rootfs: the agent bind-mounts the container's /etc/hosts in
   * this namespace before "go", and on a machine whose / is shared (systemd) that mount would
   * otherwise propagate back to the machine's copy of the rootfs and keep it busy at unmount. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / rprivate");
  loopback_up();
  wait_for(SYNC_IN_CGROUPS);
  /* Only now, inside the container's cgroups, so they become the namespace's root. */
  if (unshare(CLONE_NEWCGROUP) < 0) die("unshare CLONE_NEWCGROUP");
  char c = SYNC_NAMESPACES;
  tell(&c, 1);
  wait_for(SYNC_GO);

  if (sp->uid_map) become_userns_root((struct spec *)sp);
  setup_rootfs(sp);
  /* /proc is the container's now, and not yet read-only. */
  apply_sysctls(&sp->sysctls);
  restrict_paths(sp);
  if (sp->tty) take_console(sp);
  become_container(sp, 1, hand_over_stdio);
}
