/* lock: takes an exclusive flock on an open file description the caller passed as FD, and exits.
 * The lock belongs to the open file description, not to this process: it stays held for as long as
 * the caller keeps its own descriptor open, and the kernel drops it when the caller dies, however
 * it dies. The agent holds its state directory this way for its whole life (Node has no flock). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "commands.h"

int cmd_lock(const char *fd_text) {
  char *end;
  errno = 0;
  long fd = strtol(fd_text, &end, 10);
  if (errno || *end || end == fd_text || fd < 0 || fd > 1 << 20) {
    fprintf(stderr, "onggi-init lock: not a file descriptor: \"%s\"\n", fd_text);
    return 2;
  }
  while (flock((int)fd, LOCK_EX | LOCK_NB) < 0) {
    if (errno == EINTR) continue;
    /* 75 (EX_TEMPFAIL): someone else holds it; the caller tells that apart from a failure. */
    if (errno == EWOULDBLOCK) return 75;
    fprintf(stderr, "onggi-init lock: flock %ld: %s\n", fd, strerror(errno));
    return 1;
  }
  return 0;
}
