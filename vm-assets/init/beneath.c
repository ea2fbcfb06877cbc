#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

static int openat2_works = 1;

/* EAGAIN: a path with ".." under RESOLVE_IN_ROOT or RESOLVE_BENEATH met a rename or mount
 * anywhere on the machine during the walk (openat2(2)); with other containers starting that is
 * common, and the answer is to walk again. Bounded, as a steady stream of mounts could last. */
#define OPENAT2_ATTEMPTS 128

static int sys_openat2(int dirfd, const char *path, int flags, unsigned long long resolve) {
  struct open_how how = {.flags = (unsigned long long)flags, .mode = 0, .resolve = resolve};
  int fd = -1;
  for (int attempt = 0; attempt < OPENAT2_ATTEMPTS; attempt++) {
    fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd >= 0 || (errno != EAGAIN && errno != EINTR)) break;
  }
  if (fd < 0 && errno == ENOSYS) openat2_works = 0;
  return fd;
}

int has_dotdot(const char *rel) {
  for (const char *p = rel; *p;) {
    const char *end = strchrnul(p, '/');
    if (end - p == 2 && p[0] == '.' && p[1] == '.') return 1;
    p = *end ? end + 1 : end;
  }
  return 0;
}

/* Kernels before 5.6 have no openat2: walk one component at a time and refuse what could escape
 * rather than resolve it, since a stale check of a resolved path could be raced. */
static int walk_nofollow(int rootfd, const char *rel, int flags, int create) {
  if (has_dotdot(rel)) {
    errno = EXDEV;
    return -1;
  }
  int cur = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (cur < 0) return -1;
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", rel) >= (int)sizeof buf) {
    close(cur);
    errno = ENAMETOOLONG;
    return -1;
  }
  char *save = NULL;
  char *comp = strtok_r(buf, "/", &save);
  while (comp) {
    char *next = strtok_r(NULL, "/", &save);
    if (strcmp(comp, ".") == 0) {
      comp = next;
      continue;
    }
    int last = next == NULL;
    int want = last ? flags | O_NOFOLLOW | O_CLOEXEC : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(cur, comp, want);
    if (fd < 0 && errno == ENOENT && create) {
      if (mkdirat(cur, comp, 0755) == 0 || errno == EEXIST) fd = openat(cur, comp, want);
    }
    int err = errno;
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
      close(fd);
      fd = -1;
      err = ELOOP;
    } else if (fd < 0 && err == ENOTDIR && fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
      /* O_NOFOLLOW|O_DIRECTORY on a symlink says ENOTDIR; the truth is "a symlink". */
      err = ELOOP;
    }
    close(cur);
    if (fd < 0) {
      errno = err;
      return -1;
    }
    cur = fd;
    comp = next;
  }
  if (flags & O_PATH) return cur;
  /* rel was "" or ".": reopen the root itself with the requested flags. */
  int fd = openat(cur, ".", flags | O_CLOEXEC);
  int err = errno;
  close(cur);
  errno = err;
  return fd;
}

int open_beneath(int rootfd, const char *rel, int flags) {
  if (has_dotdot(rel)) {
    errno = EXDEV;
    return -1;
  }
  if (openat2_works) {
    int fd = sys_openat2(rootfd, *rel ? rel : ".", flags | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0 || openat2_works) return fd;
  }
  return walk_nofollow(rootfd, rel, flags, 0);
}

int open_in_root(int rootfd, const char *rel, int flags) {
  if (openat2_works) {
    int fd = sys_openat2(rootfd, *rel ? rel : ".", flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    if (fd >= 0 || openat2_works) return fd;
  }
  return walk_nofollow(rootfd, rel, flags, 0);
}

int ensure_dir_in_root(int rootfd, const char *rel) {
  const int flags = O_PATH | O_DIRECTORY;
  int fd = open_in_root(rootfd, rel, flags);
  if (fd >= 0 || errno != ENOENT) return fd;
  if (!openat2_works) return walk_nofollow(rootfd, rel, flags, 1);
  /* Create the missing tail one component at a time, each resolved afresh inside the root. */
  char prefix[PATH_MAX];
  size_t len = strlen(rel);
  if (len >= sizeof prefix) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int parent = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (parent < 0) return -1;
  for (size_t at = 0; at < len;) {
    while (rel[at] == '/') at++;
    size_t end = at;
    while (end < len && rel[end] != '/') end++;
    if (end == at) break;
    memcpy(prefix, rel, end);
    prefix[end] = '\0';
    char name[NAME_MAX + 1];
    if (end - at > NAME_MAX) {
      close(parent);
      errno = ENAMETOOLONG;
      return -1;
    }
    memcpy(name, rel + at, end - at);
    name[end - at] = '\0';
    int next = open_in_root(rootfd, prefix, flags);
    if (next < 0 && errno == ENOENT) {
      if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
        int err = errno;
        close(parent);
        errno = err;
        return -1;
      }
      next = open_in_root(rootfd, prefix, flags);
    }
    int err = errno;
    close(parent);
    if (next < 0) {
      errno = err;
      return -1;
    }
    parent = next;
    at = end;
  }
  return parent;
}
