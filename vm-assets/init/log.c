#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "util.h"

static int log_fd = -1;
static int write_failed;
static char record[JSON_ESCAPED_MAX(LOG_CHUNK) + 128];

void log_open(int out_fd) { log_fd = out_fd; }

void log_stream_init(struct log_stream *s, int fd, const char *name) {
  s->fd = fd;
  s->name = name;
  s->len = 0;
}

static void emit(const struct log_stream *s, const unsigned char *text, size_t len, const char *time) {
  if (len == 0) return;
  int n = snprintf(record, sizeof record, "{\"time\":\"%s\",\"stream\":\"%s\",\"log\":\"", time, s->name);
  size_t at = (size_t)n + json_escape(record + n, text, len);
  memcpy(record + at, "\"}\n", 3);
  at += 3;
  /* One write per record: with O_APPEND a reader tailing the file never sees two interleaved. */
  if (write_all(log_fd, record, at) < 0) {
    if (!write_failed) note("write container log: %s (output is dropped until it works again)", strerror(errno));
    write_failed = 1;
  } else {
    write_failed = 0;
  }
}

void log_pump(struct log_stream *s) {
  if (s->fd < 0) return;
  ssize_t n = read(s->fd, s->buf + s->len, LOG_CHUNK - s->len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  char time[48];
  rfc3339_now(time, sizeof time);
  if (n <= 0) {
    emit(s, s->buf, s->len, time);
    s->len = 0;
    close(s->fd);
    s->fd = -1;
    return;
  }
  s->len += (size_t)n;
  size_t start = 0;
  for (;;) {
    unsigned char *nl = memchr(s->buf + start, '\n', s->len - start);
    if (!nl) break;
    size_t end = (size_t)(nl - s->buf) + 1;
    emit(s, s->buf + start, end - start, time);
    start = end;
  }
  size_t rest = s->len - start;
  if (start == 0 && rest == LOG_CHUNK) {
    size_t whole = utf8_whole_prefix(s->buf, rest);
    emit(s, s->buf, whole, time);
    start = whole;
    rest -= whole;
  }
  if (start > 0) memmove(s->buf, s->buf + start, rest);
  s->len = rest;
}

void log_finish(struct log_stream *s) {
  if (s->fd < 0) return;
  char time[48];
  rfc3339_now(time, sizeof time);
  emit(s, s->buf, s->len, time);
  s->len = 0;
  close(s->fd);
  s->fd = -1;
}
