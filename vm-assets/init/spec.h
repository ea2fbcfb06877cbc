/* What the agent asked for, parsed from argv. The helper applies it; it decides nothing. */
#ifndef ONGGI_SPEC_H
#define ONGGI_SPEC_H

#include <stddef.h>
#include <sys/types.h>

#include "mounts.h"

struct strv {
  char **items;
  size_t n;
};

struct spec {
  const char *rootfs;
  const char *hostname;
  const char *cwd;
  uid_t uid;
  gid_t gid;
  gid_t *groups;
  size_t ngroups;
  struct strv env;
  struct strv caps;
  /* --seccomp lines (seccomp.h); none: no filter. */
  struct strv seccomp;
  /* --allow-new-privileges: no_new_privs stays unset (the filter then goes on before the capabilities go). */
  int allow_new_privileges;
  struct strv masks;
  struct strv readonly;
  struct strv cgroup_procs;
  struct strv device_allow;
  int cgroupfs_v2;
  const char *log;
  /* run: rotate the log past this many bytes (0: never), keeping this many files in all. */
  unsigned long long log_max_size;
  unsigned log_max_files;
  const char *exit_file;
  const char *pid_file;
  int ready_fd;
  int go_fd;
  pid_t target_pid;
  /* exec --tty: a new pty from the container's own devpts for the command; --tty-size, its
   * size when our stdin is not a terminal to copy it from (0 = not given). */
  int tty;
  /* run: the supervisor unmounts the rootfs (in its own, the machine's, mount namespace) once the container ended. */
  int unmount_rootfs;
  /* --print-spec: print what was parsed as JSON and run nothing (the protocol round-trip test). */
  int print_spec;
  /* run: overlayfs mount options; the supervisor mounts the rootfs itself (one `mount` spawn less per start). */
  const char *overlay;
  unsigned short tty_rows, tty_cols;
  /* exec --tty --resize-fd: `ROWSxCOLS` lines read from it resize the pty while the command runs
   * (an API client's resizes, when our stdin is a pipe with no size of its own). -1: none. */
  int resize_fd;
  /* run --mount: the container's bind mounts and tmpfs, parents first. */
  struct mount_spec *mounts;
  size_t nmounts;
  /* run: the unix socket attachers reach the container on (console.h); with tty, the container's
   * first process gets a pty whose master the supervisor keeps. */
  const char *console;
  /* run: the container's stdin stays open for attachers (a pipe, or the pty's input with tty). */
  int stdin_open;
  /* run: output waits this long at most for the first attacher (`start -a`), 0: not at all. */
  unsigned long attach_wait_ms;
  /* run: a file bind-mounted at the container's /etc/resolv.conf (made a plain file inside the root first). */
  const char *resolv_conf;
  /* run: a file bind-mounted at the container's /etc/hosts the same way (the agent's per-container hosts file,
   * rewritten in place as peers come and go). */
  const char *hosts_file;
  /* run: the root filesystem's mount made read-only after everything is mounted on it (--read-only). */
  int read_only_rootfs;
  /* run: /dev/shm's size in bytes (0: Docker's 64 MiB). */
  unsigned long long shm_size;
  /* run --privileged: /sys and /sys/fs/cgroup mounted writable (the rest of privileged is the agent's lists). */
  int privileged;
  /* run --device-node TYPE:MAJOR:MINOR:MODE:UID:GID:PATH: device nodes of the machine made in the container. */
  struct strv device_nodes;
  /* run --sysctl PATH=VALUE: written to /proc/sys/PATH inside the container's namespaces before exec. */
  struct strv sysctls;
  /* run --uid-map/--gid-map C:H:N: a user namespace of its own with these maps (userns.h); both or neither. */
  const char *uid_map, *gid_map;
  /* run --idmap-layers: the overlay's lowerdirs are mounted idmapped through that namespace. */
  int idmap_layers;
  /* With a user namespace: the rootfs, resolv.conf and hosts file opened (O_PATH) while we still had the
   * machine's uid 0, used instead of their paths once we are root inside (-1: not opened). */
  int rootfs_fd, resolv_conf_fd, hosts_file_fd;
  char **argv; /* the container's command: NULL-terminated */
};

#endif
