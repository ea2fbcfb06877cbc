#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

void (*fatal_hook)(const char *message);
int fatal_status = 1;

static _Noreturn void fatal(int err, const char *fmt, va_list ap) {
  char message[1024];
  int n = vsnprintf(message, sizeof message, fmt, ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof message) n = sizeof message - 1;
  if (err) snprintf(message + n, sizeof message - (size_t)n, ": %s", strerror(err));
  if (fatal_hook)
    fatal_hook(message);
  else
    dprintf(STDERR_FILENO, "%s: %s\n", PROG, message);
  _exit(fatal_status);
}

void die(const char *fmt, ...) {
  int err = errno;
  va_list ap;
  va_start(ap, fmt);
  fatal(err, fmt, ap);
}

void diex(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fatal(0, fmt, ap);
}

void note(const char *fmt, ...) {
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  dprintf(STDERR_FILENO, "%s: %s\n", PROG, message);
}

int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int write_file_atomic(const char *path, const char *data, size_t len, int durable) {
  char tmp[PATH_MAX];
  if (snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid()) >= (int)sizeof tmp) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return -1;
  if (write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
    int err = errno;
    close(fd);
    unlink(tmp);
    errno = err;
    return -1;
  }
  close(fd);
  if (rename(tmp, path) < 0) {
    int err = errno;
    unlink(tmp);
    errno = err;
    return -1;
  }
  if (!durable) return 0;
  /* The rename itself is durable only once the directory is. */
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash == dir)
    dir[1] = '\0';
  else if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return 0;
}

int write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  /* cgroup files take one write per value; a short write would be an error, not a retry. */
  ssize_t n = write(fd, data, strlen(data));
  int err = errno;
  close(fd);
  if (n < 0) {
    errno = err;
    return -1;
  }
  return 0;
}

void rfc3339_now(char *out, size_t size) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char base[32];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, size, "%s.%09ldZ", base, (long)ts.tv_nsec);
}

int parse_ulong(const char *s, unsigned long max, unsigned long *out) {
  if (!s || !*s) return -1;
  unsigned long value = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    unsigned long digit = (unsigned long)(*p - '0');
    if (value > (max - digit) / 10) return -1;
    value = value * 10 + digit;
  }
  *out = value;
  return 0;
}

void cloexec_from(int from) {
  if (syscall(SYS_close_range, (unsigned)from, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  /* Kernels before 5.11: walk the table up to the limit. */
  long max = sysconf(_SC_OPEN_MAX);
  if (max < 0 || max > 65536) max = 65536;
  for (int fd = from; fd < max; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && !(flags & FD_CLOEXEC)) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}
