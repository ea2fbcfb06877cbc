/* sharefs's nodes: the kernel's inodes, each a path in the share, found by id (the kernel's requests)
 * and by path (a listing's entries, a lookup's answer). A node lives while the kernel holds a lookup
 * of it (FORGET). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sharefs.h"
#include "util.h"

static struct node *by_id[BUCKETS], *by_path[BUCKETS];
static uint64_t next_node = FUSE_ROOT_ID + 1;

struct node *node_by_id(uint64_t id) {
  for (struct node *n = by_id[id & (BUCKETS - 1)]; n; n = n->next_id)
    if (n->id == id) return n;
  return NULL;
}

struct node *node_by_path(const char *path) {
  for (struct node *n = by_path[hash(path) & (BUCKETS - 1)]; n; n = n->next_path)
    if (strcmp(n->path, path) == 0) return n;
  return NULL;
}

static void path_unlink(struct node *n) {
  for (struct node **p = &by_path[hash(n->path) & (BUCKETS - 1)]; *p; p = &(*p)->next_path)
    if (*p == n) {
      *p = n->next_path;
      return;
    }
}

static void path_link(struct node *n) {
  struct node **b = &by_path[hash(n->path) & (BUCKETS - 1)];
  n->next_path = *b;
  *b = n;
}

struct node *node_get(const char *path) {
  struct node *n = node_by_path(path);
  if (n) return n;
  n = xalloc(sizeof *n);
  n->id = path[1] ? next_node++ : FUSE_ROOT_ID;
  n->path = xstrdup(path);
  n->next_id = by_id[n->id & (BUCKETS - 1)];
  by_id[n->id & (BUCKETS - 1)] = n;
  path_link(n);
  return n;
}

void forget(uint64_t id, uint64_t count) {
  struct node *n = node_by_id(id);
  if (!n || id == FUSE_ROOT_ID) return;
  n->nlookup = n->nlookup > count ? n->nlookup - count : 0;
  if (n->nlookup) return;
  for (struct node **p = &by_id[id & (BUCKETS - 1)]; *p; p = &(*p)->next_id)
    if (*p == n) {
      *p = n->next_id;
      break;
    }
  path_unlink(n);
  free(n->path);
  free(n);
}

int child_path(char *buf, const char *parent, const char *name) {
  int n = snprintf(buf, PATH_MAX, "%s/%s", parent[1] ? parent : "", name);
  return n < 0 || n >= PATH_MAX ? ENAMETOOLONG : 0;
}

const char *parent_of(const char *path, char *buf) {
  const char *slash = strrchr(path, '/');
  size_t len = slash && slash != path ? (size_t)(slash - path) : 1;
  memcpy(buf, path, len);
  buf[len] = 0;
  return buf;
}

void entry_out(struct fuse_entry_out *e, struct node *n, const struct sftp_attrs *a) {
  memset(e, 0, sizeof *e);
  e->nodeid = n->id;
  e->entry_valid = e->attr_valid = cache_s;
  fill_attr(&e->attr, n->id, a);
  n->nlookup++;
}

void reply_entry(uint64_t unique, const char *path, const struct sftp_attrs *a) {
  struct fuse_entry_out e;
  entry_out(&e, node_get(path), a);
  reply(unique, 0, &e, sizeof e);
}

void node_gone(const char *path) {
  struct node *n = node_by_path(path);
  if (!n) return;
  path_unlink(n);
  n->gone = 1;
}

void nodes_moved(const char *from, const char *to) {
  /* one replaced at the new path leaves */
  node_gone(to);
  size_t len = strlen(from);
  for (size_t b = 0; b < BUCKETS; b++)
    for (struct node *n = by_id[b]; n; n = n->next_id) {
      if (n->gone || strncmp(n->path, from, len) != 0 || (n->path[len] != 0 && n->path[len] != '/')) continue;
      char moved[PATH_MAX];
      if (snprintf(moved, sizeof moved, "%s%s", to, n->path + len) >= (int)sizeof moved) continue;
      path_unlink(n);
      free(n->path);
      n->path = xstrdup(moved);
      path_link(n);
    }
}
