#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "copyup.h"
#include "rootfs.h"
#include "util.h"

int parse_mount(char *value, struct mount_spec *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  out->mode = -1;
  out->source_fd = -1;
  char *type = value;
  char *flags = strchr(type, ':');
  char *target = flags ? strchr(flags + 1, ':') : NULL;
  char *source = target ? strchr(target + 1, ':') : NULL;
  if (!source) {
    snprintf(err, errlen, "expected TYPE:FLAGS:TARGET:SOURCE: \"%s\"", value);
    return -1;
  }
  *flags++ = '\0';
  *target++ = '\0';
  *source++ = '\0';
  if (strcmp(type, "tmpfs") == 0)
    out->tmpfs = 1;
  else if (strcmp(type, "bind") != 0) {
    snprintf(err, errlen, "type must be bind or tmpfs: \"%s\"", type);
    return -1;
  }
  for (char *save = NULL, *flag = strtok_r(flags, ",", &save); flag; flag = strtok_r(NULL, ",", &save)) {
    unsigned long n;
    if (strcmp(flag, "ro") == 0 || strcmp(flag, "rw") == 0) {
      out->readonly = flag[1] == 'o';
    } else if (!out->tmpfs && strcmp(flag, "copy") == 0) {
      out->copy_up = 1;
    } else if (out->tmpfs && strcmp(flag, "noexec") == 0) {
      out->noexec = 1;
    } else if (out->tmpfs && strncmp(flag, "size=", 5) == 0 && parse_ulong(flag + 5, ULONG_MAX, &n) == 0 && n > 0) {
      out->size = n;
    } else if (out->tmpfs && strncmp(flag, "mode=", 5) == 0 && flag[5] >= '0' && flag[5] <= '7' && strlen(flag + 5) <= 4 &&
               strspn(flag + 5, "01234567") == strlen(flag + 5)) {
      out->mode = (int)strtol(flag + 5, NULL, 8);
    } else {
      snprintf(err, errlen, "unknown flag \"%s\" for a %s mount", flag, type);
      return -1;
    }
  }
  if (target[0] != '/' || target[1] == '\0') {
    snprintf(err, errlen, "target must be an absolute path other than /: \"%s\"", target);
    return -1;
  }
  if (out->tmpfs ? *source != '\0' : source[0] != '/') {
    snprintf(err, errlen, out->tmpfs ? "a tmpfs takes no source: \"%s\"" : "source must be an absolute path: \"%s\"", source);
    return -1;
  }
  out->target = target;
  out->source = out->tmpfs ? NULL : source;
  return 0;
}

/* The mount point inside the root, made if missing: a directory, or for a bind of anything else
 * an empty file (what Docker does). Every lookup resolves symlinks as the container would see them
 * (RESOLVE_IN_ROOT), so a symlink in the image at the target can never lead the mount outside. */
static int target_in_root(int rootfd, const char *rel, int want_dir) {
  if (want_dir) return ensure_dir_in_root(rootfd, rel);
  int fd = open_in_root(rootfd, rel, O_PATH);
  if (fd >= 0 || errno != ENOENT) return fd;
  char parent[PATH_MAX];
  if (snprintf(parent, sizeof parent, "%s", rel) >= (int)sizeof parent) {
    errno = ENAMETOOLONG;
    return -1;
  }
  char *slash = strrchr(parent, '/');
  const char *name = slash ? slash + 1 : parent;
  if (slash)
    *slash = '\0';
  else
    parent[0] = '\0';
  int dir = ensure_dir_in_root(rootfd, parent);
  if (dir < 0) return -1;
  /* O_EXCL|O_NOFOLLOW: a dangling symlink at the name is refused, never followed out. */
  int made = openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  int err = errno;
  close(dir);
  if (made < 0) {
    errno = err;
    return -1;
  }
  close(made);
  return open_in_root(rootfd, rel, O_PATH);
}

static void apply_one(int rootfd, const struct mount_spec *m) {
  const char *rel = m->target + 1;
  char at[64];
  if (m->tmpfs) {
    int fd = ensure_dir_in_root(rootfd, rel);
    if (fd < 0) die("mount point %s", m->target);
    char data[96] = "";
    int len = 0;
    if (m->size) len += snprintf(data + len, sizeof data - (size_t)len, "size=%llu", m->size);
    if (m->mode >= 0) snprintf(data + len, sizeof data - (size_t)len, "%smode=%o", len ? "," : "", (unsigned)m->mode);
    mount_at(fd, m->target, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV | (m->readonly ? MS_RDONLY : 0) | (m->noexec ? MS_NOEXEC : 0), data[0] ? data : NULL);
    close(fd);
    return;
  }
  /* The source is the machine's: this mount namespace still shows the machine's tree. */
  char ahead[64];
  snprintf(ahead, sizeof ahead, "/proc/self/fd/%d", m->source_fd);
  int src = open(m->source_fd >= 0 ? ahead : m->source, O_PATH | O_CLOEXEC);
  if (src < 0) die("bind source %s", m->source);
  struct stat st;
  if (fstat(src, &st) < 0) die("stat %s", m->source);
  int dst = target_in_root(rootfd, rel, S_ISDIR(st.st_mode));
  if (dst < 0) die("mount point %s", m->target);
  if (m->copy_up && S_ISDIR(st.st_mode)) {
    int volume = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int image = openat(dst, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (volume < 0 || image < 0) die("copy-up %s", m->target);
    if (dir_is_empty(volume)) copy_up(image, volume, m->target);
    close(volume);
    close(image);
  }
  char from[64];
  snprintf(from, sizeof from, "/proc/self/fd/%d", src);
  snprintf(at, sizeof at, "/proc/self/fd/%d", dst);
  if (mount(from, at, NULL, MS_BIND | MS_REC, NULL) < 0) die("bind %s on %s", m->source, m->target);
  close(src);
  close(dst);
  if (!m->readonly) return;
  /* A bind ignores MS_RDONLY: read-only takes a remount of the new mount, reached by resolving
   * the target again (the fd from before the bind sits under it). */
  dst = open_in_root(rootfd, rel, O_PATH);
  if (dst < 0) die("mount point %s after the bind", m->target);
  snprintf(at, sizeof at, "/proc/self/fd/%d", dst);
  if (mount(NULL, at, NULL, mount_flags_of(dst) | MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) die("remount %s read-only", m->target);
  close(dst);
}

void apply_mounts(int rootfd, const struct mount_spec *mounts, size_t n) {
  for (size_t i = 0; i < n; i++) apply_one(rootfd, &mounts[i]);
}

void print_mounts(const struct mount_spec *mounts, size_t n, void (*print_string)(const char *)) {
  fputs(",\"mounts\":[", stdout);
  for (size_t i = 0; i < n; i++) {
    const struct mount_spec *m = &mounts[i];
    printf("%s{\"type\":\"%s\",\"target\":", i ? "," : "", m->tmpfs ? "tmpfs" : "bind");
    print_string(m->target);
    if (m->source) {
      fputs(",\"source\":", stdout);
      print_string(m->source);
    }
    printf(",\"readonly\":%s", m->readonly ? "true" : "false");
    if (m->copy_up) fputs(",\"copyUp\":true", stdout);
    if (m->noexec) fputs(",\"noexec\":true", stdout);
    if (m->size) printf(",\"size\":%llu", m->size);
    if (m->mode >= 0) printf(",\"mode\":%d", m->mode);
    putchar('}');
  }
  putchar(']');
}
