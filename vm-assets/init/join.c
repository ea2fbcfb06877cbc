/* `exec`: a second process in a running container, as `docker exec` makes: the container's
 * cgroups and namespaces, then the same identity, capabilities and seccomp filter as its first
 * process. The caller's stdio (a PTY or pipes) passes through untouched; with --tty the command
 * gets a new pty from the container's own devpts instead, and we relay between the two (pty.c). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "exec.h"
#include "pty.h"
#include "util.h"

/* user is joined first, and only when the container has its own (--userns=auto): it makes us
 * privileged over the other namespaces it owns (userns.h). mnt comes last because it also moves
 * our root, and the others are opened by path before that. */
static const struct {
  const char *name;
  int type;
} namespaces[] = {
    {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"cgroup", CLONE_NEWCGROUP}, {"mnt", CLONE_NEWNS},
};
#define NAMESPACES (sizeof namespaces / sizeof *namespaces)

int cmd_exec(struct spec *sp) {
  pid_t target = sp->target_pid;
  /* Whatever the caller leaked (sockets of the agent, a terminal's other fds) stays out. */
  cloexec_from(3);
  if (sp->tty) pty_stdio_guard();

  char pid_text[24];
  snprintf(pid_text, sizeof pid_text, "%d", (int)getpid());
  /* Joined before the cgroup namespace, so the container's cgroup is what we see as its root. */
  for (size_t i = 0; i < sp->cgroup_procs.n; i++)
    if (write_file(sp->cgroup_procs.items[i], pid_text) < 0) die("write %s to %s", pid_text, sp->cgroup_procs.items[i]);

  int fds[NAMESPACES];
  char path[64];
  for (size_t i = 0; i < NAMESPACES; i++) {
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)target, namespaces[i].name);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) die("open %s", path);
  }
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)target);
  int userns = open(path, O_RDONLY | O_CLOEXEC);
  if (userns < 0) die("open %s", path);
  struct stat theirs, ours;
  if (fstat(userns, &theirs) < 0 || stat("/proc/self/ns/user", &ours) < 0) die("stat the user namespaces");
  /* What the container calls "/", to check setns(mnt) really put us there. */
  snprintf(path, sizeof path, "/proc/%d/root", (int)target);
  struct stat want, got;
  if (stat(path, &want) < 0) die("stat %s", path);

  if (theirs.st_ino != ours.st_ino && setns(userns, CLONE_NEWUSER) < 0) die("setns user namespace of pid %d", (int)target);
  close(userns);
  for (size_t i = 0; i < NAMESPACES; i++) {
    if (setns(fds[i], namespaces[i].type) < 0) die("setns %s namespace of pid %d", namespaces[i].name, (int)target);
    close(fds[i]);
  }
  if (stat("/", &got) < 0) die("stat /");
  if (got.st_dev != want.st_dev || got.st_ino != want.st_ino) diex("setns mnt of pid %d: / is not the container's root", (int)target);

  struct pty pty = {.master = -1, .slave = -1};
  if (sp->tty) pty = pty_open(sp);
  /* Only the relay reads it: the command never inherits it (and a bad number fails here, loudly). */
  if (sp->resize_fd >= 0 && fcntl(sp->resize_fd, F_SETFD, FD_CLOEXEC) < 0) die("--resize-fd %d", sp->resize_fd);

  sigset_t mask, old;
  sigemptyset(&mask);
  int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaddset(&mask, forwarded[i]);
  sigaddset(&mask, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &mask, &old) < 0) die("sigprocmask");
  int sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
  if (sigfd < 0) die("signalfd");

  /* setns(pid) applies to children only: the command must be one. */
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    close(sigfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    fatal_status = 127;
    if (sp->tty) pty_attach(&pty);
    become_container(sp, 0, NULL);
  }
  if (sp->tty) return pty_relay(&pty, sigfd, child, sp->resize_fd);

  for (;;) {
    struct signalfd_siginfo si;
    ssize_t n = read(sigfd, &si, sizeof si);
    if (n < 0 && errno == EINTR) continue;
    if (n != (ssize_t)sizeof si) die("read signalfd");
    if (si.ssi_signo != SIGCHLD) {
      /* A terminal's ^C or resize reaches the child directly (same process group); forward only
       * what a process sent to us, or the command would get it twice. */
      if (si.ssi_code != SI_KERNEL) kill(child, (int)si.ssi_signo);
      continue;
    }
    int status;
    pid_t pid = waitpid(child, &status, WNOHANG);
    if (pid == child) return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  }
}
