#include "devices.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "beneath.h"
#include "rootfs.h"
#include "util.h"

static const struct {
  const char *name;
  unsigned major, minor;
} nodes[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const struct {
  const char *name, *target;
} links[] = {
    {"fd", "/proc/self/fd"},
    {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},
    {"ptmx", "pts/ptmx"},
};

/* A directory in our own fresh tmpfs: nobody else can have put a symlink there. */
static int subdir(int dev, const char *name, const char *shown) {
  if (mkdirat(dev, name, 0755) < 0 && errno != EEXIST) die("mkdir %s", shown);
  int fd = openat(dev, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) die("open %s", shown);
  return fd;
}

/* An empty file at /dev/NAME with the machine's node bound on it. */
static void bind_node(int dev, const char *name) {
  char shown[64], source[64];
  snprintf(shown, sizeof shown, "/dev/%s", name);
  snprintf(source, sizeof source, "/dev/%s", name);
  int made = openat(dev, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (made < 0) die("create %s", shown);
  close(made);
  int fd = openat(dev, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) die("open %s", shown);
  mount_at(fd, shown, source, "bind", MS_BIND, NULL); /* the type is ignored by MS_BIND; it names the mount in errors */
  close(fd);
}

void setup_dev(int rootfd, unsigned long long shm_size, int bind_nodes) {
  int mnt = ensure_dir_in_root(rootfd, "dev");
  if (mnt < 0) die("mkdir /dev");
  mount_at(mnt, "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  close(mnt);
  int dev = open_in_root(rootfd, "dev", O_PATH | O_DIRECTORY);
  if (dev < 0) die("open /dev");

  for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
    if (bind_nodes) {
      bind_node(dev, nodes[i].name);
      continue;
    }
    /* umask is 0 during setup, so the mode is exactly what is asked. */
    if (mknodat(dev, nodes[i].name, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)) < 0)
      die("mknod /dev/%s", nodes[i].name);
  }
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
    if (symlinkat(links[i].target, dev, links[i].name) < 0) die("symlink /dev/%s -> %s", links[i].name, links[i].target);
  }

  int fd = subdir(dev, "pts", "/dev/pts");
  /* newinstance: the container's ptys are its own, not the host's. */
  mount_at(fd, "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
  close(fd);
  fd = subdir(dev, "shm", "/dev/shm");
  char shm_options[64];
  snprintf(shm_options, sizeof shm_options, "mode=1777,size=%llu", shm_size ? shm_size : 65536ULL * 1024);
  mount_at(fd, "/dev/shm", "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm_options);
  close(fd);
  fd = subdir(dev, "mqueue", "/dev/mqueue");
  mount_at(fd, "/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  close(fd);
  close(dev);
}
