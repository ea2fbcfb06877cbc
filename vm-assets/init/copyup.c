#include "copyup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int dir_is_empty(int dirfd) {
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) die("open a volume to see whether it is empty");
  DIR *dir = fdopendir(fd);
  if (!dir) die("fdopendir");
  int empty = 1;
  for (struct dirent *entry; empty && (entry = readdir(dir));)
    if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) empty = 0;
  closedir(dir);
  return empty;
}

static void same_owner_mode_times(int fd, const struct stat *st, const char *shown) {
  if (fchown(fd, st->st_uid, st->st_gid) < 0) die("copy-up %s: chown", shown);
  if (fchmod(fd, st->st_mode & 07777) < 0) die("copy-up %s: chmod", shown);
  struct timespec times[2] = {st->st_atim, st->st_mtim};
  if (futimens(fd, times) < 0) die("copy-up %s: times", shown);
}

static void copy_file(int from, int to, const char *name, const struct stat *st, const char *shown) {
  int src = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0) die("copy-up %s: open %s", shown, name);
  int dst = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0) die("copy-up %s: create %s", shown, name);
  char buf[65536];
  for (;;) {
    ssize_t n = read(src, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("copy-up %s: read %s", shown, name);
    if (n == 0) break;
    if (write_all(dst, buf, (size_t)n) < 0) die("copy-up %s: write %s", shown, name);
  }
  same_owner_mode_times(dst, st, shown);
  close(src);
  close(dst);
}

static void copy_tree(int from, int to, const char *shown, int depth) {
  /* Deeper than any image has: a loop of bind mounts or a hostile layer, not a tree to copy. */
  if (depth > 256) diex("copy-up %s: the tree is deeper than 256 levels", shown);
  int fd = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) die("copy-up %s: open", shown);
  DIR *dir = fdopendir(fd);
  if (!dir) die("fdopendir");
  for (struct dirent *entry; (entry = readdir(dir));) {
    const char *name = entry->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    struct stat st;
    if (fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) < 0) die("copy-up %s: stat %s", shown, name);
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(to, name, 0700) < 0) die("copy-up %s: mkdir %s", shown, name);
      int sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int sub_to = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub_from < 0 || sub_to < 0) die("copy-up %s: open %s", shown, name);
      copy_tree(sub_from, sub_to, shown, depth + 1);
      same_owner_mode_times(sub_to, &st, shown);
      close(sub_from);
      close(sub_to);
    } else if (S_ISREG(st.st_mode)) {
      copy_file(from, to, name, &st, shown);
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = readlinkat(from, name, target, sizeof target - 1);
      if (n < 0) die("copy-up %s: readlink %s", shown, name);
      target[n] = '\0';
      /* Copied as the link it is: what it points to is resolved inside the container later. */
      if (symlinkat(target, to, name) < 0) die("copy-up %s: symlink %s", shown, name);
      if (fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) die("copy-up %s: chown %s", shown, name);
    } else {
      if (mknodat(to, name, st.st_mode, st.st_rdev) < 0) die("copy-up %s: mknod %s", shown, name);
      if (fchownat(to, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) die("copy-up %s: chown %s", shown, name);
    }
  }
  closedir(dir);
}

void copy_up(int from, int to, const char *shown) {
  struct stat st;
  if (fstat(from, &st) < 0) die("copy-up %s: stat", shown);
  copy_tree(from, to, shown, 0);
  int fd = openat(to, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) die("copy-up %s: open the volume", shown);
  same_owner_mode_times(fd, &st, shown);
  close(fd);
}
