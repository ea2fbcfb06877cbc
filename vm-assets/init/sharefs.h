/* sharefs's parts (sharefs.c): the nodes (sharefs-nodes.c), the listings (sharefs-listings.c) and the
 * open files (sharefs-files.c), and what they share. */
#ifndef ONGGI_SHAREFS_H
#define ONGGI_SHAREFS_H

#include <linux/fuse.h>
#include <stddef.h>
#include <stdint.h>

#include "sftp.h"

/* The kernel's largest READ and WRITE: 256 pages (FUSE_MAX_PAGES). */
#define MAX_PAGES 256
#define MAX_IO (MAX_PAGES * 4096)
/* Hash table sizes (nodes by id and by path, listings by path). */
#define BUCKETS (1 << 16)

/* How long the kernel and sharefs keep names, attributes and listings (the command line's CACHE_SECONDS). */
extern unsigned cache_s;

double now(void);
void *xalloc(size_t n);
char *xstrdup(const char *s);
uint32_t hash(const char *s);
/* Answers a kernel request: `err` (an errno, 0 for none) or `len` bytes of `data`. */
void reply(uint64_t unique, int err, const void *data, size_t len);
void fill_attr(struct fuse_attr *fa, uint64_t ino, const struct sftp_attrs *a);
/* 0 when the desktop can be asked now (reconnecting if it was lost), else EIO. */
int link_up(void);
/* An SFTP reply nothing waits for. */
void ignore_reply(void *ctx, uint8_t type, struct sftp_reader *r);

/* A request of the kernel waiting for something (a listing, the writes before a flush). */
struct waiter {
  uint64_t unique;
  struct waiter *next;
};

/* ---- nodes (sharefs-nodes.c): the kernel's inodes, each a path in the share ---- */

struct node {
  uint64_t id, nlookup;
  int gone; /* removed or replaced through the mount: its path names something else now */
  char *path; /* "/" for the root, "/a/b" below it */
  struct node *next_id, *next_path;
};

struct node *node_by_id(uint64_t id);
struct node *node_by_path(const char *path);
/* The node of a path, made when the kernel has none for it. */
struct node *node_get(const char *path);
/* The node at `path` (if any) names nothing any more: removed, or replaced by a rename. */
void node_gone(const char *path);
/* A rename: the nodes at and under `from` take `to` in its place. */
void nodes_moved(const char *from, const char *to);
void forget(uint64_t id, uint64_t count);
/* A child's path into buf (PATH_MAX); 0, or ENAMETOOLONG. */
int child_path(char *buf, const char *parent, const char *name);
const char *parent_of(const char *path, char *buf);
/* An entry for the kernel (which then holds one more lookup of the node). */
void entry_out(struct fuse_entry_out *e, struct node *n, const struct sftp_attrs *a);
void reply_entry(uint64_t unique, const char *path, const struct sftp_attrs *a);

/* ---- listings (sharefs-listings.c): a folder's entries with their attributes ---- */

/* A name's attributes as the folder's fresh listing has them; NULL when it is not listed (or not fresh). */
const struct sftp_attrs *listed(const char *folder, const char *name);
/* Forgets the listing of `path` (and, with `below`, of every folder under it): it changed. */
void listing_drop(const char *path, int below);
void drop_parent_listing(const char *path);
/* Frees the listings past their time that nothing reads. */
void listing_sweep(void);
void do_opendir(uint64_t unique, struct node *n);
void do_readdirplus(uint64_t unique, uint64_t dir, const struct fuse_read_in *in);
void do_releasedir(uint64_t unique, uint64_t fh);

/* ---- open files (sharefs-files.c) ---- */

/* A file the desktop opened: the kernel's handle for it. */
uint64_t file_opened(const uint8_t *handle, uint32_t handle_len, const char *path);
void do_read(uint64_t unique, const struct fuse_read_in *in);
void do_write(uint64_t unique, const struct fuse_write_in *in, const uint8_t *data);
/* FLUSH and FSYNC (answered once the file's writes are confirmed), RELEASE (then closed). */
void do_file_settle(uint64_t unique, uint64_t fh, int release);

#endif
