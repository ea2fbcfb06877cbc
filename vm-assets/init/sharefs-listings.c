/* sharefs's listings: a folder's entries with their attributes, fetched from the desktop in one go
 * (one LIST_FOLDER_EXTENSION request; OPENDIR, READDIR until EOF where the folder is too large for it,
 * or the desktop does not know it) and kept CACHE_SECONDS; the kernel reads them with READDIRPLUS (every
 * entry with its attributes: no LOOKUP follows), and when it lists a folder the listings of its
 * sub-folders are fetched at once, PREFETCH_MAX at a time, so a walk finds the next one here. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sharefs.h"
#include "util.h"

/* Listings fetched ahead of the walk at once. */
#define PREFETCH_MAX 32

struct entry {
  char *name;
  struct sftp_attrs attrs;
};

enum { FETCHING, READY, FAILED };

struct listing {
  char *path;
  struct listing *next;
  int cached; /* in the table (a dropped one lives on while a handle reads it) */
  int refs;   /* open directory handles, and the fetch while it runs */
  int state, err, prefetched;
  int asked_whole; /* the request in flight is LIST_FOLDER_EXTENSION's */
  double at;
  struct entry *entries;
  size_t n, cap;
  uint8_t handle[256];
  uint32_t handle_len;
  struct waiter *waiters; /* OPENDIRs answered when the fetch ends */
};

static struct listing *listings[BUCKETS];
/* The desktop answered LIST_FOLDER_EXTENSION as unknown (an older one): OPENDIR and READDIR from then on. */
static int no_whole_listings;
static size_t prefetching;
static char **prefetch_queue;
static size_t queue_head, queue_len, queue_cap;

static void listing_unref(struct listing *l) {
  if (--l->refs > 0 || l->cached) return;
  for (size_t i = 0; i < l->n; i++) free(l->entries[i].name);
  free(l->entries);
  free(l->path);
  free(l);
}

static void listing_uncache(struct listing *l) {
  if (!l->cached) return;
  for (struct listing **p = &listings[hash(l->path) & (BUCKETS - 1)]; *p; p = &(*p)->next)
    if (*p == l) {
      *p = l->next;
      break;
    }
  l->cached = 0;
  l->refs++;
  listing_unref(l);
}

/* The fresh or still fetching listing of a folder, or NULL. */
static struct listing *listing_get(const char *path) {
  for (struct listing *l = listings[hash(path) & (BUCKETS - 1)]; l; l = l->next) {
    if (strcmp(l->path, path) != 0) continue;
    if (l->state == FETCHING || (l->state == READY && now() - l->at < cache_s)) return l;
    listing_uncache(l);
    return NULL;
  }
  return NULL;
}

void listing_drop(const char *path, int below) {
  size_t len = strlen(path);
  if (!below) {
    for (struct listing *l = listings[hash(path) & (BUCKETS - 1)]; l; l = l->next)
      if (strcmp(l->path, path) == 0) {
        listing_uncache(l);
        return;
      }
    return;
  }
  for (size_t b = 0; b < BUCKETS; b++)
    for (struct listing *l = listings[b], *next; l; l = next) {
      next = l->next;
      if (strncmp(l->path, path, len) == 0 && (l->path[len] == 0 || l->path[len] == '/' || len == 1)) listing_uncache(l);
    }
}

/* A long walk's listings would otherwise stay until their folder is listed again. */
void listing_sweep(void) {
  double t = now();
  for (size_t b = 0; b < BUCKETS; b++)
    for (struct listing *l = listings[b], *next; l; l = next) {
      next = l->next;
      if (l->state == READY && t - l->at >= cache_s) listing_uncache(l);
    }
}

void drop_parent_listing(const char *path) {
  char parent[PATH_MAX];
  listing_drop(parent_of(path, parent), 0);
}

static void fetch_step(void *ctx, uint8_t type, struct sftp_reader *r);
static void prefetch_pump(void);
static void answer_opendir(struct listing *l, uint64_t unique);

