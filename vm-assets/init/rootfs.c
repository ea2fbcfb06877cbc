#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "beneath.h"
#include "devices.h"
#include "mounts.h"
#include "privileges.h"
#include "util.h"

static void fd_path(char *buf, size_t size, int fd) { snprintf(buf, size, "/proc/self/fd/%d", fd); }

void mount_at(int dirfd, const char *shown, const char *source, const char *fstype, unsigned long flags, const char *data) {
  char target[64];
  fd_path(target, sizeof target, dirfd);
  if (mount(source, target, fstype, flags, data) < 0) die("mount %s on %s", fstype, shown);
}

static void mount_in(int rootfd, const char *rel, const char *source, const char *fstype, unsigned long flags, const char *data) {
  char shown[256];
  snprintf(shown, sizeof shown, "/%s", rel);
  int fd = ensure_dir_in_root(rootfd, rel);
  if (fd < 0) die("mkdir %s", shown);
  mount_at(fd, shown, source, fstype, flags, data);
  close(fd);
}

/* Binds source over /etc/NAME inside root. Nothing of the container runs yet, so the image's
 * content is all there is to distrust: /etc is resolved as the container would (symlinks stay
 * inside root), and a symlink or other non-file at NAME is replaced by an empty file of ours
 * (O_EXCL | O_NOFOLLOW: never created through a link), as the agent does for /etc/hosts. */
static void bind_etc_file(int root, const char *name, const char *source) {
  char shown[128];
  snprintf(shown, sizeof shown, "/etc/%s", name);
  int etc = ensure_dir_in_root(root, "etc");
  if (etc < 0) die("mkdir /etc");
  int fd = openat(etc, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) < 0) die("stat %s", shown);
  if (fd >= 0 && S_ISDIR(st.st_mode)) diex("%s is a directory in the image", shown);
  if (fd < 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) {
      close(fd);
      if (unlinkat(etc, name, 0) < 0) die("remove %s", shown);
    } else if (errno != ENOENT) {
      die("open %s", shown);
    }
    int made = openat(etc, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (made < 0) die("create %s", shown);
    close(made);
    fd = openat(etc, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) die("open %s", shown);
  }
  char target[64];
  fd_path(target, sizeof target, fd);
  if (mount(source, target, NULL, MS_BIND, NULL) < 0) die("bind %s on %s", source, shown);
  close(fd);
  close(etc);
}

