/* The client side of SFTP v3 (draft-ietf-secsh-filexfer-02) for sharefs: one connection to a unix
 * socket, requests pipelined, each answered through its own callback. Only what sharefs asks. */
#ifndef ONGGI_SFTP_H
#define ONGGI_SFTP_H

#include <stddef.h>
#include <stdint.h>

enum {
  FXP_INIT = 1, FXP_VERSION = 2, FXP_OPEN = 3, FXP_CLOSE = 4, FXP_READ = 5, FXP_WRITE = 6, FXP_LSTAT = 7,
  FXP_SETSTAT = 9, FXP_OPENDIR = 11, FXP_READDIR = 12, FXP_REMOVE = 13, FXP_MKDIR = 14, FXP_RMDIR = 15,
  FXP_RENAME = 18, FXP_READLINK = 19, FXP_SYMLINK = 20, FXP_EXTENDED = 200,
  FXP_STATUS = 101, FXP_HANDLE = 102, FXP_DATA = 103, FXP_NAME = 104, FXP_ATTRS = 105, FXP_EXTENDED_REPLY = 201,
};
/* Onggi's desktop server (sftp-server.ts) lists a folder in one request: `string path`, answered by
 * an EXTENDED_REPLY with a NAME's body (the whole listing), or, for a folder too large for one
 * packet, a HANDLE to READDIR as usual. */
#define LIST_FOLDER_EXTENSION "list-folder@onggi"
enum { FX_OK = 0, FX_EOF = 1, FX_NO_SUCH_FILE = 2, FX_PERMISSION_DENIED = 3, FX_FAILURE = 4, FX_OP_UNSUPPORTED = 8 };
enum { FXF_READ = 1, FXF_WRITE = 2, FXF_APPEND = 4, FXF_CREAT = 8, FXF_TRUNC = 16, FXF_EXCL = 32 };
enum { ATTR_SIZE = 1, ATTR_UIDGID = 2, ATTR_PERMISSIONS = 4, ATTR_ACMODTIME = 8, ATTR_EXTENDED = 0x80000000u };

struct sftp_attrs {
  uint32_t flags; /* ATTR_*: which of the fields below the server sent */
  uint64_t size;
  uint32_t uid, gid, mode, atime, mtime;
};

/* A reply being read: `p` walks its payload (after the request id). `bad` once a read ran past the end. */
struct sftp_reader {
  const uint8_t *p;
  size_t left;
  int bad;
};

/* The reply to one request: its type (FXP_STATUS, …) and payload; NULL when the connection was lost. */
typedef void (*sftp_callback)(void *ctx, uint8_t type, struct sftp_reader *reply);

uint32_t sftp_u32(struct sftp_reader *r);
uint64_t sftp_u64(struct sftp_reader *r);
/* A string's bytes (not NUL-terminated) and its length in *len; NULL when malformed. */
const uint8_t *sftp_str(struct sftp_reader *r, uint32_t *len);
void sftp_read_attrs(struct sftp_reader *r, struct sftp_attrs *a);
/* A STATUS reply's code as an errno (0 for FX_OK, -1 for FX_EOF); Node's "ECODE: …" message is read for FX_FAILURE. */
int sftp_status_errno(struct sftp_reader *r, uint8_t type);

/* Connects to the socket and exchanges INIT/VERSION (waiting at most timeout_ms): 0, or an errno. */
int sftp_connect(const char *socket_path, int timeout_ms);
int sftp_connected(void);
/* Counts connections: a handle opened on an earlier one is no longer valid. */
unsigned sftp_generation(void);
/* The socket and the poll events it waits for (-1 while disconnected). */
int sftp_fd(void);
short sftp_events(void);
/* How long (ms) requests have waited with nothing at all heard from the desktop; -1 with none waiting. */
int sftp_silent_ms(void);
/* Drops the connection: every request waiting hears so (its callback with NULL). */
void sftp_close(void);
/* Bytes queued and not yet written to the socket. */
size_t sftp_queued(void);
/* Reads and writes what the socket is ready for, calling the callbacks of the replies read. */
void sftp_io(short revents);

/* Building a request: begin (its type, callback and context), the fields, end. */
void sftp_begin(uint8_t type, sftp_callback cb, void *ctx);
void sftp_put_u32(uint32_t v);
void sftp_put_u64(uint64_t v);
void sftp_put_str(const void *s, size_t len);
void sftp_put_cstr(const char *s);
void sftp_put_attrs(const struct sftp_attrs *a);
void sftp_end(void);

#endif
