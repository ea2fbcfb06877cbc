/* The final steps shared by `run` and `exec`: working directory, identity, capabilities,
 * no_new_privs, seccomp, then execve with exactly the environment the agent gave. */
#ifndef ONGGI_EXEC_H
#define ONGGI_EXEC_H

#include "spec.h"

/* Called after the filter is installed, right before the first execve: the last moment to hand
 * over stdio or tell the supervisor that what follows is the container's own command. */
typedef void (*before_exec_fn)(void);

_Noreturn void become_container(const struct spec *sp, int create_cwd, before_exec_fn before_exec);

#endif
