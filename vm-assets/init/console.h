/* A container's console (`run --console SOCKET`): what `docker attach` reaches. The supervisor
 * listens on a unix socket in the container's directory; any number of attachers may connect,
 * leave and come back while the container runs. Each gets the container's output as it is read
 * for the log; input from any of them goes to the container's pty (--tty) or to the pipe that is
 * its stdin (--stdin-open); a resize goes to the pty.
 *
 * Frames both ways: one type byte, the payload's length as 4 bytes big-endian, the payload.
 *   attacher -> supervisor: 'i' input bytes; 'r' resize, "ROWSxCOLS"; 'c' close stdin (EOF).
 *   supervisor -> attacher: 'o' stdout; 'e' stderr; 'x' the container ended, its exit code in
 *   decimal (the last frame; then the supervisor closes the connection). */
#ifndef ONGGI_CONSOLE_H
#define ONGGI_CONSOLE_H

#include <poll.h>

#include "spec.h"

#define CONSOLE_FRAME_MAX 65536
/* Attachers at once; one more is accepted and closed at once. */
#define CONSOLE_CLIENTS 16
/* pollfds console_pollfds may add: the listener, the input, and each attacher. */
#define CONSOLE_POLLFDS (2 + CONSOLE_CLIENTS)

/* Before the container's process is forked: binds and listens (replacing a stale socket), so an
 * attacher can connect as soon as the agent hears "created". With --attach-wait, output is held
 * (not read) until the first attacher connects or that many milliseconds passed. */
void console_listen(const struct spec *sp);
/* Whether this supervisor serves a console. */
int console_enabled(void);
/* The pty master (--tty) or -1; input goes to it when stdin_open. */
void console_set_tty(int master, int stdin_open);
/* The write end of the container's stdin pipe (--stdin-open without --tty). */
void console_set_stdin(int fd);
/* Whether output is still held for the first attacher, and for how many more milliseconds. */
int console_holding(void);
long console_hold_left_ms(void);
/* Adds what to poll; returns how many fds were added (at most CONSOLE_POLLFDS). */
nfds_t console_pollfds(struct pollfd *fds);
/* Handles the revents of the fds console_pollfds added. */
void console_handle(const struct pollfd *fds, nfds_t n);
/* Sends output read from the container to every attacher (stream 'o' or 'e'). */
void console_output(char stream, const void *data, size_t len);
/* The container ended: tells every attacher its exit code, closes them and the socket. */
void console_end(int exit_code);

#endif
