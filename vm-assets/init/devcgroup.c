#include "devcgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util.h"

struct rule {
  int type;            /* BPF_DEVCG_DEV_CHAR, BPF_DEVCG_DEV_BLOCK, or 0 for any */
  long major, minor;   /* -1: any */
  unsigned access;     /* BPF_DEVCG_ACC_* bits */
};

static int parse_number(const char **p, long *out) {
  if (**p == '*') {
    (*p)++;
    *out = -1;
    return 0;
  }
  if (**p < '0' || **p > '9') return -1;
  long n = 0;
  while (**p >= '0' && **p <= '9') {
    n = n * 10 + (**p - '0');
    if (n > 0xfffff) return -1;
    (*p)++;
  }
  *out = n;
  return 0;
}

/* "c 1:3 rwm", "b *:* m", "a" (everything) */
static int parse_rule(const char *text, struct rule *r) {
  const char *p = text;
  r->major = r->minor = -1;
  r->access = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
  switch (*p++) {
    case 'a': r->type = 0; return *p == '\0' || strcmp(p, " *:* rwm") == 0 ? 0 : -1;
    case 'c': r->type = BPF_DEVCG_DEV_CHAR; break;
    case 'b': r->type = BPF_DEVCG_DEV_BLOCK; break;
    default: return -1;
  }
  if (*p++ != ' ' || parse_number(&p, &r->major) < 0 || *p++ != ':' || parse_number(&p, &r->minor) < 0 || *p++ != ' ') return -1;
  r->access = 0;
  for (; *p; p++) {
    if (*p == 'r') r->access |= BPF_DEVCG_ACC_READ;
    else if (*p == 'w') r->access |= BPF_DEVCG_ACC_WRITE;
    else if (*p == 'm') r->access |= BPF_DEVCG_ACC_MKNOD;
    else return -1;
  }
  return r->access ? 0 : -1;
}

const char *bad_device_rule(const struct strv *rules) {
  struct rule r;
  for (size_t i = 0; i < rules->n; i++)
    if (parse_rule(rules->items[i], &r) < 0) return rules->items[i];
  return NULL;
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

/* r2 = device type, r3 = requested access, r4 = major, r5 = minor; each rule falls through to
 * the next when one of its tests fails, and returns 1 (allow) when all pass. */
static struct bpf_insn *compile(const struct strv *rules, size_t *count) {
  struct bpf_insn *prog = calloc(rules->n * 6 + 8, sizeof *prog);
  if (!prog) die("calloc");
  size_t n = 0;
  prog[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
  prog[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 2, 0, 0);
  prog[n++] = INSN(BPF_ALU64 | BPF_RSH | BPF_K, 3, 0, 0, 16);
  prog[n++] = INSN(BPF_ALU64 | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
  prog[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, 4, 1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
  prog[n++] = INSN(BPF_LDX | BPF_MEM | BPF_W, 5, 1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
  for (size_t i = 0; i < rules->n; i++) {
    struct rule r;
    parse_rule(rules->items[i], &r);
    struct bpf_insn tests[4];
    size_t t = 0;
    if (r.type) tests[t++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 0, r.type);
    unsigned denied = ~r.access & (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE);
    if (denied) tests[t++] = INSN(BPF_JMP | BPF_JSET | BPF_K, 3, 0, 0, (int)denied);
    if (r.major >= 0) tests[t++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 0, (int)r.major);
    if (r.minor >= 0) tests[t++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 0, (int)r.minor);
    for (size_t k = 0; k < t; k++) {
      tests[k].off = (short)(t - k - 1 + 2); /* past the remaining tests and the allow */
      prog[n++] = tests[k];
    }
    prog[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
    prog[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    /* A rule with no test ("a", --privileged) allows everything: what follows could never run,
     * and the verifier refuses a program with unreachable instructions. */
    if (t == 0) {
      *count = n;
      return prog;
    }
  }
  prog[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
  prog[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  *count = n;
  return prog;
}

static int load_with_log(const struct bpf_insn *prog, size_t count, char *log, size_t size) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (unsigned long)prog;
  attr.insn_cnt = (unsigned)count;
  attr.license = (unsigned long)"Apache-2.0";
  if (log) {
    attr.log_buf = (unsigned long)log;
    attr.log_size = (unsigned)size;
    attr.log_level = 1;
  }
  return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
}

static int load(const struct bpf_insn *prog, size_t count) {
  int fd = load_with_log(prog, count, NULL, 0);
  if (fd >= 0) return fd;
  int err = errno;
  /* Only on failure ask the verifier why: its log of a success is long and of no use. */
  static char log[65536];
  if (load_with_log(prog, count, log, sizeof log) < 0 && log[0]) {
    size_t len = strlen(log);
    while (len > 0 && log[len - 1] == '\n') log[--len] = '\0';
    char *last = strrchr(log, '\n');
    errno = err;
    die("bpf BPF_PROG_LOAD device filter (%s)", last ? last + 1 : log);
  }
  errno = err;
  die("bpf BPF_PROG_LOAD device filter");
}

static int is_cgroup2_dir(const char *procs, char *dir, size_t size) {
  if (snprintf(dir, size, "%s", procs) >= (int)size) return 0;
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return 0;
  *slash = '\0';
  struct statfs fs;
  return statfs(dir, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC;
}

void attach_device_filter(const struct spec *sp) {
  if (sp->device_allow.n == 0) return;
  size_t count;
  struct bpf_insn *prog = compile(&sp->device_allow, &count);
  int prog_fd = -1, attached = 0;
  char dir[PATH_MAX];
  for (size_t i = 0; i < sp->cgroup_procs.n; i++) {
    if (!is_cgroup2_dir(sp->cgroup_procs.items[i], dir, sizeof dir)) continue;
    if (prog_fd < 0) prog_fd = load(prog, count);
    int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg < 0) die("open %s", dir);
    union bpf_attr attach;
    memset(&attach, 0, sizeof attach);
    attach.target_fd = (unsigned)cg;
    attach.attach_bpf_fd = (unsigned)prog_fd;
    attach.attach_type = BPF_CGROUP_DEVICE;
    /* Programs of parent cgroups keep running too: ours can only narrow what they allow. */
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach) < 0) die("bpf BPF_PROG_ATTACH device filter to %s", dir);
    close(cg);
    attached = 1;
  }
  if (prog_fd >= 0) close(prog_fd);
  free(prog);
  if (!attached) diex("--device-allow: none of the --cgroup-procs files is on cgroup2; on cgroup v1 the rules belong in devices.allow");
}
