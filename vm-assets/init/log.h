/* The container's stdout and stderr, captured through pipes and appended to the log file as
 * Docker's json-file lines: {"time":...,"stream":"stdout","log":"text\n"}. */
#ifndef ONGGI_LOG_H
#define ONGGI_LOG_H

#include <stddef.h>

/* A line longer than this is written in pieces, so one chatty line cannot grow memory. */
#define LOG_CHUNK 16384

struct log_stream {
  int fd; /* read end of the pipe; -1 once it reached EOF */
  const char *name;
  size_t len;
  unsigned char buf[LOG_CHUNK];
};

void log_open(int out_fd);
void log_stream_init(struct log_stream *s, int fd, const char *name);
/* Reads what the pipe holds and writes every complete line. At EOF writes the rest, closes the
 * pipe and sets fd to -1. */
void log_pump(struct log_stream *s);
/* Writes whatever part of a line is buffered and stops reading the pipe. */
void log_finish(struct log_stream *s);

#endif
