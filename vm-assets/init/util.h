/* Error reporting, whole-buffer I/O and the small parsers every part of the helper shares. */
#ifndef ONGGI_UTIL_H
#define ONGGI_UTIL_H

#include <stddef.h>
#include <sys/types.h>

#define PROG "onggi-init"

/* A fatal message is handed here (without the program prefix) instead of being printed, when set:
 * the container child has no useful stderr of its own before exec, its supervisor does. */
extern void (*fatal_hook)(const char *message);
/* Exit status of die()/diex(): 1 for the helper's own commands, 127 once we stand for a container. */
extern int fatal_status;

/* Formats the message, appends ": strerror(errno)", reports it and exits with fatal_status. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same without errno. */
_Noreturn void diex(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A warning on stderr; never fatal. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int write_all(int fd, const void *buf, size_t len);
/* Replaces path with data so readers see the old or the new file, never a half-written one: temp
 * file in the same dir, rename. With durable, the new one also survives a power loss (fsync the
 * file before the rename, the dir after): worth two disk flushes only for what outlives a reboot. */
int write_file_atomic(const char *path, const char *data, size_t len, int durable);
/* One write to an existing file, as cgroup control files want. */
int write_file(const char *path, const char *data);

/* Current UTC time as RFC 3339 with nanoseconds, e.g. 2026-11-23T10:00:00.123456789Z. */
void rfc3339_now(char *out, size_t size);

/* Strict decimal parse: digits only, no sign, no overflow, at most max. */
int parse_ulong(const char *s, unsigned long max, unsigned long *out);

/* Marks every fd from `from` up close-on-exec so nothing the caller leaked reaches a container. */
void cloexec_from(int from);

#endif
