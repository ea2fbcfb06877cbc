/* sharefs: a desktop folder mounted on the machine — a FUSE file system of our own that speaks SFTP to
 * the desktop's server (electron/core/shares/sftp-server.ts) through the socket the machine's sshd
 * forwards to it (share-mount.ts).
 *
 *   sharefs SOCKET MOUNTPOINT CACHE_SECONDS
 *
 * Why not sshfs, which did this before (bench case 15): sshfs answers the kernel one name at a time.
 * A `git status`-like walk of 20,000 files over sshfs was one FUSE LOOKUP round trip per file (sshfs
 * 3.7 ignores FUSE_READDIR_PLUS) and one listing round trip per folder, walked one after the other:
 * ~23x the machine's own disk. Here a listing goes to the kernel with every entry's attributes
 * (READDIRPLUS: no LOOKUP follows), and when a folder is listed the listings of its sub-folders are
 * fetched from the desktop at once (PREFETCH_MAX in flight), so a walk finds the next folder already
 * here. Reads are split into requests sent together; writes are sent behind (answered at once, their
 * errors reported by the next flush, fsync or close, as sshfs does), up to WRITE_WINDOW per file.
 *
 * The mount outlives the connection: while the desktop is away each request that needs it fails at
 * once (EIO: connecting to a socket nobody listens on fails at once; one that accepts and never
 * answers the handshake, within CONNECT_TIMEOUT_MS), and the next one after the
 * desktop listens again reconnects, so a container's bind of the mount carries on. Files opened on
 * an earlier connection answer EIO (their handles died with it), as sshfs's do.
 *
 * What is kept: listings and attributes for CACHE_SECONDS (the kernel keeps names and attributes as
 * long). A change made on the machine drops what it touches; one made on the desktop arrives as a
 * touch of the path and its folder (share-events.ts), which drops them here too. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "sftp.h"
#include "util.h"

/* The kernel's largest READ and WRITE: 256 pages (FUSE_MAX_PAGES). */
#define MAX_PAGES 256
#define MAX_IO (MAX_PAGES * 4096)
/* A READ is asked of the desktop in pieces this big, all at once: the most it answers at once
 * (sftp-server.ts MAX_READ). With 128 KiB pieces (and 4 MiB of readahead) a 256 MiB read was 0.70 of
 * the raw link, with these (and 8 MiB) 0.89 (bench case 15, one run each). */
#define READ_CHUNK (254 * 1024)
/* A WRITE goes in pieces this big: an SFTP packet may not pass 256 KiB, its header included (ssh2's
 * limit, as OpenSSH's; one past it ends the session). Fewer, larger pieces: 0.64 of the link for a
 * 256 MiB write against 0.56 with 128 KiB ones (bench case 15). */
#define WRITE_CHUNK (255 * 1024)
/* Bytes a file may have written behind (sent, not yet confirmed) before its next write waits. */
#define WRITE_WINDOW (8 * 1024 * 1024)
/* Listings fetched ahead of the walk at once. */
#define PREFETCH_MAX 32
/* Requests queued for the desktop past which the kernel's next ones wait. */
#define QUEUED_MAX (16 * 1024 * 1024)
#define CONNECT_TIMEOUT_MS 5000
#define BUCKETS (1 << 16)

static int fuse_fd = -1;
static const char *socket_path;
static unsigned cache_s;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *xalloc(size_t n) {
  void *p = calloc(1, n);
  if (!p) die("sharefs: out of memory");
  return p;
}

static char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) die("sharefs: out of memory");
  return p;
}

static uint32_t hash(const char *s) {
  uint32_t h = 2166136261u;
  while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
  return h;
}

/* ---- replies to the kernel ---- */

static void reply(uint64_t unique, int err, const void *data, size_t len) {
  if (err) len = 0;
  struct fuse_out_header h = {.len = (uint32_t)(sizeof h + len), .error = -err, .unique = unique};
  struct iovec iov[2] = {{&h, sizeof h}, {(void *)data, len}};
  /* ENOENT: the request was interrupted meanwhile; nothing waits for this answer any more */
  if (writev(fuse_fd, iov, len ? 2 : 1) < 0 && errno != ENOENT) note("sharefs: reply: %s", strerror(errno));
}

static void fill_attr(struct fuse_attr *fa, uint64_t ino, const struct sftp_attrs *a) {
  memset(fa, 0, sizeof *fa);
  fa->ino = ino;
  fa->size = a->size;
  fa->blocks = (a->size + 511) / 512;
  fa->atime = a->atime;
  fa->mtime = fa->ctime = a->mtime;
  fa->mode = (a->mode & S_IFMT) ? a->mode : (a->mode | S_IFREG);
  fa->nlink = 1; /* SFTP v3 has no link count; 1 tells find not to count sub-folders by it */
  fa->uid = a->uid;
  fa->gid = a->gid;
  fa->blksize = 4096;
}