static void fetch_done(struct listing *l, int err) {
  l->state = err ? FAILED : READY;
  l->err = err;
  l->at = now();
  if (err) listing_uncache(l);
  for (struct waiter *w = l->waiters, *next; w; w = next) {
    next = w->next;
    answer_opendir(l, w->unique);
    free(w);
  }
  l->waiters = NULL;
  if (l->prefetched) prefetching--, prefetch_pump();
  listing_unref(l);
}

/* A NAME's entries (`count`, then each name, longname and attributes) into the listing; -1 if malformed. */
static int take_names(struct listing *l, struct sftp_reader *r) {
  uint32_t count = sftp_u32(r);
  for (uint32_t i = 0; i < count && !r->bad; i++) {
    uint32_t len, long_len;
    const uint8_t *name = sftp_str(r, &len);
    sftp_str(r, &long_len);
    struct sftp_attrs a;
    sftp_read_attrs(r, &a);
    if (r->bad) break;
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.') || memchr(name, '/', len) ||
        memchr(name, 0, len))
      continue;
    if (l->n == l->cap) {
      l->cap = l->cap ? l->cap * 2 : 64;
      l->entries = realloc(l->entries, l->cap * sizeof *l->entries);
      if (!l->entries) die("sharefs: out of memory");
    }
    struct entry *e = &l->entries[l->n++];
    e->name = xalloc(len + 1);
    memcpy(e->name, name, len);
    e->attrs = a;
  }
  return r->bad ? -1 : 0;
}

static void ask_listing(struct listing *l) {
  l->asked_whole = !no_whole_listings;
  if (l->asked_whole) {
    sftp_begin(FXP_EXTENDED, fetch_step, l);
    sftp_put_cstr(LIST_FOLDER_EXTENSION);
  } else
    sftp_begin(FXP_OPENDIR, fetch_step, l);
  sftp_put_cstr(l->path);
  sftp_end();
}

static void fetch_step(void *ctx, uint8_t type, struct sftp_reader *r) {
  struct listing *l = ctx;
  int whole = l->asked_whole;
  l->asked_whole = 0;
  if (r && whole && type == FXP_EXTENDED_REPLY) {
    fetch_done(l, take_names(l, r) < 0 ? EIO : 0);
    return;
  }
  if (r && type == FXP_HANDLE) {
    const uint8_t *h = sftp_str(r, &l->handle_len);
    if (!h || l->handle_len > sizeof l->handle) {
      fetch_done(l, EIO);
      return;
    }
    memcpy(l->handle, h, l->handle_len);
  } else if (r && type == FXP_NAME) {
    if (take_names(l, r) < 0) {
      fetch_done(l, EIO);
      return;
    }
  } else {
    int err = sftp_status_errno(r, type);
    if (whole && err == EOPNOTSUPP) {
      no_whole_listings = 1;
      ask_listing(l);
      return;
    }
    if (err != -1) {
      fetch_done(l, err > 0 ? err : EIO);
      return;
    }
    sftp_begin(FXP_CLOSE, ignore_reply, NULL); /* its answer changes nothing */
    sftp_put_str(l->handle, l->handle_len);
    sftp_end();
    fetch_done(l, 0);
    return;
  }
  sftp_begin(FXP_READDIR, fetch_step, l);
  sftp_put_str(l->handle, l->handle_len);
  sftp_end();
}

/* Starts fetching a folder's listing (the link must be up). */
static struct listing *fetch(const char *path, int prefetched) {
  struct listing *l = xalloc(sizeof *l);
  l->path = xstrdup(path);
  l->cached = 1;
  l->refs = 1;
  l->state = FETCHING;
  l->prefetched = prefetched;
  struct listing **b = &listings[hash(path) & (BUCKETS - 1)];
  l->next = *b;
  *b = l;
  if (prefetched) prefetching++;
  ask_listing(l);
  return l;
}

static void prefetch_pump(void) {
  while (prefetching < PREFETCH_MAX && queue_len > 0 && sftp_connected()) {
    char *path = prefetch_queue[queue_head];
    queue_head = (queue_head + 1) % queue_cap;
    queue_len--;
    if (!listing_get(path)) fetch(path, 1);
    free(path);
  }
}

