/* onggi-init: the last mile of a container, in one static process whose code is already loaded
 * when the host's binaries disappear behind pivot_root. Subcommands: run (the per-container
 * supervisor), exec (join a running container), whiteout and opaque (overlayfs markers), lock (the
 * agent's lifetime lock on its state directory), launch (supervisors, forked in a batch), dial (an
 * exec channel's stdio to a socket), sharefs (a shared desktop folder's FUSE mount), version. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "devcgroup.h"
#include "json.h"
#include "mounts.h"
#include "options.h"
#include "privileges.h"
#include "spec.h"
#include "util.h"

#ifndef ONGGI_INIT_VERSION
#define ONGGI_INIT_VERSION "0.0.0-dev"
#endif

#if defined(__x86_64__)
#define ARCH_NAME "x86_64"
#elif defined(__aarch64__)
#define ARCH_NAME "aarch64"
#else
#error "onggi-init supports x86_64 and aarch64"
#endif

/* The first problem found; parsing goes on so the exit file and ready fd, wherever they appear
 * on the line, are known and can carry it. */
static char parse_error[512];

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void bad(const char *fmt, ...) {
  if (parse_error[0]) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(parse_error, sizeof parse_error, fmt, ap);
  va_end(ap);
}

static void push(struct strv *v, char *item) { v->items[v->n++] = item; }

static int parse_fd(const char *opt, const char *value) {
  unsigned long n;
  if (parse_ulong(value, INT_MAX, &n) < 0) {
    bad("%s: not a file descriptor: \"%s\"", opt, value);
    return -1;
  }
  return (int)n;
}

static unsigned long parse_id(const char *opt, const char *value, unsigned long max) {
  unsigned long n = 0;
  if (parse_ulong(value, max, &n) < 0) bad("%s: not a number in range: \"%s\"", opt, value);
  return n;
}

