/* onggi-init: the last mile of a container, in one static process whose code is already loaded
 * when the host's binaries disappear behind pivot_root. Subcommands: run (the per-container
 * supervisor), exec (join a running container), whiteout and opaque (overlayfs markers), lock (the
 * agent's lifetime lock on its state directory), version. */
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

enum { FOR_RUN = 1, FOR_EXEC = 2 };
/* An option that takes no value. */
enum { FLAG = 4 };

static const char usage[] =
    "usage: onggi-init run [--rootfs DIR] [--hostname NAME] [--cwd DIR] [--uid N] [--gid N] [--groups N,...]\n"
    "                      [--env K=V]... [--cap NAME]... [--seccomp-deny NAME]... [--mask PATH]... [--readonly PATH]...\n"
    "                      [--cgroup-procs FILE]... [--device-allow RULE]... [--cgroupfs v2|none]\n"
    "                      [--overlay MOUNT-OPTIONS] [--log FILE] [--log-max-size BYTES] [--log-max-files N] [--exit-file FILE] [--unmount-rootfs] [--pid-file FILE] [--ready-fd N] [--go-fd N] -- CMD [ARG...]\n"
    "       onggi-init exec --target-pid PID [--cgroup-procs FILE]... [--cwd DIR] [--uid N] [--gid N] [--groups N,...]\n"
    "                      [--env K=V]... [--cap NAME]... [--seccomp-deny NAME]... [--tty [--tty-size ROWSxCOLS]]\n"
    "                      -- CMD [ARG...]\n"
    "       onggi-init whiteout ROOT RELPATH...\n"
    "       onggi-init opaque ROOT RELPATH...\n"
    "       onggi-init lock FD\n"
    "       onggi-init version\n";

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

static const struct {
  const char *name;
  int modes;
} known_options[] = {
    {"--rootfs", FOR_RUN},       {"--hostname", FOR_RUN},  {"--mask", FOR_RUN},          {"--readonly", FOR_RUN},
    {"--cgroupfs", FOR_RUN},     {"--log", FOR_RUN},       {"--exit-file", FOR_RUN},     {"--pid-file", FOR_RUN},
    {"--ready-fd", FOR_RUN},     {"--go-fd", FOR_RUN},     {"--target-pid", FOR_EXEC},   {"--cwd", FOR_RUN | FOR_EXEC},
    {"--uid", FOR_RUN | FOR_EXEC}, {"--gid", FOR_RUN | FOR_EXEC}, {"--groups", FOR_RUN | FOR_EXEC}, {"--env", FOR_RUN | FOR_EXEC},
    {"--cap", FOR_RUN | FOR_EXEC}, {"--seccomp-deny", FOR_RUN | FOR_EXEC}, {"--cgroup-procs", FOR_RUN | FOR_EXEC}, {"--device-allow", FOR_RUN},
    {"--tty", FOR_EXEC | FLAG},  {"--tty-size", FOR_EXEC},   {"--unmount-rootfs", FOR_RUN | FLAG}, {"--overlay", FOR_RUN},
    {"--log-max-size", FOR_RUN}, {"--log-max-files", FOR_RUN},
};

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

static void absolute(const char *opt, const char *value) {
  if (value[0] != '/') bad("%s: must be an absolute path: \"%s\"", opt, value);
}