/* ---- nodes: the kernel's inodes, each a path in the share ---- */

struct node {
  uint64_t id, nlookup;
  int gone; /* removed or replaced through the mount: its path names something else now */
  char *path; /* "/" for the root, "/a/b" below it */
  struct node *next_id, *next_path;
};

static struct node *by_id[BUCKETS], *by_path[BUCKETS];
static uint64_t next_node = FUSE_ROOT_ID + 1;

static struct node *node_by_id(uint64_t id) {
  for (struct node *n = by_id[id & (BUCKETS - 1)]; n; n = n->next_id)
    if (n->id == id) return n;
  return NULL;
}

static struct node *node_by_path(const char *path) {
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

/* The node of a path, made when the kernel has none for it. */
static struct node *node_get(const char *path) {
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

static void forget(uint64_t id, uint64_t count) {
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

/* A child's path into buf (PATH_MAX); 0, or ENAMETOOLONG. */
static int child_path(char *buf, const char *parent, const char *name) {
  int n = snprintf(buf, PATH_MAX, "%s/%s", parent[1] ? parent : "", name);
  return n < 0 || n >= PATH_MAX ? ENAMETOOLONG : 0;
}

static const char *parent_of(const char *path, char *buf) {
  const char *slash = strrchr(path, '/');
  size_t len = slash && slash != path ? (size_t)(slash - path) : 1;
  memcpy(buf, path, len);
  buf[len] = 0;
  return buf;
}

static void entry_out(struct fuse_entry_out *e, struct node *n, const struct sftp_attrs *a) {
  memset(e, 0, sizeof *e);
  e->nodeid = n->id;
  e->entry_valid = e->attr_valid = cache_s;
  fill_attr(&e->attr, n->id, a);
  n->nlookup++;
}

static void reply_entry(uint64_t unique, const char *path, const struct sftp_attrs *a) {
  struct fuse_entry_out e;
  entry_out(&e, node_get(path), a);
  reply(unique, 0, &e, sizeof e);
}

/* ---- listings: a folder's entries with their attributes, kept CACHE_SECONDS ---- */

struct entry {
  char *name;
  struct sftp_attrs attrs;
};

struct waiter {
  uint64_t unique;
  struct waiter *next;
};

enum { FETCHING, READY, FAILED };

struct listing {
  char *path;
  struct listing *next;
  int cached; /* in the table (a dropped one lives on while a handle reads it) */
  int refs;   /* open directory handles, and the fetch while it runs */
  int state, err, prefetched;
  double at;
  struct entry *entries;
  size_t n, cap;
  uint8_t handle[256];
  uint32_t handle_len;
  struct waiter *waiters; /* OPENDIRs answered when the fetch ends */
};

static struct listing *listings[BUCKETS];
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

/* Forgets the listing of `path` (and, with `below`, of every folder under it): it changed. */
static void listing_drop(const char *path, int below) {
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

/* Frees the listings past their time that nothing reads: a long walk's would otherwise stay. */
static void listing_sweep(void) {
  double t = now();
  for (size_t b = 0; b < BUCKETS; b++)
    for (struct listing *l = listings[b], *next; l; l = next) {
      next = l->next;
      if (l->state == READY && t - l->at >= cache_s) listing_uncache(l);
    }
}

static void drop_parent_listing(const char *path) {
  char parent[PATH_MAX];
  listing_drop(parent_of(path, parent), 0);
}

static void fetch_step(void *ctx, uint8_t type, struct sftp_reader *r);
static void prefetch_pump(void);
static void answer_opendir(struct listing *l, uint64_t unique);

static void ignore_reply(void *ctx, uint8_t type, struct sftp_reader *r) { (void)ctx, (void)type, (void)r; }

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

static void fetch_step(void *ctx, uint8_t type, struct sftp_reader *r) {
  struct listing *l = ctx;
  if (r && type == FXP_HANDLE) {
    const uint8_t *h = sftp_str(r, &l->handle_len);
    if (!h || l->handle_len > sizeof l->handle) {
      fetch_done(l, EIO);
      return;
    }
    memcpy(l->handle, h, l->handle_len);
  } else if (r && type == FXP_NAME) {
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
    if (r->bad) {
      fetch_done(l, EIO);
      return;
    }
  } else {
    int err = sftp_status_errno(r, type);
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
  sftp_begin(FXP_OPENDIR, fetch_step, l);
  sftp_put_cstr(path);
  sftp_end();
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

/* ---- the link to the desktop ---- */

/* 0 when the desktop can be asked now (reconnecting if it was lost), else EIO. */
static int link_up(void) {
  if (sftp_connected()) return 0;
  int err = sftp_connect(socket_path, CONNECT_TIMEOUT_MS);
  return err ? EIO : 0;
}

/* ---- requests of one or two SFTP steps (the second an LSTAT of the result) ---- */

struct op {
  uint64_t unique, nodeid;
  uint32_t opcode;
  int waiting, err, attr_err;
  struct sftp_attrs attrs;
  uint8_t handle[256];
  uint32_t handle_len;
  unsigned flags;
  char path[PATH_MAX];
  char to[PATH_MAX]; /* RENAME's target */
};

static void op_finish(struct op *op);

static void op_step(void *ctx, uint8_t type, struct sftp_reader *r) {
  struct op *op = ctx;
  if (r && type == FXP_ATTRS) {
    sftp_read_attrs(r, &op->attrs);
    if (r->bad) op->attr_err = EIO;
  } else if (r && type == FXP_HANDLE) {
    const uint8_t *h = sftp_str(r, &op->handle_len);
    if (!h || op->handle_len > sizeof op->handle) op->err = EIO;
    else memcpy(op->handle, h, op->handle_len);
  } else if (r && type == FXP_NAME) { /* READLINK: its target, kept in `to` */
    uint32_t count = sftp_u32(r), len = 0;
    const uint8_t *name = count == 1 ? sftp_str(r, &len) : NULL;
    if (!name || len >= sizeof op->to) op->err = EIO;
    else {
      memcpy(op->to, name, len);
      op->to[len] = 0;
    }
  } else {
    int err = sftp_status_errno(r, type);
    /* a status where attributes were asked for is the LSTAT's failure; otherwise the request's */
    if (err > 0 && !op->err && !op->attr_err) op->err = err;
    if (err == -1) op->err = EIO;
  }
  if (--op->waiting == 0) op_finish(op);
}

static struct op *op_new(uint64_t unique, uint32_t opcode) {
  struct op *op = xalloc(sizeof *op);
  op->unique = unique;
  op->opcode = opcode;
  return op;
}

/* The LSTAT that follows a change, in the same batch: the desktop answers in order. */
static void op_lstat(struct op *op, const char *path) {
  op->waiting++;
  sftp_begin(FXP_LSTAT, op_step, op);
  sftp_put_cstr(path);
  sftp_end();
}

/* ---- open files ---- */

struct held {
  uint64_t unique;
  uint32_t size;
  struct held *next;
};

struct file {
  uint8_t handle[256];
  uint32_t handle_len;
  unsigned generation;
  char *path;
  size_t in_flight; /* written behind, not yet confirmed */
  int write_err, wrote;
  struct held *held;      /* WRITEs answered once the window has room */
  struct waiter *flushes; /* FLUSH/FSYNC answered when nothing is in flight */
  uint64_t release;       /* RELEASE waiting for the same, then the handle closes */
};

struct write_piece {
  struct file *f;
  uint32_t size;
};

static void file_settled(struct file *f) {
  while (f->held && f->in_flight <= WRITE_WINDOW) {
    struct held *h = f->held;
    f->held = h->next;
    struct fuse_write_out w = {.size = h->size};
    reply(h->unique, f->write_err, &w, sizeof w);
    free(h);
  }
  if (f->in_flight) return;
  for (struct waiter *w = f->flushes, *next; w; w = next) {
    next = w->next;
    reply(w->unique, f->write_err, NULL, 0);
    free(w);
  }
  f->flushes = NULL;
  if (!f->release) return;
  if (sftp_connected() && f->generation == sftp_generation()) {
    sftp_begin(FXP_CLOSE, ignore_reply, NULL);
    sftp_put_str(f->handle, f->handle_len);
    sftp_end();
  }
  if (f->wrote) drop_parent_listing(f->path);
  reply(f->release, 0, NULL, 0);
  free(f->path);
  free(f);
}

static void write_step(void *ctx, uint8_t type, struct sftp_reader *r) {
  struct write_piece *p = ctx;
  struct file *f = p->f;
  int err = sftp_status_errno(r, type);
  if (err && !f->write_err) f->write_err = err > 0 ? err : EIO;
  f->in_flight -= p->size;
  free(p);
  file_settled(f);
}

struct read_op {
  uint64_t unique;
  int waiting, err;
  size_t size, pieces;
  uint32_t *got;
  uint8_t *data;
};

struct read_piece {
  struct read_op *op;
  size_t index;
};

static void read_step(void *ctx, uint8_t type, struct sftp_reader *r) {
  struct read_piece *p = ctx;
  struct read_op *op = p->op;
  if (r && type == FXP_DATA) {
    uint32_t len;
    const uint8_t *d = sftp_str(r, &len);
    size_t want = op->size - p->index * READ_CHUNK;
    if (want > READ_CHUNK) want = READ_CHUNK;
    if (!d || len > want) op->err = EIO;
    else memcpy(op->data + p->index * READ_CHUNK, d, len), op->got[p->index] = len;
  } else {
    int err = sftp_status_errno(r, type);
    if (err > 0) op->err = err; /* EOF (-1): nothing there */
  }
  free(p);
  if (--op->waiting > 0) return;
  /* the bytes up to the first piece that came back short: the file ends there */
  size_t total = 0;
  for (size_t i = 0; i < op->pieces; i++) {
    total += op->got[i];
    if (op->got[i] < READ_CHUNK) break;
  }
  if (total > op->size) total = op->size;
  reply(op->unique, total == 0 ? op->err : 0, op->data, total);
  free(op->got);
  free(op->data);
  free(op);
}

/* ---- the kernel's requests ---- */

static int file_usable(struct file *f) {
  return sftp_connected() && f->generation == sftp_generation() ? 0 : EIO;
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

static void do_readdirplus(uint64_t unique, uint64_t dir, const struct fuse_read_in *in) {
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

static void do_lookup(uint64_t unique, struct node *parent, const char *name) {
  char path[PATH_MAX];
  int err = child_path(path, parent->path, name);
  if (err) {
    reply(unique, err, NULL, 0);
    return;
  }
  struct listing *l = listing_get(parent->path);
  if (l && l->state == READY)
    for (size_t i = 0; i < l->n; i++)
      if (strcmp(l->entries[i].name, name) == 0 && (l->entries[i].attrs.flags & ATTR_PERMISSIONS)) {
        reply_entry(unique, path, &l->entries[i].attrs);
        return;
      }
  /* not listed here: asked of the desktop (a name it just made may not be listed yet) */
  if ((err = link_up())) {
    reply(unique, err, NULL, 0);
    return;
  }
  struct op *op = op_new(unique, FUSE_LOOKUP);
  strcpy(op->path, path);
  op_lstat(op, path);
}

static void op_finish(struct op *op) {
  int err = op->err;
  switch (op->opcode) {
    case FUSE_LOOKUP:
    case FUSE_MKDIR:
    case FUSE_SYMLINK:
      if (!err) err = op->attr_err;
      if (err) reply(op->unique, err, NULL, 0);
      else reply_entry(op->unique, op->path, &op->attrs);
      break;
    case FUSE_GETATTR:
    case FUSE_SETATTR: {
      if (!err) err = op->attr_err;
      struct fuse_attr_out o = {.attr_valid = cache_s};
      fill_attr(&o.attr, op->nodeid, &op->attrs);
      reply(op->unique, err, &o, sizeof o);
      break;
    }
    case FUSE_OPEN:
    case FUSE_CREATE: {
      if (!err && op->opcode == FUSE_CREATE) err = op->attr_err;
      if (err) {
        if (op->handle_len && sftp_connected()) { /* made and opened, but not seen: closed again */
          sftp_begin(FXP_CLOSE, ignore_reply, NULL);
          sftp_put_str(op->handle, op->handle_len);
          sftp_end();
        }
        reply(op->unique, err, NULL, 0);
        break;
      }
      struct file *f = xalloc(sizeof *f);
      memcpy(f->handle, op->handle, op->handle_len);
      f->handle_len = op->handle_len;
      f->generation = sftp_generation();
      f->path = xstrdup(op->path);
      struct {
        struct fuse_entry_out e;
        struct fuse_open_out o;
      } out = {.o = {.fh = (uint64_t)(uintptr_t)f}};
      if (op->opcode == FUSE_OPEN) reply(op->unique, 0, &out.o, sizeof out.o);
      else entry_out(&out.e, node_get(op->path), &op->attrs), reply(op->unique, 0, &out, sizeof out);
      break;
    }
    case FUSE_READLINK:
      reply(op->unique, err, op->to, strlen(op->to));
      break;
    case FUSE_RENAME2:
      if (!err) {
        /* the nodes at and under the old path take the new one; one replaced at the new path leaves */
        struct node *replaced = node_by_path(op->to);
        if (replaced) path_unlink(replaced), replaced->gone = 1;
        size_t len = strlen(op->path);
        for (size_t b = 0; b < BUCKETS; b++)
          for (struct node *n = by_id[b]; n; n = n->next_id) {
            if (n->gone || strncmp(n->path, op->path, len) != 0 || (n->path[len] != 0 && n->path[len] != '/')) continue;
            char moved[PATH_MAX];
            if (snprintf(moved, sizeof moved, "%s%s", op->to, n->path + len) >= (int)sizeof moved) continue;
            path_unlink(n);
            free(n->path);
            n->path = xstrdup(moved);
            path_link(n);
          }
        listing_drop(op->path, 1);
        listing_drop(op->to, 1);
      }
      reply(op->unique, err, NULL, 0);
      break;
    default: { /* UNLINK, RMDIR */
      struct node *removed = err ? NULL : node_by_path(op->path);
      if (removed) path_unlink(removed), removed->gone = 1;
      reply(op->unique, err, NULL, 0);
    }
  }
  free(op);
}

static uint32_t open_flags(uint32_t flags) {
  uint32_t p = (flags & O_ACCMODE) == O_RDONLY ? FXF_READ : (flags & O_ACCMODE) == O_WRONLY ? FXF_WRITE : FXF_READ | FXF_WRITE;
  if (flags & O_APPEND) p |= FXF_APPEND;
  if (flags & O_TRUNC) p |= FXF_TRUNC;
  if (flags & O_CREAT) p |= FXF_CREAT;
  if (flags & O_EXCL) p |= FXF_EXCL;
  return p;
}

static void do_read(uint64_t unique, const struct fuse_read_in *in) {
  struct file *f = (struct file *)(uintptr_t)in->fh;
  int err = file_usable(f);
  if (err) {
    reply(unique, err, NULL, 0);
    return;
  }
  struct read_op *op = xalloc(sizeof *op);
  op->unique = unique;
  op->size = in->size > MAX_IO ? MAX_IO : in->size;
  op->pieces = (op->size + READ_CHUNK - 1) / READ_CHUNK;
  op->got = xalloc((op->pieces ? op->pieces : 1) * sizeof *op->got);
  op->data = malloc(op->size ? op->size : 1);
  if (!op->data) die("sharefs: out of memory");
  if (op->pieces == 0) {
    reply(unique, 0, NULL, 0);; free(op->got);; free(op->data);; free(op);
    return;
  }
  op->waiting = (int)op->pieces;
  for (size_t i = 0; i < op->pieces; i++) {
    struct read_piece *p = xalloc(sizeof *p);
    p->op = op, p->index = i;
    size_t want = op->size - i * READ_CHUNK;
    sftp_begin(FXP_READ, read_step, p);
    sftp_put_str(f->handle, f->handle_len);
    sftp_put_u64(in->offset + i * READ_CHUNK);
    sftp_put_u32(want > READ_CHUNK ? READ_CHUNK : (uint32_t)want);
    sftp_end();
  }
}

static void do_write(uint64_t unique, const struct fuse_write_in *in, const uint8_t *data) {
  struct file *f = (struct file *)(uintptr_t)in->fh;
  int err = file_usable(f);
  if (!err) err = f->write_err;
  if (err) {
    reply(unique, err, NULL, 0);
    return;
  }
  for (uint32_t off = 0; off < in->size; off += WRITE_CHUNK) {
    struct write_piece *p = xalloc(sizeof *p);
    p->f = f;
    p->size = in->size - off > WRITE_CHUNK ? WRITE_CHUNK : in->size - off;
    sftp_begin(FXP_WRITE, write_step, p);
    sftp_put_str(f->handle, f->handle_len);
    sftp_put_u64(in->offset + off);
    sftp_put_str(data + off, p->size);
    sftp_end();
    f->in_flight += p->size;
  }
  f->wrote = 1;
  struct held *h = xalloc(sizeof *h);
  h->unique = unique, h->size = in->size;
  struct held **tail = &f->held;
  while (*tail) tail = &(*tail)->next;
  *tail = h;
  file_settled(f);
}

static void do_setattr(uint64_t unique, struct node *n, const struct fuse_setattr_in *in) {
  int err = link_up();
  if (err) {
    reply(unique, err, NULL, 0);
    return;
  }
  struct sftp_attrs a = {0};
  if (in->valid & FATTR_SIZE) a.flags |= ATTR_SIZE, a.size = in->size;
  if (in->valid & FATTR_MODE) a.flags |= ATTR_PERMISSIONS, a.mode = in->mode & 07777;
  if (in->valid & (FATTR_ATIME | FATTR_MTIME)) {
    uint32_t t = (uint32_t)time(NULL);
    a.flags |= ATTR_ACMODTIME;
    a.atime = in->valid & FATTR_ATIME_NOW ? t : (uint32_t)in->atime;
    a.mtime = in->valid & FATTR_MTIME_NOW ? t : (uint32_t)in->mtime;
    /* SFTP sets both: the one not asked for keeps the other's value (`touch -m` also sets atime) */
    if (!(in->valid & FATTR_ATIME)) a.atime = a.mtime;
    if (!(in->valid & FATTR_MTIME)) a.mtime = a.atime;
  }
  /* Owner changes are accepted and not made: the desktop's files keep their owner (as Docker
   * Desktop's file sharing does), and a container's `chown -R` over its source does not fail. */
  struct op *op = op_new(unique, FUSE_SETATTR);
  strcpy(op->path, n->path);
  op->nodeid = n->id;
  if (a.flags) {
    op->waiting++;
    sftp_begin(FXP_SETSTAT, op_step, op);
    sftp_put_cstr(n->path);
    sftp_put_attrs(&a);
    sftp_end();
  }
  op_lstat(op, n->path);
  listing_drop(n->path, 0);
  drop_parent_listing(n->path);
}

static void do_init(uint64_t unique, const struct fuse_init_in *in) {
  if (in->major != FUSE_KERNEL_VERSION) {
    reply(unique, EPROTO, NULL, 0);
    diex("sharefs: the kernel speaks FUSE %u, not %d", in->major, FUSE_KERNEL_VERSION);
  }
  struct fuse_init_out o = {
      .major = FUSE_KERNEL_VERSION,
      .minor = FUSE_KERNEL_MINOR_VERSION,
      .max_readahead = in->max_readahead,
      .flags = in->flags & (FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS | FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES |
                            FUSE_ATOMIC_O_TRUNC),
      .max_background = 64,
      .congestion_threshold = 48,
      .max_write = MAX_IO,
      .time_gran = 1000000000, /* SFTP v3 times are whole seconds */
      .max_pages = MAX_PAGES,
  };
  reply(unique, 0, &o, in->minor < 23 ? FUSE_COMPAT_22_INIT_OUT_SIZE : sizeof o);
}

static void do_statfs(uint64_t unique) {
  /* SFTP v3 has no statfs: sizes that never say "full", as sshfs gives without its extension */
  struct fuse_statfs_out o = {.st = {.bsize = 4096, .frsize = 4096, .namelen = 255}};
  o.st.blocks = o.st.bfree = o.st.bavail = 1ULL << 28;
  o.st.files = o.st.ffree = 1000000000;
  reply(unique, 0, &o, sizeof o);
}

/* One request from the kernel. */
static void handle(const uint8_t *buf, size_t len) {
  const struct fuse_in_header *h = (const void *)buf;
  const void *arg = buf + sizeof *h;
  uint64_t u = h->unique;
  if (len < sizeof *h || h->len > len) return;
  if (h->opcode == FUSE_INIT) {
    do_init(u, arg);
    return;
  }
  if (h->opcode == FUSE_FORGET) {
    forget(h->nodeid, ((const struct fuse_forget_in *)arg)->nlookup);
    return;
  }
  if (h->opcode == FUSE_BATCH_FORGET) {
    const struct fuse_batch_forget_in *b = arg;
    const struct fuse_forget_one *one = (const void *)(b + 1);
    for (uint32_t i = 0; i < b->count && (const uint8_t *)(one + i + 1) <= buf + len; i++) forget(one[i].nodeid, one[i].nlookup);
    return;
  }
  if (h->opcode == FUSE_INTERRUPT) return; /* every request is answered soon, interrupted or not */
  if (h->opcode == FUSE_DESTROY) {
    reply(u, 0, NULL, 0);
    exit(0);
  }
  if (h->opcode == FUSE_STATFS) {
    do_statfs(u);
    return;
  }
  if (h->opcode == FUSE_READDIRPLUS) {
    do_readdirplus(u, h->nodeid, arg);
    return;
  }
  if (h->opcode == FUSE_RELEASEDIR) {
    listing_unref((struct listing *)(uintptr_t)((const struct fuse_release_in *)arg)->fh);
    reply(u, 0, NULL, 0);
    return;
  }
  if (h->opcode == FUSE_WRITE) {
    do_write(u, arg, (const uint8_t *)arg + sizeof(struct fuse_write_in));
    return;
  }
  if (h->opcode == FUSE_READ) {
    do_read(u, arg);
    return;
  }
  if (h->opcode == FUSE_FLUSH || h->opcode == FUSE_FSYNC || h->opcode == FUSE_RELEASE) {
    uint64_t fh = h->opcode == FUSE_FLUSH ? ((const struct fuse_flush_in *)arg)->fh
                  : h->opcode == FUSE_FSYNC ? ((const struct fuse_fsync_in *)arg)->fh
                                            : ((const struct fuse_release_in *)arg)->fh;
    struct file *f = (struct file *)(uintptr_t)fh;
    if (h->opcode == FUSE_RELEASE) f->release = u;
    else {
      struct waiter *w = xalloc(sizeof *w);
      w->unique = u, w->next = f->flushes, f->flushes = w;
    }
    file_settled(f);
    return;
  }
  struct node *n = node_by_id(h->nodeid);
  if (!n || n->gone) {
    reply(u, ESTALE, NULL, 0);
    return;
  }
  if (h->opcode == FUSE_LOOKUP) {
    do_lookup(u, n, arg);
    return;
  }
  if (h->opcode == FUSE_OPENDIR) {
    struct listing *l = listing_get(n->path);
    int err = l ? 0 : link_up();
    if (err) {
      reply(u, err, NULL, 0);
      return;
    }
    if (!l) l = fetch(n->path, 0);
    if (l->state == READY) {
      answer_opendir(l, u);
      return;
    }
    struct waiter *w = xalloc(sizeof *w);
    w->unique = u, w->next = l->waiters, l->waiters = w;
    return;
  }
  if (h->opcode == FUSE_SETATTR) {
    do_setattr(u, n, arg);
    return;
  }
  /* the rest ask the desktop */
  if (h->opcode != FUSE_GETATTR && h->opcode != FUSE_READLINK && h->opcode != FUSE_MKDIR && h->opcode != FUSE_SYMLINK &&
      h->opcode != FUSE_UNLINK && h->opcode != FUSE_RMDIR && h->opcode != FUSE_RENAME && h->opcode != FUSE_RENAME2 &&
      h->opcode != FUSE_OPEN && h->opcode != FUSE_CREATE) {
    reply(u, h->opcode == FUSE_MKNOD || h->opcode == FUSE_LINK ? EPERM : ENOSYS, NULL, 0);
    return;
  }
  int err = link_up();
  if (err) {
    reply(u, err, NULL, 0);
    return;
  }
  struct op *op = op_new(u, h->opcode == FUSE_RENAME ? FUSE_RENAME2 : h->opcode);
  const char *name = arg;
  switch (h->opcode) {
    case FUSE_GETATTR:
      strcpy(op->path, n->path);
      op->nodeid = n->id;
      op_lstat(op, n->path);
      return;
    case FUSE_READLINK:
      strcpy(op->path, n->path);
      op->waiting++;
      sftp_begin(FXP_READLINK, op_step, op);
      sftp_put_cstr(n->path);
      sftp_end();
      return;
    case FUSE_OPEN:
      strcpy(op->path, n->path);
      op->waiting++;
      sftp_begin(FXP_OPEN, op_step, op);
      sftp_put_cstr(n->path);
      sftp_put_u32(open_flags(((const struct fuse_open_in *)arg)->flags));
      sftp_put_attrs(&(struct sftp_attrs){0});
      sftp_end();
      return;
    case FUSE_RENAME:
    case FUSE_RENAME2: {
      const struct fuse_rename2_in *r2 = arg;
      size_t skip = h->opcode == FUSE_RENAME ? sizeof(struct fuse_rename_in) : sizeof(struct fuse_rename2_in);
      const char *from = (const char *)arg + skip, *to = from + strlen(from) + 1;
      struct node *dest = node_by_id(r2->newdir);
      if (h->opcode == FUSE_RENAME2 && r2->flags) err = EINVAL; /* RENAME_NOREPLACE/EXCHANGE: not in SFTP v3 */
      if (!err && !dest) err = ESTALE;
      if (!err) err = child_path(op->path, n->path, from);
      if (!err) err = child_path(op->to, dest->path, to);
      if (err) {
        reply(u, err, NULL, 0);; free(op);
        return;
      }
      op->waiting++;
      sftp_begin(FXP_RENAME, op_step, op);
      sftp_put_cstr(op->path);
      sftp_put_cstr(op->to);
      sftp_end();
      drop_parent_listing(op->path);
      drop_parent_listing(op->to);
      return;
    }
    default:
      break;
  }
  /* MKDIR, SYMLINK, CREATE, UNLINK, RMDIR: one name in the folder `n` (after the op's own struct) */
  const char *target = NULL;
  struct sftp_attrs a = {.flags = ATTR_PERMISSIONS};
  if (h->opcode == FUSE_MKDIR) a.mode = ((const struct fuse_mkdir_in *)arg)->mode & 07777, name += sizeof(struct fuse_mkdir_in);
  if (h->opcode == FUSE_CREATE) a.mode = ((const struct fuse_create_in *)arg)->mode & 07777, name += sizeof(struct fuse_create_in);
  if (h->opcode == FUSE_SYMLINK) target = name + strlen(name) + 1;
  if ((err = child_path(op->path, n->path, name))) {
    reply(u, err, NULL, 0);; free(op);
    return;
  }
  op->waiting++;
  switch (h->opcode) {
    case FUSE_MKDIR:
      sftp_begin(FXP_MKDIR, op_step, op);
      sftp_put_cstr(op->path);
      sftp_put_attrs(&a);
      break;
    case FUSE_SYMLINK: /* the target, then the link's path: OpenSSH's order, which sshfs and ssh2's server use */
      sftp_begin(FXP_SYMLINK, op_step, op);
      sftp_put_cstr(target);
      sftp_put_cstr(op->path);
      break;
    case FUSE_CREATE:
      sftp_begin(FXP_OPEN, op_step, op);
      sftp_put_cstr(op->path);
      sftp_put_u32(open_flags(((const struct fuse_create_in *)arg)->flags) | FXF_CREAT);
      sftp_put_attrs(&a);
      break;
    default:
      sftp_begin(h->opcode == FUSE_UNLINK ? FXP_REMOVE : FXP_RMDIR, op_step, op);
      sftp_put_cstr(op->path);
  }
  sftp_end();
  if (h->opcode == FUSE_MKDIR || h->opcode == FUSE_SYMLINK || h->opcode == FUSE_CREATE) op_lstat(op, op->path);
  drop_parent_listing(op->path);
  if (h->opcode == FUSE_RMDIR) listing_drop(op->path, 1);
}

int cmd_sharefs(int argc, char **argv) {
  unsigned long seconds;
  if (argc != 3 || argv[0][0] != '/' || argv[1][0] != '/' || parse_ulong(argv[2], 86400, &seconds) < 0) {
    fputs("onggi-init sharefs: expected SOCKET MOUNTPOINT CACHE_SECONDS (absolute paths)\n", stderr);
    return 2;
  }
  socket_path = argv[0];
  cache_s = (unsigned)seconds;
  signal(SIGPIPE, SIG_IGN);
  /* The desktop must answer before the mount is made: a share that cannot be served fails here, said. */
  int err = sftp_connect(socket_path, CONNECT_TIMEOUT_MS);
  if (err) {
    fprintf(stderr, "onggi-init sharefs: cannot reach the desktop at %s: %s\n", socket_path, strerror(err));
    return 1;
  }
  fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fuse_fd < 0) die("sharefs: open /dev/fuse");
  char options[128];
  snprintf(options, sizeof options, "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", fuse_fd);
  if (mount("onggi-share", argv[1], "fuse.onggi-share", MS_NOSUID | MS_NODEV, options) < 0) die("sharefs: mount %s", argv[1]);
  node_get("/")->nlookup = 1;
  /* The mount is made: the caller goes on while this process serves it in the background. */
  pid_t pid = fork();
  if (pid < 0) die("sharefs: fork");
  if (pid > 0) return 0;
  setsid();
  if (chdir("/") < 0) die("sharefs: chdir");
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) dup2(null, 0), dup2(null, 1), dup2(null, 2);
  fcntl(fuse_fd, F_SETFL, fcntl(fuse_fd, F_GETFL) | O_NONBLOCK);
  uint8_t *buf = malloc(MAX_IO + 64 * 1024);
  if (!buf) die("sharefs: out of memory");
  double swept = now();
  for (;;) {
    struct pollfd p[2] = {{.fd = fuse_fd, .events = sftp_queued() > QUEUED_MAX ? 0 : POLLIN}, {.fd = sftp_fd(), .events = sftp_events()}};
    if (poll(p, sftp_fd() >= 0 ? 2 : 1, 10000) < 0 && errno != EINTR) die("sharefs: poll");
    if (now() - swept >= cache_s) {
      listing_sweep();
      swept = now();
    }
    if (p[1].revents) sftp_io(p[1].revents);
    if (p[0].revents & (POLLERR | POLLHUP)) return 0; /* unmounted */
    for (int i = 0; i < 256 && (p[0].revents & POLLIN); i++) {
      ssize_t n = read(fuse_fd, buf, MAX_IO + 64 * 1024);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        if (errno == ENOENT) continue; /* a request interrupted before it was read */
        if (errno == ENODEV) return 0; /* unmounted */
        die("sharefs: read /dev/fuse");
      }
      handle(buf, (size_t)n);
      if (sftp_queued() > QUEUED_MAX) break;
    }
    if (sftp_queued()) sftp_io(POLLOUT); /* what the requests queued goes now, not after another poll */
  }
}
