#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "util.h"

/* The largest record one piece makes: its text escaped, plus time, stream and punctuation. */
#define RECORD_MAX (JSON_ESCAPED_MAX(LOG_CHUNK) + 128)
/* Records are gathered here and written together: one syscall for a pipe's worth of lines. */
#define BATCH_MAX (RECORD_MAX + 256 * 1024)

void (*log_tee)(const struct log_stream *s, const unsigned char *data, size_t len);

static int log_fd = -1;
static const char *log_path;
static unsigned long long max_size; /* 0: the file is never rotated */
static unsigned max_files = 1;
static unsigned long long file_size; /* bytes in the current file, written ones only */
static int write_failed;
static char batch[BATCH_MAX];
static size_t batch_len;

static void open_current(int flags) {
  log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | flags, 0640);
  if (log_fd < 0) {
    note("open %s: %s (output is dropped)", log_path, strerror(errno));
    return;
  }
  struct stat st;
  file_size = fstat(log_fd, &st) == 0 ? (unsigned long long)st.st_size : 0;
}

int log_open(const char *path, unsigned long long size, unsigned files) {
  log_path = path;
  max_size = size;
  max_files = files < 1 ? 1 : files;
  open_current(0);
  if (log_fd < 0) die("open %s", path);
  return log_fd;
}

void log_stream_init(struct log_stream *s, int fd, const char *name) {
  s->fd = fd;
  s->name = name;
  s->len = 0;
}

static void flush(void) {
  if (batch_len == 0) return;
  /* One write of whole records: with O_APPEND a reader tailing the file never sees a torn one. */
  if (log_fd < 0 || write_all(log_fd, batch, batch_len) < 0) {
    if (!write_failed) note("write container log: %s (output is dropped until it works again)", strerror(errno));
    write_failed = 1;
  } else {
    write_failed = 0;
    file_size += batch_len;
  }
  batch_len = 0;
}

/* log → log.1 → … → log.(max_files-1); the rename onto the oldest drops it. The current file is
 * closed first, so once a reader sees a new file at `log_path` the old one is complete. */
static void rotate(void) {
  char from[PATH_MAX], to[PATH_MAX];
  if (log_fd >= 0) close(log_fd);
  log_fd = -1;
  if (max_files == 1) {
    /* Nothing to keep: unlinked, so a reader holding it open still reads to its end. */
    if (unlink(log_path) < 0 && errno != ENOENT) note("unlink %s: %s", log_path, strerror(errno));
  }
  for (unsigned i = max_files - 1; i >= 1; i--) {
    if (i == 1)
      snprintf(from, sizeof from, "%s", log_path);
    else
      snprintf(from, sizeof from, "%s.%u", log_path, i - 1);
    snprintf(to, sizeof to, "%s.%u", log_path, i);
    if (rename(from, to) < 0 && errno != ENOENT) note("rename %s to %s: %s", from, to, strerror(errno));
  }
  open_current(O_TRUNC);
}

/* What every record of one read starts with: `{"time":"…","stream":"…","log":"`. Made once per
 * read, not per line (a read of 64 KiB holds hundreds of lines, all stamped with its time). */
struct record_head {
  char text[100]; /* within the 128 bytes RECORD_MAX keeps beside the escaped text */
  size_t len;
};

static void make_head(struct record_head *head, const struct log_stream *s) {
  char time[48];
  rfc3339_now(time, sizeof time);
  int n = snprintf(head->text, sizeof head->text, "{\"time\":\"%s\",\"stream\":\"%s\",\"log\":\"", time, s->name);
  head->len = n < 0 ? 0 : (size_t)n < sizeof head->text ? (size_t)n : sizeof head->text - 1;
}

static void emit(const unsigned char *text, size_t len, const struct record_head *head) {
  if (len == 0) return;
  if (BATCH_MAX - batch_len < RECORD_MAX) flush();
  char *record = batch + batch_len;
  memcpy(record, head->text, head->len);
  size_t at = head->len + json_escape(record + head->len, text, len);
  memcpy(record + at, "\"}\n", 3);
  at += 3;
  /* Rotate between records: the one that would cross the limit starts the next file. A single
   * record larger than the limit gets a file of its own. */
  if (max_size && file_size + batch_len + at > max_size && file_size + batch_len > 0) {
    if (batch_len > 0) {
      /* Keep this record aside while the batch before it goes to the old file. */
      char held[RECORD_MAX];
      memcpy(held, record, at);
      flush();
      memcpy(batch, held, at);
    }
    rotate();
  }
  batch_len += at;
}

void log_pump(struct log_stream *s) {
  if (s->fd < 0) return;
  ssize_t n = read(s->fd, s->buf + s->len, LOG_READ - s->len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  struct record_head head;
  make_head(&head, s);
  if (n <= 0) {
    emit(s->buf, s->len, &head);
    flush();
    s->len = 0;
    close(s->fd);
    s->fd = -1;
    return;
  }
  if (log_tee) log_tee(s, s->buf + s->len, (size_t)n);
  s->len += (size_t)n;
  size_t start = 0;
  for (;;) {
    unsigned char *nl = memchr(s->buf + start, '\n', s->len - start);
    size_t end = nl ? (size_t)(nl - s->buf) + 1 : 0;
    if (!nl || end - start > LOG_CHUNK) {
      /* No newline within a piece's length: a long line goes out in pieces of LOG_CHUNK bytes,
       * never cutting a UTF-8 character; a shorter unfinished line waits for the rest. */
      if (s->len - start < LOG_CHUNK) break;
      size_t whole = utf8_whole_prefix(s->buf + start, LOG_CHUNK);
      emit(s->buf + start, whole, &head);
      start += whole;
      continue;
    }
    emit(s->buf + start, end - start, &head);
    start = end;
  }
  flush();
  size_t rest = s->len - start;
  if (start > 0) memmove(s->buf, s->buf + start, rest);
  s->len = rest;
}

void log_finish(struct log_stream *s) {
  if (s->fd < 0) return;
  struct record_head head;
  make_head(&head, s);
  emit(s->buf, s->len, &head);
  flush();
  s->len = 0;
  close(s->fd);
  s->fd = -1;
}
