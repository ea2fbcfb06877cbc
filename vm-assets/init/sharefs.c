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
 * answers the handshake, within CONNECT_TIMEOUT_MS, and then at once for RETRY_MS), and the
 * next one after the
 * desktop listens again reconnects, so a container's bind of the mount carries on. Files opened on
 * an earlier connection answer EIO (their handles died with it), as sshfs's do. A link that goes
 * dark without closing (a laptop asleep, Wi-Fi gone) closes nothing on the machine: its sshd may keep
 * the dead session for hours. So requests that hear nothing at all from the desktop for
 * SILENCE_SECONDS end the connection themselves, with EIO, as the desktop's own keepalive would
 * (15 s × 3 in ssh-connection.ts); a slow link is not silent (any byte heard counts).
 *
 * What is kept: listings and attributes for CACHE_SECONDS (the kernel keeps names and attributes as
 * long). A change made on the machine drops what it touches; one made on the desktop arrives as a
 * touch of the path and its folder (share-events.ts), which drops them here too.
 *
 * Here: the mount, the loop and the requests of one or two SFTP steps; the nodes, listings and open
 * files are sharefs-nodes.c, sharefs-listings.c and sharefs-files.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "sharefs.h"
#include "util.h"

/* Requests queued for the desktop past which the kernel's next ones wait. */
#define QUEUED_MAX (16 * 1024 * 1024)
#define CONNECT_TIMEOUT_MS 5000
/* After a handshake that timed out, requests fail at once for this long instead of each trying again
 * (a handshake that never comes back holds every request, cached ones too, up to CONNECT_TIMEOUT_MS). */
#define RETRY_MS 2000

static int fuse_fd = -1;
static const char *socket_path;
/* How long requests may hear nothing from the desktop before the connection is taken for dead. */
static int silence_ms = 30000;
static double failed_at = -1;
unsigned cache_s;

double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void *xalloc(size_t n) {
  void *p = calloc(1, n);
  if (!p) die("sharefs: out of memory");
  return p;
}

char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) die("sharefs: out of memory");
  return p;
}

uint32_t hash(const char *s) {
  uint32_t h = 2166136261u;
  while (*s) h = (h ^ (uint8_t)*s++) * 16777619u;
  return h;
}

void reply(uint64_t unique, int err, const void *data, size_t len) {
  if (err) len = 0;
  struct fuse_out_header h = {.len = (uint32_t)(sizeof h + len), .error = -err, .unique = unique};
  struct iovec iov[2] = {{&h, sizeof h}, {(void *)data, len}};
  /* ENOENT: the request was interrupted meanwhile; nothing waits for this answer any more */
  if (writev(fuse_fd, iov, len ? 2 : 1) < 0 && errno != ENOENT) note("sharefs: reply: %s", strerror(errno));
}

void fill_attr(struct fuse_attr *fa, uint64_t ino, const struct sftp_attrs *a) {
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

void ignore_reply(void *ctx, uint8_t type, struct sftp_reader *r) { (void)ctx, (void)type, (void)r; }

/* ---- the link to the desktop ---- */

int link_up(void) {
  if (sftp_connected()) return 0;
  if (failed_at >= 0 && (now() - failed_at) * 1000 < RETRY_MS) return EIO;
  int err = sftp_connect(socket_path, CONNECT_TIMEOUT_MS);
  /* only a handshake that timed out holds requests up; a refused connect costs nothing to retry */
  failed_at = err == ETIMEDOUT ? now() : -1;
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

static void do_lookup(uint64_t unique, struct node *parent, const char *name) {
  char path[PATH_MAX];
  int err = child_path(path, parent->path, name);
  if (err) {
    reply(unique, err, NULL, 0);
    return;
  }
  const struct sftp_attrs *a = listed(parent->path, name);
  if (a) {
    reply_entry(unique, path, a);
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
      struct {
        struct fuse_entry_out e;
        struct fuse_open_out o;
      } out = {.o = {.fh = file_opened(op->handle, op->handle_len, op->path)}};
      if (op->opcode == FUSE_OPEN) reply(op->unique, 0, &out.o, sizeof out.o);
      else entry_out(&out.e, node_get(op->path), &op->attrs), reply(op->unique, 0, &out, sizeof out);
      break;
    }
    case FUSE_READLINK:
      reply(op->unique, err, op->to, strlen(op->to));
      break;
    case FUSE_RENAME2:
      if (!err) {
        nodes_moved(op->path, op->to);
        listing_drop(op->path, 1);
        listing_drop(op->to, 1);
      }
      reply(op->unique, err, NULL, 0);
      break;
    default: { /* UNLINK, RMDIR */
      if (!err) node_gone(op->path);
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
    do_releasedir(u, ((const struct fuse_release_in *)arg)->fh);
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
    do_file_settle(u, fh, h->opcode == FUSE_RELEASE);
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
    do_opendir(u, n);
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
  unsigned long seconds, silence = 30;
  if ((argc != 3 && argc != 4) || argv[0][0] != '/' || argv[1][0] != '/' || parse_ulong(argv[2], 86400, &seconds) < 0 ||
      (argc == 4 && (parse_ulong(argv[3], 3600, &silence) < 0 || silence == 0))) {
    fputs("onggi-init sharefs: expected SOCKET MOUNTPOINT CACHE_SECONDS [SILENCE_SECONDS] (absolute paths)\n", stderr);
    return 2;
  }
  silence_ms = (int)silence * 1000;
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
    int silent = sftp_silent_ms();
    if (poll(p, sftp_fd() >= 0 ? 2 : 1, silent < 0 ? 10000 : silent >= silence_ms ? 0 : silence_ms - silent) < 0 && errno != EINTR)
      die("sharefs: poll");
    if (now() - swept >= cache_s) {
      listing_sweep();
      swept = now();
    }
    if (p[1].revents) sftp_io(p[1].revents);
    if (sftp_silent_ms() >= silence_ms) sftp_close(); /* the link went dark: EIO, not a hang */
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
