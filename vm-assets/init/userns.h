/* --userns=auto: the container's own user namespace. The supervisor (root on the machine) clones
 * the container's first process into a new user and pid namespace at once, writes its uid_map and
 * gid_map from outside, and mounts the rootfs with the image's layers idmapped to that range. */
#ifndef ONGGI_USERNS_H
#define ONGGI_USERNS_H

#include <sys/types.h>

#include "spec.h"

/* The child's side of fork() for a new user + pid namespace (it is pid 1 of the pid namespace,
 * owned by the user namespace, so /proc can be mounted from inside); returns as fork does. */
pid_t clone_into_userns(void);
/* Writes "C H N" maps to /proc/PID/uid_map and gid_map. setgroups stays "allow": the writer is
 * privileged in the parent namespace, so the kernel does not require "deny", and root inside must
 * be able to call setgroups (initgroups, su, the helper's own --groups). */
void write_id_maps(pid_t pid, const struct spec *sp);
/* The overlay's options with each lowerdir replaced by an idmapped clone of it (mapped through
 * PID's user namespace), as /proc/self/fd/N paths; the fds are returned in fds (close them once
 * the overlay is mounted: it keeps private clones of its layers). The upperdir stays as it is: an
 * idmapped upper makes the kernel refuse the overlay's own work dir (EOVERFLOW, the mounter's uid
 * 0 is not in the map) and mount it read-only, so the upper holds the range's ids on disk. */
char *idmapped_overlay_options(const char *overlay, pid_t pid, int *fds, size_t max_fds, size_t *nfds);
/* In the container's user namespace, after the machine's paths were resolved: become its root
 * (uid and gid 0 inside, the range's first ids outside), keeping the namespace's capabilities. */
void become_userns_root(void);

#endif
