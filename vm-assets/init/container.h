/* The container's first process, from fork to exec: it waits for the supervisor at each step
 * the agent needs to see, then builds the container around itself and becomes the command. */
#ifndef ONGGI_CONTAINER_H
#define ONGGI_CONTAINER_H

#include "spec.h"

/* Messages on the sync socket (SOCK_SEQPACKET: one message per send).
 * supervisor -> child: 'c' you are in your cgroups; 'g' go on with setup.
 * child -> supervisor: "C" namespaces made; "T" with the pty master attached (SCM_RIGHTS, only
 * with --tty); "X" about to execve; "E<reason>" failed.
 * The child's end is close-on-exec, so EOF after "X" means execve succeeded. */
#define SYNC_IN_CGROUPS 'c'
/* supervisor -> child, with a user namespace, first: maps written, rootfs mounted (userns.h). */
#define SYNC_USERNS 'u'
#define SYNC_GO 'g'
#define SYNC_NAMESPACES 'C'
#define SYNC_EXECING 'X'
#define SYNC_ERROR 'E'
#define SYNC_CONSOLE 'T'

/* in_fd: the read end of the stdin pipe (--stdin-open without --tty), or -1. */
_Noreturn void container_main(const struct spec *sp, int sync_fd, int out_fd, int err_fd, int in_fd);

#endif
