/* Opening paths inside a directory tree that someone else controls (an image's rootfs, a layer
 * being unpacked) without ever being led outside it by a symlink or "..". */
#ifndef ONGGI_BENEATH_H
#define ONGGI_BENEATH_H

/* An O_PATH fd of directory rel inside root, creating missing components (mode 0755). Symlinks
 * are resolved as if root were "/", which is what they mean inside a container image. */
int ensure_dir_in_root(int rootfd, const char *rel);
/* Re-resolves rel inside root the same way, without creating anything: after a mount on rel this
 * reaches the new filesystem, which the fd from before the mount does not. */
int open_in_root(int rootfd, const char *rel, int flags);
/* Opens rel strictly beneath root: no symlink at all, no "..", no crossing out. */
int open_beneath(int rootfd, const char *rel, int flags);
/* A path contains a ".." component. */
int has_dotdot(const char *rel);

#endif