static void prefetch(const char *path) {
  if (queue_len == queue_cap) {
    size_t cap = queue_cap ? queue_cap * 2 : 256;
    char **grown = xalloc(cap * sizeof *grown);
    for (size_t i = 0; i < queue_len; i++) grown[i] = prefetch_queue[(queue_head + i) % queue_cap];
    free(prefetch_queue);
    prefetch_queue = grown, queue_cap = cap, queue_head = 0;
  }
  prefetch_queue[(queue_head + queue_len++) % queue_cap] = xstrdup(path);
}

static void answer_opendir(struct listing *l, uint64_t unique) {
  if (l->state != READY) {
    reply(unique, l->err ? l->err : EIO, NULL, 0);
    return;
  }
  l->refs++;
  struct fuse_open_out o = {.fh = (uint64_t)(uintptr_t)l};
  reply(unique, 0, &o, sizeof o);
}

void do_readdirplus(uint64_t unique, uint64_t dir, const struct fuse_read_in *in) {
  struct listing *l = (struct listing *)(uintptr_t)in->fh;
  size_t size = in->size > MAX_IO ? MAX_IO : in->size, used = 0;
  uint8_t *buf = xalloc(size);
  char path[PATH_MAX];
  /* the walk goes on into the sub-folders: fetch their listings now, together */
  if (in->offset == 0)
    for (size_t i = 0; i < l->n; i++)
      if (S_ISDIR(l->entries[i].attrs.mode) && child_path(path, l->path, l->entries[i].name) == 0 && !listing_get(path))
        prefetch(path);
  prefetch_pump();
  for (uint64_t i = in->offset; i < l->n + 2; i++) {
    const char *name = i == 0 ? "." : i == 1 ? ".." : l->entries[i - 2].name;
    size_t namelen = strlen(name), len = FUSE_DIRENTPLUS_SIZE(&(struct fuse_direntplus){.dirent.namelen = (uint32_t)namelen});
    if (used + len > size) break;
    struct fuse_direntplus *d = (struct fuse_direntplus *)(buf + used);
    memset(d, 0, len);
    d->dirent.off = i + 1;
    d->dirent.namelen = (uint32_t)namelen;
    memcpy(d->dirent.name, name, namelen);
    if (i < 2 || !(l->entries[i - 2].attrs.flags & ATTR_PERMISSIONS) || child_path(path, l->path, name) != 0) {
      /* nodeid 0: no attributes, the kernel looks it up; ino not 0, or readdir(3) skips the entry */
      d->dirent.ino = i == 1 ? FUSE_ROOT_ID : dir;
      d->dirent.type = i < 2 ? DT_DIR : DT_UNKNOWN;
    } else {
      const struct sftp_attrs *a = &l->entries[i - 2].attrs;
      entry_out(&d->entry_out, node_get(path), a);
      d->dirent.ino = d->entry_out.nodeid;
      d->dirent.type = (a->mode & S_IFMT) >> 12;
    }
    used += len;
  }
  reply(unique, 0, buf, used);
  free(buf);
}

void do_opendir(uint64_t unique, struct node *n) {
  struct listing *l = listing_get(n->path);
  int err = l ? 0 : link_up();
  if (err) {
    reply(unique, err, NULL, 0);
    return;
  }
  if (!l) l = fetch(n->path, 0);
  if (l->state == READY) {
    answer_opendir(l, unique);
    return;
  }
  struct waiter *w = xalloc(sizeof *w);
  w->unique = unique, w->next = l->waiters, l->waiters = w;
}

void do_releasedir(uint64_t unique, uint64_t fh) {
  listing_unref((struct listing *)(uintptr_t)fh);
  reply(unique, 0, NULL, 0);
}

const struct sftp_attrs *listed(const char *folder, const char *name) {
  struct listing *l = listing_get(folder);
  if (!l || l->state != READY) return NULL;
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->entries[i].name, name) == 0) return (l->entries[i].attrs.flags & ATTR_PERMISSIONS) ? &l->entries[i].attrs : NULL;
  return NULL;
}
