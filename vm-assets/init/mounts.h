/* A container's own mounts (bind mounts, volumes, tmpfs), made inside its rootfs through file
 * descriptors resolved as if the rootfs were "/", before pivot_root. */
#ifndef ONGGI_MOUNTS_H
#define ONGGI_MOUNTS_H

#include <stddef.h>

struct mount_spec {
  int tmpfs; /* 0: bind source onto target */
  int readonly;
  const char *target; /* absolute, inside the container */
  const char *source; /* bind: absolute on the machine; tmpfs: NULL */
  unsigned long long size; /* tmpfs: bytes, 0 = the kernel's default */
  int mode;                /* tmpfs: permission bits, -1 = the kernel's default */
  int copy_up;             /* bind of a volume: fill it from the image's directory while it is empty */
  int noexec;              /* tmpfs: MS_NOEXEC */
  int source_fd;           /* bind: the source opened ahead (O_PATH, see spec.h rootfs_fd), or -1 */
};

/* Parses --mount's value, TYPE:FLAGS:TARGET:SOURCE (helper-protocol.ts writes it): TYPE bind or
 * tmpfs; FLAGS comma-separated ro|rw, size=BYTES, mode=OCTAL; TARGET absolute without ":";
 * SOURCE the rest (bind: absolute; tmpfs: empty). Splits value in place. On error returns -1 with
 * the reason in err. FLAGS may also hold `copy` on a bind (a volume: see copyup.h) and `noexec` on a tmpfs. */
int parse_mount(char *value, struct mount_spec *out, char *err, size_t errlen);

/* Makes every mount under rootfd, in order (the agent sorts parents first); dies on failure. */
void apply_mounts(int rootfd, const struct mount_spec *mounts, size_t n);

/* The --print-spec form: ,"mounts":[{...}] with helper-protocol.ts's field names. */
void print_mounts(const struct mount_spec *mounts, size_t n, void (*print_string)(const char *));

#endif
