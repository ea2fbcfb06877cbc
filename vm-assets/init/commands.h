/* The subcommands main() dispatches to. */
#ifndef ONGGI_COMMANDS_H
#define ONGGI_COMMANDS_H

#include "spec.h"

/* run: supervise one container from clone to exit file. parse_error, when set, is reported
 * through the exit file and ready fd like any other failure before start. */
int cmd_run(struct spec *sp, const char *parse_error);
/* exec: join a running container's namespaces and cgroups, run a command there, pass its status. */
int cmd_exec(struct spec *sp);
int cmd_whiteout(const char *root, char **paths, int n);
int cmd_opaque(const char *root, char **paths, int n);
/* lock: flock(FD, LOCK_EX|LOCK_NB) on the caller's open file description; 0, or 75 when it is held. */
int cmd_lock(const char *fd_text);
/* launch: forks COUNT `run` supervisors, each with its pipes, log and session (launch.c). */
int cmd_launch(int argc, char **argv);
/* dial: bridges stdin/stdout to a unix socket until its peer hangs up (dial.c). */
int cmd_dial(int argc, char **argv);
/* sharefs: mounts a shared desktop folder served over SFTP on a unix socket (sharefs.c). */
int cmd_sharefs(int argc, char **argv);

#endif
