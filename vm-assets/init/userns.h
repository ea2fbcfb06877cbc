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
/* In the container's user namespace and mount namespace, before anything is made there: opens
 * the machine's paths the container needs (rootfs, resolv.conf, bind sources) while we still are
 * the machine's uid 0 (unmapped inside, but the owner of the agent's 0700 directories), then
 * becomes the namespace's root (uid and gid 0 inside, the range's first ids outside), keeping its
 * capabilities: files made from here on (in /dev's tmpfs, which refuses unmapped owners with
 * EOVERFLOW, and in the rootfs) belong to the container's root. */
void become_userns_root(struct spec *sp);

#endif
