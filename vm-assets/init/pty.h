/* `exec --tty`: the command's terminal is a new pty from the container's own devpts, as Docker
 * makes it, so `tty` names /dev/pts/N inside and every terminal ioctl works; the helper relays
 * bytes between its own stdio and the pty's master side. */
#ifndef ONGGI_PTY_H
#define ONGGI_PTY_H

#include <sys/types.h>

#include "spec.h"

struct pty {
  int master;
  int slave;
};

/* Called inside the container's mount namespace, still root: opens its /dev/ptmx (checked to be
 * the pty multiplexer), unlocks and opens the slave, gives the slave to the command's uid and
 * sizes it: from our stdin (or stdout) when that is a terminal, else from --tty-size. */
struct pty pty_open(const struct spec *sp);

/* Before anything is opened, outside the container: a closed fd 0, 1 or 2 becomes the host's
 * /dev/null, so the pty's fds never land there (the relay reads 0 and writes 1). */
void pty_stdio_guard(void);

/* In the forked command, before become_container: a session of its own with the slave as its
 * controlling terminal and as stdin, stdout and stderr. */
void pty_attach(struct pty *pty);

/* In the parent, once the command runs: relays stdin to the master and the master to stdout,
 * copies window size changes (SIGWINCH) and forwards other signals to the command. sigfd is a
 * signalfd for SIGCHLD, SIGWINCH and the forwarded signals. Returns the command's exit status
 * (128+N when signal N ended it) after its last output is written. Never touches the modes of
 * the terminal we were given. resize_fd (or -1): `ROWSxCOLS` lines that resize the pty. */
int pty_relay(struct pty *pty, int sigfd, pid_t child, int resize_fd);

#endif
