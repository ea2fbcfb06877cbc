/* The container's stdout and stderr, captured through pipes and appended to the log file as
 * Docker's json-file lines: {"time":...,"stream":"stdout","log":"text\n"}. The writer rotates the
 * file itself (log → log.1 → … → log.N-1, the oldest dropped), always between two lines. */
#ifndef ONGGI_LOG_H
#define ONGGI_LOG_H

#include <stddef.h>

/* A line longer than this is written in pieces, so one chatty line cannot grow memory. */
#define LOG_CHUNK 16384
/* What one read takes from a pipe: a full pipe (64 KiB by default) in one syscall. */
#define LOG_READ 65536

struct log_stream {
  int fd; /* read end of the pipe; -1 once it reached EOF */
  const char *name;
  size_t len;
  unsigned char buf[LOG_READ];
};

/* When set, sees every piece of output as it is read, before it is split into lines (the
 * console's attachers get it as it came). */
extern void (*log_tee)(const struct log_stream *s, const unsigned char *data, size_t len);

/* path: the log file (opened for appending, created). max_size: bytes per file before it is
 * rotated, 0 for never; max_files: files kept, the current one included (at least 1). Returns
 * the open file (close-on-exec), for a forked child to close; dies if it cannot be opened. */
int log_open(const char *path, unsigned long long max_size, unsigned max_files);
void log_stream_init(struct log_stream *s, int fd, const char *name);
/* Reads what the pipe holds and writes every complete line (all of them in one write, unless a
 * rotation comes between). At EOF writes the rest, closes the pipe and sets fd to -1. */
void log_pump(struct log_stream *s);
/* Writes whatever part of a line is buffered and stops reading the pipe. */
void log_finish(struct log_stream *s);

#endif
