/* launch: starts several `run` supervisors from one process. The agent is a large process and
 * each spawn of its own forks it (page tables copied, its event loop blocked until the child has
 * exec'd: ~2.7 ms a start in bench case 3); this small one forks cheaply. The agent spawns one
 * `launch` for the starts that reach that point together.
 *
 *   launch COUNT { LOG ARGC ARG... } × COUNT
 *
 * Supervisor i finds its ready and go pipes on fds 3 + 2i and 4 + 2i; they are moved to 3 and 4,
 * its stdout and stderr go to LOG (appended, made 0600), it gets a session of its own (it outlives
 * the agent, conmon's model) and execs ARG... (the helper's own `run` argv, `--ready-fd 3 --go-fd
 * 4`). What fails before that exec is reported on its ready pipe as `error MESSAGE`, as `run`
 * reports a failure before start. launch exits once every supervisor is forked: they are no
 * children of the agent's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "util.h"

/* The fds a batch may use: two pipes a supervisor after stdio. */
#define MAX_LAUNCH 256

static void report(int fd, const char *what, const char *path) {
  char msg[600];
  int len = snprintf(msg, sizeof msg, "error %s %s: %s\n", what, path, strerror(errno));
  if (len > 0 && write(fd, msg, (size_t)len) < 0) {
    /* nothing left to tell it through: the agent sees the pipe end without a line */
  }
}

static void become_supervisor(int i, int count, const char *log, char **args) {
  int ready = 3 + 2 * i, go = 4 + 2 * i, high = 3 + 2 * count;
  /* Above every batch fd first, so moving one onto 3 or 4 never clobbers another's. */
  int r = fcntl(ready, F_DUPFD_CLOEXEC, high), g = fcntl(go, F_DUPFD_CLOEXEC, high);
  if (r < 0 || g < 0) _exit(127);
  if (setsid() < 0) {
    report(r, "setsid", "");
    _exit(127);
  }
  int out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (out < 0) {
    report(r, "open", log);
    _exit(127);
  }
  if (dup2(out, 1) < 0 || dup2(out, 2) < 0 || dup2(r, 3) < 0 || dup2(g, 4) < 0) {
    report(r, "dup2", "");
    _exit(127);
  }
  /* The other supervisors' pipes must not stay open here, or their ends would never close. */
  cloexec_from(5);
  execv(args[0], args);
  report(3, "exec", args[0]);
  _exit(127);
}

static int bad(const char *what) {
  fprintf(stderr, "onggi-init launch: %s\n", what);
  return 2;
}

int cmd_launch(int argc, char **argv) {
  unsigned long count;
  if (argc < 1 || parse_ulong(argv[0], MAX_LAUNCH, &count) < 0 || count == 0) return bad("COUNT must be 1 to 256");
  /* Every entry checked before the first fork: a malformed batch starts none. */
  int at = 1;
  for (unsigned long i = 0; i < count; i++) {
    unsigned long n;
    if (at + 1 >= argc || parse_ulong(argv[at + 1], (unsigned long)argc, &n) < 0 || n == 0 || at + 2 + (int)n > argc)
      return bad("expected LOG ARGC ARG... for each supervisor");
    if (argv[at][0] != '/' || argv[at + 2][0] != '/') return bad("LOG and the helper must be absolute paths");
    at += 2 + (int)n;
  }
  if (at != argc) return bad("arguments left after the last supervisor");
  at = 1;
  for (int i = 0; i < (int)count; i++) {
    const char *log = argv[at];
    int n = atoi(argv[at + 1]);
    char **args = argv + at + 2;
    char *saved = args[n];
    at += 2 + n;
    pid_t pid = fork();
    if (pid == 0) {
      args[n] = NULL;
      become_supervisor(i, (int)count, log, args);
    }
    args[n] = saved;
    if (pid < 0) report(3 + 2 * i, "fork", "");
  }
  return 0;
}