void setup_rootfs(const struct spec *sp) {
  /* Nothing we mount may propagate back to the host, and the host's later mounts and unmounts
   * must not reach in; pivot_root also refuses a shared parent mount. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / rprivate");
  int root = sp->rootfs_fd;
  /* Opened ahead (a user namespace, userns.h): already bound onto itself. */
  if (root < 0) {
    /* pivot_root needs the new root to be a mount point; a plain directory becomes one this way. */
    if (mount(sp->rootfs, sp->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind %s onto itself", sp->rootfs);
    root = open(sp->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0) die("open %s", sp->rootfs);
  }

  /* Our own pid namespace's proc, so the container sees only its processes. */
  mount_in(root, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  /* sysfs shows the mounting process's network namespace: ours, which holds only lo. */
  /* --privileged: writable, as Docker leaves it for a privileged container. */
  unsigned long sys_ro = sp->privileged ? 0 : MS_RDONLY;
  mount_in(root, "sys", "sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | sys_ro, NULL);
  /* After unshare(CLONE_NEWCGROUP) the container's cgroup is this mount's root. */
  if (sp->cgroupfs_v2) mount_in(root, "sys/fs/cgroup", "cgroup2", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC | sys_ro, NULL);
  setup_dev(root, sp->shm_size, sp->uid_map != NULL);
  make_device_nodes(root, &sp->device_nodes);
  char resolv_ahead[64];
  snprintf(resolv_ahead, sizeof resolv_ahead, "/proc/self/fd/%d", sp->resolv_conf_fd);
  if (sp->resolv_conf) bind_etc_file(root, "resolv.conf", sp->resolv_conf_fd >= 0 ? resolv_ahead : sp->resolv_conf);
  char hosts_ahead[64];
  snprintf(hosts_ahead, sizeof hosts_ahead, "/proc/self/fd/%d", sp->hosts_file_fd);
  if (sp->hosts_file) bind_etc_file(root, "hosts", sp->hosts_file_fd >= 0 ? hosts_ahead : sp->hosts_file);
  /* The container's own mounts go over the image's tree and the standard ones, still before
   * pivot_root: their sources are paths of the machine, which only this side of it can open. */
  apply_mounts(root, sp->mounts, sp->nmounts);

  if (sp->hostname && sethostname(sp->hostname, strlen(sp->hostname)) < 0) die("sethostname %s", sp->hostname);

  /* pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves the new
   * root alone, with no directory of the host's needed to park the old one in. */
  if (fchdir(root) < 0) die("chdir %s", sp->rootfs);
  if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root %s", sp->rootfs);
  if (umount2(".", MNT_DETACH) < 0) die("umount2 the old root");
  if (chdir("/") < 0) die("chdir /");
  close(root);
  /* --read-only: only the root's own mount; /proc, /dev, /dev/shm and the /etc files bound on it
   * keep theirs. A bind remount replaces every per-mount flag, so keep what was there. */
  if (sp->read_only_rootfs) {
    int self = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (self < 0) die("open /");
    unsigned long flags = mount_flags_of(self) | MS_BIND | MS_REMOUNT | MS_RDONLY;
    close(self);
    if (mount(NULL, "/", NULL, flags, NULL) < 0) die("remount / read-only");
  }
}

unsigned long mount_flags_of(int fd) {
  static const struct {
    unsigned long st, ms;
  } map[] = {
      {ST_RDONLY, MS_RDONLY},       {ST_NOSUID, MS_NOSUID},         {ST_NODEV, MS_NODEV},
      {ST_NOEXEC, MS_NOEXEC},       {ST_NOATIME, MS_NOATIME},       {ST_NODIRATIME, MS_NODIRATIME},
      {ST_RELATIME, MS_RELATIME},   {ST_SYNCHRONOUS, MS_SYNCHRONOUS},
  };
  struct statvfs sv;
  unsigned long flags = 0;
  if (fstatvfs(fd, &sv) < 0) return 0;
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    if (sv.f_flag & map[i].st) flags |= map[i].ms;
  return flags;
}

/* An O_PATH fd of path, or -1 if it does not exist in this container (nothing to protect). */
static int open_existing(const char *path) {
  int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) die("open %s", path);
  return fd;
}

void restrict_paths(const struct spec *sp) {
  for (size_t i = 0; i < sp->readonly.n; i++) {
    const char *path = sp->readonly.items[i];
    int fd = open_existing(path);
    if (fd < 0) continue;
    char target[64];
    fd_path(target, sizeof target, fd);
    if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind %s onto itself", path);
    close(fd);
    /* The fd from before the bind sits under it; the remount must name the bind mount itself. */
    fd = open_existing(path);
    if (fd < 0) diex("%s vanished while being made read-only", path);
    fd_path(target, sizeof target, fd);
    /* A bind remount replaces every per-mount flag, so keep what was there (nosuid, noatime...). */
    unsigned long flags = mount_flags_of(fd) | MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mount(NULL, target, NULL, flags, NULL) < 0) die("remount %s read-only", path);
    close(fd);
  }
  for (size_t i = 0; i < sp->masks.n; i++) {
    const char *path = sp->masks.items[i];
    int fd = open_existing(path);
    if (fd < 0) continue;
    struct stat st;
    if (fstat(fd, &st) < 0) die("stat %s", path);
    if (S_ISDIR(st.st_mode)) {
      mount_at(fd, path, "tmpfs", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    } else if (!S_ISLNK(st.st_mode)) {
      char target[64];
      fd_path(target, sizeof target, fd);
      if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0) die("mount /dev/null on %s", path);
    }
    close(fd);
  }
}