static void parse_options(struct spec *sp, int argc, char **argv, int mode) {
  memset(sp, 0, sizeof *sp);
  sp->cwd = "/";
  sp->ready_fd = sp->go_fd = -1;
  sp->log_max_files = 1;
  struct strv *lists[] = {&sp->env, &sp->caps, &sp->seccomp_deny, &sp->masks, &sp->readonly, &sp->cgroup_procs, &sp->device_allow};
  for (size_t k = 0; k < sizeof lists / sizeof *lists; k++) {
    lists[k]->items = calloc((size_t)argc + 1, sizeof(char *));
    if (!lists[k]->items) die("calloc");
  }
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
    if (known_options[known].modes & FLAG) {
      if (strcmp(opt, "--tty") == 0) sp->tty = 1;
      if (strcmp(opt, "--unmount-rootfs") == 0) sp->unmount_rootfs = 1;
      continue;
    }
    if (i + 1 >= argc) {
      bad("%s: missing value", opt);
      break;
    }
    char *value = argv[++i];
    if (strcmp(opt, "--rootfs") == 0) {
      absolute(opt, sp->rootfs = value);
    } else if (strcmp(opt, "--overlay") == 0) {
      sp->overlay = value;
    } else if (strcmp(opt, "--hostname") == 0) {
      sp->hostname = value;
    } else if (strcmp(opt, "--cwd") == 0) {
      absolute(opt, sp->cwd = value);
    } else if (strcmp(opt, "--uid") == 0) {
      sp->uid = (uid_t)parse_id(opt, value, 0xfffffffeUL);
    } else if (strcmp(opt, "--gid") == 0) {
      sp->gid = (gid_t)parse_id(opt, value, 0xfffffffeUL);
    } else if (strcmp(opt, "--groups") == 0) {
      parse_groups(sp, value);
    } else if (strcmp(opt, "--env") == 0) {
      if (value[0] == '=' || !strchr(value, '=')) bad("%s: expected KEY=VALUE: \"%s\"", opt, value);
      push(&sp->env, value);
    } else if (strcmp(opt, "--cap") == 0) {
      push(&sp->caps, value);
    } else if (strcmp(opt, "--seccomp-deny") == 0) {
      push(&sp->seccomp_deny, value);
    } else if (strcmp(opt, "--mask") == 0) {
      absolute(opt, value);
      push(&sp->masks, value);
    } else if (strcmp(opt, "--readonly") == 0) {
      absolute(opt, value);
      push(&sp->readonly, value);
    } else if (strcmp(opt, "--cgroup-procs") == 0) {
      push(&sp->cgroup_procs, value);
    } else if (strcmp(opt, "--device-allow") == 0) {
      push(&sp->device_allow, value);
    } else if (strcmp(opt, "--cgroupfs") == 0) {
      if (strcmp(value, "v2") != 0 && strcmp(value, "none") != 0) bad("%s: expected v2 or none: \"%s\"", opt, value);
      sp->cgroupfs_v2 = strcmp(value, "v2") == 0;
    } else if (strcmp(opt, "--log") == 0) {
      sp->log = value;
    } else if (strcmp(opt, "--log-max-size") == 0) {
      sp->log_max_size = parse_id(opt, value, ULONG_MAX);
    } else if (strcmp(opt, "--log-max-files") == 0) {
      sp->log_max_files = (unsigned)parse_id(opt, value, 1000);
      if (sp->log_max_files == 0) bad("%s: must be at least 1: \"%s\"", opt, value);
    } else if (strcmp(opt, "--exit-file") == 0) {
      sp->exit_file = value;
    } else if (strcmp(opt, "--pid-file") == 0) {
      sp->pid_file = value;
    } else if (strcmp(opt, "--ready-fd") == 0) {
      sp->ready_fd = parse_fd(opt, value);
    } else if (strcmp(opt, "--go-fd") == 0) {
      sp->go_fd = parse_fd(opt, value);
    } else if (strcmp(opt, "--target-pid") == 0) {
      sp->target_pid = (pid_t)parse_id(opt, value, INT_MAX);
      if (sp->target_pid == 0) bad("%s: must be a process id: \"%s\"", opt, value);
    } else if (strcmp(opt, "--tty-size") == 0) {
      parse_tty_size(sp, opt, value);
    }
  }
  const char *rule = bad_device_rule(&sp->device_allow);
  if (rule) bad("--device-allow: expected TYPE MAJOR:MINOR ACCESS like \"c 1:3 rwm\": \"%s\"", rule);
  sp->argv = argv + (i < argc ? i + 1 : argc);
  if (!sp->argv[0]) bad("missing -- CMD [ARG...]");
  if (mode == FOR_RUN && !sp->rootfs) bad("--rootfs is required");
  if (mode == FOR_EXEC && !sp->target_pid) bad("--target-pid is required");
  if (sp->tty_rows && !sp->tty) bad("--tty-size needs --tty");
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
  if (strcmp(cmd, "run") == 0 || strcmp(cmd, "exec") == 0) {
    struct spec sp;
    int run = cmd[0] == 'r';
    parse_options(&sp, argc - 2, argv + 2, run ? FOR_RUN : FOR_EXEC);
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