static void parse_groups(struct spec *sp, char *value) {
  sp->ngroups = 0;
  if (!*value) return;
  size_t count = 1;
  for (const char *p = value; *p; p++) count += *p == ',';
  sp->groups = calloc(count, sizeof *sp->groups);
  if (!sp->groups) die("calloc");
  for (char *save = NULL, *tok = strtok_r(value, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    sp->groups[sp->ngroups++] = (gid_t)parse_id("--groups", tok, 0xfffffffeUL);
}

/* The option's entry in known_options when mode accepts it, else -1. */
static int accepts(const char *opt, int mode) {
  for (size_t k = 0; k < sizeof known_options / sizeof *known_options; k++)
    if (strcmp(opt, known_options[k].name) == 0) return (known_options[k].modes & mode) != 0 ? (int)k : -1;
  return -1;
}

/* ROWSxCOLS, each 1 to 65535 (struct winsize holds unsigned shorts). */
static void parse_tty_size(struct spec *sp, const char *opt, const char *value) {
  char rows[8], cols[8];
  const char *x = strchr(value, 'x');
  unsigned long r = 0, c = 0;
  size_t rlen = x ? (size_t)(x - value) : 0;
  if (!x || rlen >= sizeof rows || strlen(x + 1) >= sizeof cols) {
    bad("%s: expected ROWSxCOLS like 24x80: \"%s\"", opt, value);
    return;
  }
  memcpy(rows, value, rlen);
  rows[rlen] = '\0';
  strcpy(cols, x + 1);
  if (parse_ulong(rows, 65535, &r) < 0 || parse_ulong(cols, 65535, &c) < 0 || r == 0 || c == 0) {
    bad("%s: expected ROWSxCOLS like 24x80: \"%s\"", opt, value);
    return;
  }
  sp->tty_rows = (unsigned short)r;
  sp->tty_cols = (unsigned short)c;
}

/* C:H:N, one line of a user namespace's map: inside, outside, count (count at least 1). */
static void parse_idmap(const char *opt, const char *value) {
  char copy[48];
  unsigned long n[3];
  if (strlen(value) >= sizeof copy) {
    bad("%s: expected C:H:N: \"%s\"", opt, value);
    return;
  }
  strcpy(copy, value);
  char *save = NULL, *tok = strtok_r(copy, ":", &save);
  for (int k = 0; k < 3; k++, tok = strtok_r(NULL, ":", &save))
    if (!tok || parse_ulong(tok, 0xffffffffUL, &n[k]) < 0) {
      bad("%s: expected C:H:N: \"%s\"", opt, value);
      return;
    }
  if (tok || n[2] == 0 || n[0] + n[2] > 0xffffffffUL || n[1] + n[2] > 0xffffffffUL) bad("%s: expected C:H:N: \"%s\"", opt, value);
}

static void absolute(const char *opt, const char *value) {
  if (value[0] != '/') bad("%s: must be an absolute path: \"%s\"", opt, value);
}

static void parse_options(struct spec *sp, int argc, char **argv, int mode) {
  memset(sp, 0, sizeof *sp);
  sp->cwd = "/";
  sp->ready_fd = sp->go_fd = sp->resize_fd = -1;
  sp->rootfs_fd = sp->resolv_conf_fd = sp->hosts_file_fd = -1;
  sp->log_max_files = 1;
  sp->mounts = calloc((size_t)argc + 1, sizeof *sp->mounts);
  if (!sp->mounts) die("calloc");
  struct strv *lists[] = {&sp->env, &sp->caps, &sp->seccomp, &sp->masks, &sp->readonly, &sp->cgroup_procs, &sp->device_allow,
                          &sp->device_nodes, &sp->sysctls};
  for (size_t k = 0; k < sizeof lists / sizeof *lists; k++) {
    lists[k]->items = calloc((size_t)argc + 1, sizeof(char *));
    if (!lists[k]->items) die("calloc");
  }
  int seen[sizeof known_options / sizeof *known_options] = {0};
  int i = 0;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *opt = argv[i];
    int known = accepts(opt, mode);
    if (known < 0) {
      if (strncmp(opt, "--", 2) == 0)
        bad("unknown option %s", opt);
      else
        bad("unexpected argument \"%s\"", opt);
      continue;
    }
    if (seen[known]++ && !(known_options[known].modes & REPEATABLE)) bad("%s given twice", opt);
    char *value = NULL;
    if (!(known_options[known].modes & FLAG)) {
      if (i + 1 >= argc) {
        bad("%s: missing value", opt);
        break;
      }
      value = argv[++i];
    }
    /* No default: an option protocol.json gained without a case here fails the build (-Wswitch). */
    switch (known_options[known].id) {
    case OPT_TTY:
      sp->tty = 1;
      break;
    case OPT_UNMOUNT_ROOTFS:
      sp->unmount_rootfs = 1;
      break;
    case OPT_PRINT_SPEC:
      sp->print_spec = 1;
      break;
    case OPT_ROOTFS:
      absolute(opt, sp->rootfs = value);
      break;
    case OPT_OVERLAY:
      sp->overlay = value;
      break;
    case OPT_HOSTNAME:
      sp->hostname = value;
      break;
    case OPT_CWD:
      absolute(opt, sp->cwd = value);
      break;
    case OPT_UID:
      sp->uid = (uid_t)parse_id(opt, value, 0xfffffffeUL);
      break;
    case OPT_GID:
      sp->gid = (gid_t)parse_id(opt, value, 0xfffffffeUL);
      break;
    case OPT_GROUPS:
      parse_groups(sp, value);
      break;
    case OPT_ENV:
      if (value[0] == '=' || !strchr(value, '=')) bad("%s: expected KEY=VALUE: \"%s\"", opt, value);
      push(&sp->env, value);
      break;
    case OPT_CAP:
      push(&sp->caps, value);
      break;
    case OPT_SECCOMP:
      push(&sp->seccomp, value);
      break;
    case OPT_ALLOW_NEW_PRIVILEGES:
      sp->allow_new_privileges = 1;
      break;
    case OPT_MASK:
      absolute(opt, value);
      push(&sp->masks, value);
      break;
    case OPT_READONLY:
      absolute(opt, value);
      push(&sp->readonly, value);
      break;
    case OPT_CGROUP_PROCS:
      push(&sp->cgroup_procs, value);
      break;
    case OPT_DEVICE_ALLOW:
      push(&sp->device_allow, value);
      break;
    case OPT_CGROUPFS:
      if (strcmp(value, "v2") != 0 && strcmp(value, "none") != 0) bad("%s: expected v2 or none: \"%s\"", opt, value);
      sp->cgroupfs_v2 = strcmp(value, "v2") == 0;
      break;
    case OPT_LOG:
      sp->log = value;
      break;
    case OPT_LOG_MAX_SIZE:
      sp->log_max_size = parse_id(opt, value, ULONG_MAX);
      break;
    case OPT_LOG_MAX_FILES:
      sp->log_max_files = (unsigned)parse_id(opt, value, 1000);
      if (sp->log_max_files == 0) bad("%s: must be at least 1: \"%s\"", opt, value);
      break;
    case OPT_EXIT_FILE:
      sp->exit_file = value;
      break;
    case OPT_PID_FILE:
      sp->pid_file = value;
      break;
    case OPT_READY_FD:
      sp->ready_fd = parse_fd(opt, value);
      break;
    case OPT_GO_FD:
      sp->go_fd = parse_fd(opt, value);
      break;
    case OPT_RESIZE_FD:
      sp->resize_fd = parse_fd(opt, value);
      break;
    case OPT_TARGET_PID:
      sp->target_pid = (pid_t)parse_id(opt, value, INT_MAX);
      if (sp->target_pid == 0) bad("%s: must be a process id: \"%s\"", opt, value);
      break;
    case OPT_TTY_SIZE:
      parse_tty_size(sp, opt, value);
      break;
    case OPT_MOUNT: {
      char why[300];
      if (parse_mount(value, &sp->mounts[sp->nmounts], why, sizeof why) < 0)
        bad("%s: %s", opt, why);
      else
        sp->nmounts++;
      break;
    }
    case OPT_CONSOLE:
      absolute(opt, sp->console = value);
      break;
    case OPT_STDIN_OPEN:
      sp->stdin_open = 1;
      break;
    case OPT_ATTACH_WAIT:
      sp->attach_wait_ms = parse_id(opt, value, 600000);
      if (sp->attach_wait_ms == 0) bad("%s: must be at least 1: \"%s\"", opt, value);
      break;
    case OPT_RESOLV_CONF:
      absolute(opt, sp->resolv_conf = value);
      break;
    case OPT_HOSTS_FILE:
      absolute(opt, sp->hosts_file = value);
      break;
    case OPT_READ_ONLY_ROOTFS:
      sp->read_only_rootfs = 1;
      break;
    case OPT_SHM_SIZE:
      sp->shm_size = parse_id(opt, value, ULONG_MAX);
      if (sp->shm_size == 0) bad("%s: must be at least 1: \"%s\"", opt, value);
      break;
    case OPT_PRIVILEGED:
      sp->privileged = 1;
      break;
    case OPT_DEVICE_NODE:
      push(&sp->device_nodes, value);
      break;
    case OPT_SYSCTL:
      push(&sp->sysctls, value);
      break;
    case OPT_UID_MAP:
    case OPT_GID_MAP:
      parse_idmap(opt, value);
      *(known_options[known].id == OPT_UID_MAP ? &sp->uid_map : &sp->gid_map) = value;
      break;
    case OPT_IDMAP_LAYERS:
      sp->idmap_layers = 1;
      break;
    }
  }
  const char *rule = bad_device_rule(&sp->device_allow);
  if (rule) bad("--device-allow: expected TYPE MAJOR:MINOR ACCESS like \"c 1:3 rwm\": \"%s\"", rule);
  const char *node = bad_device_node(&sp->device_nodes);
  if (node) bad("--device-node: expected TYPE:MAJOR:MINOR:MODE:UID:GID:/PATH like \"c:1:3:666:0:0:/dev/null\": \"%s\"", node);
  const char *sysctl = bad_sysctl(&sp->sysctls);
  if (sysctl) bad("--sysctl: expected PATH=VALUE like \"net/ipv4/ip_forward=1\": \"%s\"", sysctl);
  sp->argv = argv + (i < argc ? i + 1 : argc);
  if (!sp->argv[0]) bad("missing -- CMD [ARG...]");
  for (size_t k = 0; k < sizeof known_options / sizeof *known_options; k++)
    if ((known_options[k].modes & REQUIRED) && (known_options[k].modes & mode) && !seen[k]) bad("%s is required", known_options[k].name);
  if (sp->tty_rows && !sp->tty) bad("--tty-size needs --tty");
  if (sp->resize_fd >= 0 && !sp->tty) bad("--resize-fd needs --tty");
  if (!sp->uid_map != !sp->gid_map) bad("--uid-map and --gid-map go together");
  if (sp->idmap_layers && (!sp->uid_map || !sp->overlay)) bad("--idmap-layers needs --uid-map and --overlay");
  if (mode == FOR_RUN && (sp->tty || sp->stdin_open || sp->attach_wait_ms) && !sp->console) bad("--tty, --stdin-open and --attach-wait need --console");
}

static void print_string(const char *s) {
  if (!s) {
    fputs("null", stdout);
    return;
  }
  size_t len = strlen(s);
  char *out = malloc(JSON_ESCAPED_MAX(len) + 1);
  if (!out) die("malloc");
  putchar('"');
  fwrite(out, 1, json_escape(out, (const unsigned char *)s, len), stdout);
  putchar('"');
  free(out);
}

static void print_strings(const char *key, char *const *items, size_t n) {
  printf(",\"%s\":[", key);
  for (size_t k = 0; k < n; k++) {
    if (k) putchar(',');
    print_string(items[k]);
  }
  putchar(']');
}

/* An id map as helper-protocol.ts's IdMap, or nothing when absent. */
static void print_idmap(const char *key, const char *map) {
  unsigned long c, h, n;
  if (map && sscanf(map, "%lu:%lu:%lu", &c, &h, &n) == 3) printf(",\"%s\":{\"container\":%lu,\"host\":%lu,\"size\":%lu}", key, c, h, n);
}

/* --print-spec: what arrived, as JSON with the agent's field names, and nothing run. The test
 * that round-trips every option of protocol.json reads it. */
static int print_spec(const struct spec *sp) {
  if (parse_error[0]) {
    note("%s", parse_error);
    fputs(usage, stderr);
    return 2;
  }
  printf("{\"targetPid\":%ld,\"rootfs\":", (long)sp->target_pid);
  print_string(sp->rootfs);
  fputs(",\"overlay\":", stdout);
  print_string(sp->overlay);
  fputs(",\"hostname\":", stdout);
  print_string(sp->hostname);
  print_strings("cgroupProcs", sp->cgroup_procs.items, sp->cgroup_procs.n);
  fputs(",\"cwd\":", stdout);
  print_string(sp->cwd);
  printf(",\"uid\":%lu,\"gid\":%lu,\"groups\":[", (unsigned long)sp->uid, (unsigned long)sp->gid);
  for (size_t k = 0; k < sp->ngroups; k++) printf("%s%lu", k ? "," : "", (unsigned long)sp->groups[k]);
  putchar(']');
  print_strings("env", sp->env.items, sp->env.n);
  print_strings("caps", sp->caps.items, sp->caps.n);
  print_strings("seccomp", sp->seccomp.items, sp->seccomp.n);
  printf(",\"allowNewPrivileges\":%s", sp->allow_new_privileges ? "true" : "false");
  print_strings("masked", sp->masks.items, sp->masks.n);
  print_strings("readonly", sp->readonly.items, sp->readonly.n);
  print_strings("deviceAllow", sp->device_allow.items, sp->device_allow.n);
  printf(",\"cgroupfs\":\"%s\",\"logFile\":", sp->cgroupfs_v2 ? "v2" : "none");
  print_string(sp->log);
  printf(",\"logMaxSize\":%llu,\"logMaxFiles\":%u", sp->log_max_size, sp->log_max_files);
  fputs(",\"exitFile\":", stdout);
  print_string(sp->exit_file);
  fputs(",\"pidFile\":", stdout);
  print_string(sp->pid_file);
  printf(",\"unmountRootfs\":%s,\"readyFd\":%d,\"goFd\":%d,\"tty\":%s,\"ttySize\":{\"rows\":%u,\"cols\":%u},\"printSpec\":true",
         sp->unmount_rootfs ? "true" : "false", sp->ready_fd, sp->go_fd, sp->tty ? "true" : "false", sp->tty_rows, sp->tty_cols);
  print_mounts(sp->mounts, sp->nmounts, print_string);
  fputs(",\"console\":", stdout);
  print_string(sp->console);
  printf(",\"stdinOpen\":%s,\"attachWaitMs\":%lu", sp->stdin_open ? "true" : "false", sp->attach_wait_ms);
  fputs(",\"resolvConf\":", stdout);
  print_string(sp->resolv_conf);
  fputs(",\"hostsFile\":", stdout);
  print_string(sp->hosts_file);
  printf(",\"readOnlyRootfs\":%s,\"shmSize\":%llu", sp->read_only_rootfs ? "true" : "false", sp->shm_size);
  printf(",\"privileged\":%s", sp->privileged ? "true" : "false");
  printf(",\"resizeFd\":%d", sp->resize_fd);
  print_device_nodes(&sp->device_nodes, print_string);
  print_strings("sysctls", sp->sysctls.items, sp->sysctls.n);
  print_idmap("uidMap", sp->uid_map);
  print_idmap("gidMap", sp->gid_map);
  printf(",\"idmapLayers\":%s", sp->idmap_layers ? "true" : "false");
  size_t argc = 0;
  while (sp->argv[argc]) argc++;
  print_strings("argv", sp->argv, argc);
  puts("}");
  return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("onggi-init %s %s\n", ONGGI_INIT_VERSION, ARCH_NAME);
    return 0;
  }
  if (strcmp(cmd, "whiteout") == 0 || strcmp(cmd, "opaque") == 0) {
    if (argc < 4) {
      fputs(usage, stderr);
      return 2;
    }
    return cmd[0] == 'w' ? cmd_whiteout(argv[2], argv + 3, argc - 3) : cmd_opaque(argv[2], argv + 3, argc - 3);
  }
  if (strcmp(cmd, "lock") == 0) {
    if (argc != 3) {
      fputs(usage, stderr);
      return 2;
    }
    return cmd_lock(argv[2]);
  }
  if (strcmp(cmd, "launch") == 0) return cmd_launch(argc - 2, argv + 2);
  if (strcmp(cmd, "dial") == 0) return cmd_dial(argc - 2, argv + 2);
  if (strcmp(cmd, "sharefs") == 0) return cmd_sharefs(argc - 2, argv + 2);
  if (strcmp(cmd, "run") == 0 || strcmp(cmd, "exec") == 0) {
    struct spec sp;
    int run = cmd[0] == 'r';
    parse_options(&sp, argc - 2, argv + 2, run ? FOR_RUN : FOR_EXEC);
    if (sp.print_spec) return print_spec(&sp);
    if (run) return cmd_run(&sp, parse_error[0] ? parse_error : NULL);
    if (parse_error[0]) {
      note("%s", parse_error);
      fputs(usage, stderr);
      return 2;
    }
    return cmd_exec(&sp);
  }
  fputs(usage, stderr);
  return 2;
}
