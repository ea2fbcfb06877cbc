#include "privileges.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "beneath.h"
#include "util.h"

struct node {
  char type;
  unsigned long major, minor, mode, uid, gid;
  const char *path;
};

static int number(const char **p, int base, unsigned long max, unsigned long *out) {
  char *end;
  if (**p < '0' || **p > '9') return -1;
  errno = 0;
  *out = strtoul(*p, &end, base);
  if (errno || *end != ':' || *out > max) return -1;
  *p = end + 1;
  return 0;
}

/* "c:1:3:666:0:0:/dev/null" */
static int parse_node(const char *text, struct node *n) {
  const char *p = text;
  if ((*p != 'c' && *p != 'b') || p[1] != ':') return -1;
  n->type = *p;
  p += 2;
  if (number(&p, 10, 0xfffff, &n->major) < 0 || number(&p, 10, 0xfffff, &n->minor) < 0 || number(&p, 8, 07777, &n->mode) < 0 ||
      number(&p, 10, 0xfffffffeUL, &n->uid) < 0 || number(&p, 10, 0xfffffffeUL, &n->gid) < 0)
    return -1;
  if (p[0] != '/' || p[1] == '\0' || has_dotdot(p + 1) || p[strlen(p) - 1] == '/') return -1;
  n->path = p;
  return 0;
}

const char *bad_device_node(const struct strv *nodes) {
  struct node n;
  for (size_t i = 0; i < nodes->n; i++)
    if (parse_node(nodes->items[i], &n) < 0) return nodes->items[i];
  return NULL;
}

const char *bad_sysctl(const struct strv *sysctls) {
  for (size_t i = 0; i < sysctls->n; i++) {
    const char *s = sysctls->items[i], *eq = strchr(s, '=');
    if (!eq || eq == s || s[0] == '/' || eq[-1] == '/' || strstr(s, "//")) return s;
    char key[PATH_MAX];
    snprintf(key, sizeof key, "%.*s", (int)(eq - s), s);
    if (has_dotdot(key)) return s;
  }
  return NULL;
}

void make_device_nodes(int rootfd, const struct strv *nodes) {
  for (size_t i = 0; i < nodes->n; i++) {
    struct node n;
    if (parse_node(nodes->items[i], &n) < 0) diex("--device-node: \"%s\"", nodes->items[i]);
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", n.path + 1);
    char *slash = strrchr(parent, '/');
    const char *name = slash ? slash + 1 : parent;
    int dir = slash ? (*slash = '\0', ensure_dir_in_root(rootfd, parent)) : dup(rootfd);
    if (dir < 0) die("mkdir the parent of %s", n.path);
    /* Docker replaces what the image (or our own /dev) has at that path; a directory stays an error. */
    if (unlinkat(dir, name, 0) < 0 && errno != ENOENT) die("remove %s to make the device", n.path);
    mode_t type = n.type == 'c' ? S_IFCHR : S_IFBLK;
    if (mknodat(dir, name, type | (mode_t)n.mode, makedev(n.major, n.minor)) < 0) die("mknod %s", n.path);
    if (fchownat(dir, name, (uid_t)n.uid, (gid_t)n.gid, AT_SYMLINK_NOFOLLOW) < 0) die("chown %s", n.path);
    close(dir);
  }
}

void apply_sysctls(const struct strv *sysctls) {
  for (size_t i = 0; i < sysctls->n; i++) {
    const char *s = sysctls->items[i], *eq = strchr(s, '=');
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/proc/sys/%.*s", (int)(eq - s), s);
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) die("sysctl %s: open %s", s, path);
    size_t len = strlen(eq + 1);
    if (write(fd, eq + 1, len) != (ssize_t)len) die("sysctl %s: write %s", s, path);
    close(fd);
  }
}

void print_device_nodes(const struct strv *nodes, void (*print_string)(const char *)) {
  fputs(",\"deviceNodes\":[", stdout);
  for (size_t i = 0; i < nodes->n; i++) {
    struct node n;
    if (parse_node(nodes->items[i], &n) < 0) continue;
    printf("%s{\"type\":\"%c\",\"major\":%lu,\"minor\":%lu,\"mode\":%lu,\"uid\":%lu,\"gid\":%lu,\"path\":", i ? "," : "", n.type,
           n.major, n.minor, n.mode, n.uid, n.gid);
    print_string(n.path);
    putchar('}');
  }
  putchar(']');
}
