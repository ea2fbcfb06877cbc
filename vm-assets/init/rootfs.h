/* The container's filesystem view: its own mount tree with the standard kernel filesystems,
 * pivoted into, then the masked and read-only paths. */
#ifndef ONGGI_ROOTFS_H
#define ONGGI_ROOTFS_H

#include "spec.h"

/* Everything up to and including pivot_root; on return "/" is the container's root. */
void setup_rootfs(const struct spec *sp);
/* Masked and read-only paths, inside the container's root. */
void restrict_paths(const struct spec *sp);
/* Mounts fstype at rel inside root through an fd, so the target cannot be swapped for a symlink
 * between resolving and mounting. shown names the path in error messages. */
void mount_at(int dirfd, const char *shown, const char *source, const char *fstype, unsigned long flags, const char *data);

/* The MS_* flags of the mount fd is on, for a bind remount (which replaces every per-mount flag). */
unsigned long mount_flags_of(int fd);

#endif
