/* sharefs's open files. A READ is asked of the desktop in pieces sent together; a WRITE is sent
 * behind — answered at once, up to WRITE_WINDOW unconfirmed per file, its error kept and reported by
 * the next write, flush, fsync or close (as sshfs does) — so a sequential transfer keeps the link busy
 * instead of waiting a round trip per write(2). A handle opened on an earlier connection answers EIO:
 * the desktop's end of it closed with that connection. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sharefs.h"
#include "util.h"

/* A READ is asked of the desktop in pieces this big, all at once: the most it answers at once
 * (sftp-server.ts MAX_READ). With 128 KiB pieces (and 4 MiB of readahead) a 256 MiB read was 0.70 of
 * the raw link, with these (and 8 MiB) 0.89 and 0.60 (bench case 15: its sequential runs swing). */
#define READ_CHUNK (254 * 1024)
/* A WRITE goes in pieces this big: an SFTP packet may not pass 256 KiB, its header included (ssh2's
 * limit, as OpenSSH's; one past it ends the session). Fewer, larger pieces: 0.64 and 0.69 of the
 * link for a 256 MiB write against 0.56 with 128 KiB ones (bench case 15). */
#define WRITE_CHUNK (255 * 1024)
/* Bytes a file may have written behind (sent, not yet confirmed) before its next write waits. */
#define WRITE_WINDOW (8 * 1024 * 1024)

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

static int file_usable(struct file *f) {
  return sftp_connected() && f->generation == sftp_generation() ? 0 : EIO;
}

void do_read(uint64_t unique, const struct fuse_read_in *in) {
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

void do_write(uint64_t unique, const struct fuse_write_in *in, const uint8_t *data) {
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

void do_file_settle(uint64_t unique, uint64_t fh, int release) {
  struct file *f = (struct file *)(uintptr_t)fh;
  if (release) f->release = unique;
  else {
    struct waiter *w = xalloc(sizeof *w);
    w->unique = unique, w->next = f->flushes, f->flushes = w;
  }
  file_settled(f);
}

uint64_t file_opened(const uint8_t *handle, uint32_t handle_len, const char *path) {
  struct file *f = xalloc(sizeof *f);
  memcpy(f->handle, handle, handle_len);
  f->handle_len = handle_len;
  f->generation = sftp_generation();
  f->path = xstrdup(path);
  return (uint64_t)(uintptr_t)f;
}
