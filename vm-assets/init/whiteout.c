/* overlayfs markers in an unpacked image layer, which Node cannot make (no mknod, no setxattr):
 * a whiteout (char device 0:0) hides a lower file, an opaque dir (trusted.overlay.opaque=y)
 * hides a lower dir's contents. The layer came from a tarball someone else wrote, so every path
 * is opened strictly beneath ROOT: no "..", no symlinks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "beneath.h"
#include "commands.h"
#include "util.h"

static int open_root(const char *root) {
  int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) die("open %s", root);
  return fd;
}

static void check_relative(const char *root, const char *rel) {
  if (rel[0] == '/' || has_dotdot(rel)) diex("%s/%s: must be a path inside %s without \"..\"", root, rel, root);
}

int cmd_whiteout(const char *root, char **paths, int n) {
  int rootfd = open_root(root);
  for (int i = 0; i < n; i++) {
    const char *rel = paths[i];
    check_relative(root, rel);
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", rel) >= (int)sizeof buf) diex("%s/%s: path too long", root, rel);
    /* Trailing slashes say nothing about a whiteout's name. */
    for (size_t len = strlen(buf); len > 0 && buf[len - 1] == '/'; len--) buf[len - 1] = '\0';
    char *slash = strrchr(buf, '/');
    const char *base = slash ? slash + 1 : buf;
    const char *parent = slash ? buf : "";
    if (slash) *slash = '\0';
    if (!*base || strcmp(base, ".") == 0) diex("%s/%s: names no file", root, rel);

    int dir = open_beneath(rootfd, parent, O_PATH | O_DIRECTORY);
    if (dir < 0) die("open %s/%s", root, *parent ? parent : ".");
    struct stat st;
    if (fstatat(dir, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        die("whiteout %s/%s", root, rel);
      }
      if (unlinkat(dir, base, 0) < 0) die("unlink %s/%s", root, rel);
    } else if (errno != ENOENT) {
      die("stat %s/%s", root, rel);
    }
    if (mknodat(dir, base, S_IFCHR | 0, makedev(0, 0)) < 0) die("mknod %s/%s", root, rel);
    close(dir);
  }
  close(rootfd);
  return 0;
}

int cmd_opaque(const char *root, char **paths, int n) {
  int rootfd = open_root(root);
  for (int i = 0; i < n; i++) {
    const char *rel = paths[i];
    check_relative(root, rel);
    /* fsetxattr needs a real open file, not O_PATH; O_DIRECTORY keeps it from being anything else. */
    int dir = open_beneath(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (dir < 0) die("open %s/%s", root, rel);
    if (fsetxattr(dir, "trusted.overlay.opaque", "y", 1, 0) < 0) die("setxattr trusted.overlay.opaque %s/%s", root, rel);
    close(dir);
  }
  close(rootfd);
  return 0;
}
