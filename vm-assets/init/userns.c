#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif

pid_t clone_into_userns(void) {
  /* A raw clone, as crun does: glibc's clone() wants a separate stack, and fork() cannot ask for
   * CLONE_NEWUSER. With CLONE_NEWUSER and CLONE_NEWPID in one call the kernel creates the user
   * namespace first and makes it the pid namespace's owner. No stack: the child continues on a
   * copy of ours, as after fork. The process is single-threaded, and the child only ever execs or
   * exits (glibc's cached tid is stale in it, so it must not raise() or abort()). */
  return (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | CLONE_NEWPID | SIGCHLD), NULL, NULL, NULL, NULL);
}

/* "C:H:N" (helper-protocol.ts writes it) as the kernel's "C H N\n". */
static void write_map(pid_t pid, const char *file, const char *map) {
  char line[64], path[64];
  unsigned long inside, outside, count;
  if (sscanf(map, "%lu:%lu:%lu", &inside, &outside, &count) != 3) diex("%s: expected C:H:N: \"%s\"", file, map);
  int n = snprintf(line, sizeof line, "%lu %lu %lu\n", inside, outside, count);
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die("open %s", path);
  /* One write: the kernel takes the map in a single write(2) or not at all. */
  if (write(fd, line, (size_t)n) != n) die("write \"%.*s\" to %s", n - 1, line, path);
  close(fd);
}

void write_id_maps(pid_t pid, const struct spec *sp) {
  write_map(pid, "uid_map", sp->uid_map);
  write_map(pid, "gid_map", sp->gid_map);
}

static int idmapped_clone(const char *dir, int userns) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | O_CLOEXEC);
  if (tree < 0) die("open_tree %s", dir);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)userns};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    /* No chowned-copy fallback (yet): say plainly what this machine lacks. */
    die("mount_setattr MOUNT_ATTR_IDMAP on %s (--userns=auto needs idmapped mounts: Linux 5.12+, overlayfs over them 5.19+, "
        "on a filesystem that supports them)",
        dir);
  return tree;
}

char *idmapped_overlay_options(const char *overlay, pid_t pid, int *fds, size_t max_fds, size_t *nfds) {
  *nfds = 0;
  const char *lower = strncmp(overlay, "lowerdir=", 9) == 0 ? overlay + 9 : NULL;
  if (!lower) diex("--idmap-layers: the overlay options must start with lowerdir=");
  const char *end = strchrnul(lower, ',');
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
  int userns = open(path, O_RDONLY | O_CLOEXEC);
  if (userns < 0) die("open %s", path);
  size_t size = strlen(overlay) + 32 * (max_fds + 1);
  char *out = malloc(size);
  if (!out) die("malloc");
  size_t len = (size_t)snprintf(out, size, "lowerdir=");
  for (const char *p = lower; p < end;) {
    const char *colon = memchr(p, ':', (size_t)(end - p));
    if (!colon) colon = end;
    char dir[4096];
    if ((size_t)(colon - p) >= sizeof dir || *nfds == max_fds) diex("--idmap-layers: too many or too long lowerdirs");
    memcpy(dir, p, (size_t)(colon - p));
    dir[colon - p] = '\0';
    int fd = idmapped_clone(dir, userns);
    fds[(*nfds)++] = fd;
    len += (size_t)snprintf(out + len, size - len, "%s/proc/self/fd/%d", *nfds > 1 ? ":" : "", fd);
    p = colon < end ? colon + 1 : end;
  }
  snprintf(out + len, size - len, "%s", end);
  close(userns);
  return out;
}

static int open_ahead(const char *path, int flags) {
  int fd = open(path, O_PATH | O_CLOEXEC | flags);
  if (fd < 0) die("open %s", path);
  return fd;
}

void become_userns_root(struct spec *sp) {
  /* Bound onto itself here, by path: the overlay's copy in our mount namespace is locked (made by
   * the machine's root) and pivot_root refuses a locked mount; the bind is ours. Opened after it,
   * the path leads to the bind on top. */
  if (mount(sp->rootfs, sp->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind %s onto itself", sp->rootfs);
  sp->rootfs_fd = open_ahead(sp->rootfs, O_DIRECTORY);
  if (sp->resolv_conf) sp->resolv_conf_fd = open_ahead(sp->resolv_conf, 0);
  if (sp->hosts_file) sp->hosts_file_fd = open_ahead(sp->hosts_file, 0);
  for (size_t i = 0; i < sp->nmounts; i++)
    if (!sp->mounts[i].tmpfs) {
      int fd = open(sp->mounts[i].source, O_PATH | O_CLOEXEC);
      if (fd < 0) die("bind source %s", sp->mounts[i].source);
      sp->mounts[i].source_fd = fd;
    }
  if (setresgid(0, 0, 0) < 0) die("setresgid 0 in the user namespace");
  if (setresuid(0, 0, 0) < 0) die("setresuid 0 in the user namespace");
}
