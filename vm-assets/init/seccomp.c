#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscall-table.h"
#include "util.h"

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "no seccomp architecture for this target"
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "argument comparisons load the low word of an argument at its little-endian offset"
#endif

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif
#ifndef SECCOMP_RET_KILL_THREAD
#define SECCOMP_RET_KILL_THREAD 0U
#endif
#ifndef SECCOMP_RET_LOG
#define SECCOMP_RET_LOG 0x7ffc0000U
#endif

/* x32 calls enter through x86_64's door (same audit arch) with bit 30 set in their numbers. */
#define X32_SYSCALL_BIT 0x40000000U
/* The most arguments a syscall has, and so the most comparisons one rule can make. */
#define MAX_CONDS 6

enum op { OP_NE, OP_LT, OP_LE, OP_EQ, OP_GE, OP_GT, OP_ME };

struct cond {
  unsigned index;
  enum op op;
  uint64_t a, b;
};

struct rule {
  uint32_t action;
  char **names;
  size_t nnames;
  struct cond conds[MAX_CONDS];
  unsigned nconds;
};

struct policy {
  uint32_t default_action;
  int have_default;
  int x86, x32; /* the sub-ABIs to filter (x86_64 machines only) */
  struct rule *rules;
  size_t nrules;
};

/* ---- reading the lines ---------------------------------------------------------------------- */

static int parse_u64(const char *text, uint64_t *out) {
  if (!*text || *text == '-' || *text == '+' || *text == ' ') return 0;
  char *end;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 0);
  if (errno || *end) return 0;
  *out = value;
  return 1;
}

static uint32_t parse_action(const char *text, const char *line) {
  uint64_t n;
  if (strcmp(text, "allow") == 0) return SECCOMP_RET_ALLOW;
  if (strcmp(text, "kill-thread") == 0) return SECCOMP_RET_KILL_THREAD;
  if (strcmp(text, "kill-process") == 0) return SECCOMP_RET_KILL_PROCESS;
  if (strcmp(text, "trap") == 0) return SECCOMP_RET_TRAP;
  if (strcmp(text, "log") == 0) return SECCOMP_RET_LOG;
  /* The kernel hands an errno above 4095 back as a plain (non-error) return value. */
  if (strncmp(text, "errno:", 6) == 0 && parse_u64(text + 6, &n) && n <= 4095) return SECCOMP_RET_ERRNO | (uint32_t)n;
  if (strncmp(text, "trace:", 6) == 0 && parse_u64(text + 6, &n) && n <= SECCOMP_RET_DATA) return SECCOMP_RET_TRACE | (uint32_t)n;
  diex("seccomp: \"%s\": unknown action \"%s\"", line, text);
}

static void parse_cond(struct cond *c, char *text, const char *line) {
  static const char *const ops[] = {"ne", "lt", "le", "eq", "ge", "gt", "me"};
  char *parts[4] = {0};
  size_t n = 0;
  for (char *save = NULL, *p = strtok_r(text, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
    if (n == 4) diex("seccomp: \"%s\": a comparison is INDEX:OP:VALUE[:VALUE2]", line);
    parts[n++] = p;
  }
  uint64_t index;
  if (n < 3 || !parse_u64(parts[0], &index) || index >= MAX_CONDS) diex("seccomp: \"%s\": a comparison is INDEX:OP:VALUE[:VALUE2], INDEX 0 to 5", line);
  c->index = (unsigned)index;
  size_t k = 0;
  while (k < sizeof ops / sizeof *ops && strcmp(ops[k], parts[1]) != 0) k++;
  if (k == sizeof ops / sizeof *ops) diex("seccomp: \"%s\": unknown comparison \"%s\"", line, parts[1]);
  c->op = (enum op)k;
  c->b = 0;
  if (!parse_u64(parts[2], &c->a) || (n == 4 && !parse_u64(parts[3], &c->b))) diex("seccomp: \"%s\": values are 64-bit numbers", line);
}

static void parse_line(struct policy *pol, const char *line) {
  char *copy = strdup(line);
  if (!copy) die("strdup");
  char *save = NULL;
  char *first = strtok_r(copy, " ", &save);
  char *second = first ? strtok_r(NULL, " ", &save) : NULL;
  if (!first || !second) diex("seccomp: \"%s\": expected ACTION NAMES or default ACTION or arch NAME", line);
  if (strcmp(first, "default") == 0) {
    pol->default_action = parse_action(second, line);
    pol->have_default = 1;
  } else if (strcmp(first, "arch") == 0) {
#if defined(__x86_64__)
    if (strcmp(second, "x86") == 0) pol->x86 = 1;
    else if (strcmp(second, "x32") == 0) pol->x32 = 1;
    else if (strcmp(second, "x86_64") != 0)
#else
    if (strcmp(second, "aarch64") != 0)
#endif
      diex("seccomp: \"%s\": this helper filters no ABI named %s", line, second);
  } else {
    struct rule *r = &pol->rules[pol->nrules++];
    memset(r, 0, sizeof *r);
    r->action = parse_action(first, line);
    for (char *s = second; *s; s++) r->nnames += *s == ',';
    r->names = calloc(++r->nnames, sizeof *r->names);
    if (!r->names) die("calloc");
    size_t k = 0;
    for (char *s2 = NULL, *name = strtok_r(second, ",", &s2); name; name = strtok_r(NULL, ",", &s2)) r->names[k++] = name;
    r->nnames = k;
    for (char *text; (text = strtok_r(NULL, " ", &save));) {
      if (r->nconds == MAX_CONDS) diex("seccomp: \"%s\": at most %d comparisons", line, MAX_CONDS);
      parse_cond(&r->conds[r->nconds++], text, line);
    }
  }
}

/* ---- syscall numbers ------------------------------------------------------------------------ */

struct abi {
  uint32_t audit_arch;
  const struct syscall_name *table;
  size_t n;
};

static long lookup(const struct abi *abi, const char *name) {
  size_t lo = 0, hi = abi->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(name, abi->table[mid].name);
    if (c == 0) return abi->table[mid].nr;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return -1;
}

/* ---- the program ---------------------------------------------------------------------------- */

struct prog {
  struct sock_filter *insns;
  size_t n, cap;
};

static size_t emit(struct prog *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 256;
    p->insns = realloc(p->insns, p->cap * sizeof *p->insns);
    if (!p->insns) die("realloc");
  }
  p->insns[p->n] = (struct sock_filter){.code = code, .jt = jt, .jf = jf, .k = k};
  return p->n++;
}

#define RET(p, action) emit((p), BPF_RET | BPF_K, (action), 0, 0)
#define LOAD(p, offset) emit((p), BPF_LD | BPF_W | BPF_ABS, (uint32_t)(offset), 0, 0)

/* Points the jump at `at` (an unconditional BPF_JA, or a conditional jump's false branch) to the
 * next instruction to be emitted. */
static void land_here(struct prog *p, size_t at, int true_branch) {
  size_t distance = p->n - at - 1;
  struct sock_filter *insn = &p->insns[at];
  if (BPF_OP(insn->code) == BPF_JA && BPF_CLASS(insn->code) == BPF_JMP) {
    insn->k = (uint32_t)distance;
    return;
  }
  if (distance > 255) diex("seccomp: a rule's comparisons are too long to jump over");
  if (true_branch)
    insn->jt = (uint8_t)distance;
  else
    insn->jf = (uint8_t)distance;
}

#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)

/* One comparison of a 64-bit argument in 32-bit steps: it falls through when it holds; the jumps
 * that fail it are added to `fails`, to be pointed at the next rule. */
static void emit_cond(struct prog *p, const struct cond *c, size_t *fails, size_t *nfails, int *fail_true) {
  uint32_t ahi = (uint32_t)(c->a >> 32), alo = (uint32_t)c->a, bhi = (uint32_t)(c->b >> 32), blo = (uint32_t)c->b;
#define FAIL_F(at) (fails[*nfails] = (at), fail_true[(*nfails)++] = 0)
#define FAIL_T(at) (fails[*nfails] = (at), fail_true[(*nfails)++] = 1)
  LOAD(p, ARG_HI(c->index));
  switch (c->op) {
  case OP_EQ:
    FAIL_F(emit(p, BPF_JMP | BPF_JEQ | BPF_K, ahi, 0, 0));
    LOAD(p, ARG_LO(c->index));
    FAIL_F(emit(p, BPF_JMP | BPF_JEQ | BPF_K, alo, 0, 0));
    break;
  case OP_NE:
    emit(p, BPF_JMP | BPF_JEQ | BPF_K, ahi, 0, 2); /* high words differ: holds */
    LOAD(p, ARG_LO(c->index));
    FAIL_T(emit(p, BPF_JMP | BPF_JEQ | BPF_K, alo, 0, 0));
    break;
  case OP_GT:
  case OP_GE:
    emit(p, BPF_JMP | BPF_JGT | BPF_K, ahi, 3, 0); /* high word above: holds */
    FAIL_F(emit(p, BPF_JMP | BPF_JEQ | BPF_K, ahi, 0, 0));
    LOAD(p, ARG_LO(c->index));
    FAIL_F(emit(p, BPF_JMP | (c->op == OP_GT ? BPF_JGT : BPF_JGE) | BPF_K, alo, 0, 0));
    break;
  case OP_LT:
  case OP_LE:
    emit(p, BPF_JMP | BPF_JGE | BPF_K, ahi, 0, 3); /* high word below: holds */
    FAIL_F(emit(p, BPF_JMP | BPF_JEQ | BPF_K, ahi, 0, 0));
    LOAD(p, ARG_LO(c->index));
    FAIL_T(emit(p, BPF_JMP | (c->op == OP_LT ? BPF_JGE : BPF_JGT) | BPF_K, alo, 0, 0));
    break;
  case OP_ME:
    emit(p, BPF_ALU | BPF_AND | BPF_K, ahi, 0, 0);
    FAIL_F(emit(p, BPF_JMP | BPF_JEQ | BPF_K, bhi, 0, 0));
    LOAD(p, ARG_LO(c->index));
    emit(p, BPF_ALU | BPF_AND | BPF_K, alo, 0, 0);
    FAIL_F(emit(p, BPF_JMP | BPF_JEQ | BPF_K, blo, 0, 0));
    break;
  }
#undef FAIL_F
#undef FAIL_T
}

/* A run of syscall numbers [lo, next interval's lo) that ends the same way: with one action, or
 * (a single number) with its rules' comparisons. */
struct interval {
  uint32_t lo;
  uint32_t action;         /* the fixed action, or the last resort after the rules */
  const size_t *rules;     /* conditional rules to try first, in order; NULL: none */
  size_t nrules;
};

struct hit {
  uint32_t nr;
  size_t rule;
};

static int by_nr_then_rule(const void *x, const void *y) {
  const struct hit *a = x, *b = y;
  if (a->nr != b->nr) return a->nr < b->nr ? -1 : 1;
  return a->rule < b->rule ? -1 : a->rule > b->rule;
}

static void emit_leaf(struct prog *p, const struct policy *pol, const struct interval *iv) {
  for (size_t k = 0; k < iv->nrules; k++) {
    const struct rule *r = &pol->rules[iv->rules[k]];
    size_t fails[MAX_CONDS * 2];
    int fail_true[MAX_CONDS * 2];
    size_t nfails = 0;
    for (unsigned c = 0; c < r->nconds; c++) emit_cond(p, &r->conds[c], fails, &nfails, fail_true);
    RET(p, r->action);
    for (size_t f = 0; f < nfails; f++) land_here(p, fails[f], fail_true[f]);
  }
  RET(p, iv->action);
}

/* A binary search on the syscall number (in the accumulator) down to its interval. */
static void emit_tree(struct prog *p, const struct policy *pol, const struct interval *iv, size_t lo, size_t hi) {
  if (lo == hi) {
    emit_leaf(p, pol, &iv[lo]);
    return;
  }
  size_t mid = (lo + hi + 1) / 2;
  emit(p, BPF_JMP | BPF_JGE | BPF_K, iv[mid].lo, 0, 1);
  size_t to_upper = emit(p, BPF_JMP | BPF_JA, 0, 0, 0);
  emit_tree(p, pol, iv, lo, mid - 1);
  land_here(p, to_upper, 0);
  emit_tree(p, pol, iv, mid, hi);
}

/* The syscalls of one ABI: its numbers for the rules' names, then the search over them. */
static void emit_abi(struct prog *p, const struct policy *pol, const struct abi *abi) {
  size_t total = 0;
  for (size_t r = 0; r < pol->nrules; r++) total += pol->rules[r].nnames;
  struct hit *hits = calloc(total + 1, sizeof *hits);
  struct interval *iv = calloc(2 * total + 2, sizeof *iv);
  size_t *order = calloc(total + 1, sizeof *order);
  if (!hits || !iv || !order) die("calloc");
  size_t nhits = 0;
  for (size_t r = 0; r < pol->nrules; r++)
    for (size_t k = 0; k < pol->rules[r].nnames; k++) {
      long nr = lookup(abi, pol->rules[r].names[k]);
      if (nr >= 0) hits[nhits++] = (struct hit){.nr = (uint32_t)nr, .rule = r};
    }
  qsort(hits, nhits, sizeof *hits, by_nr_then_rule);

  size_t niv = 0;
  uint64_t next = 0; /* the lowest number not yet in an interval */
#define ADD(lo_, action_, rules_, nrules_)                                                                          \
  do {                                                                                                              \
    if (niv > 0 && !iv[niv - 1].rules && !(rules_) && iv[niv - 1].action == (action_)) break; /* same: extend it */ \
    iv[niv++] = (struct interval){.lo = (lo_), .action = (action_), .rules = (rules_), .nrules = (nrules_)};        \
  } while (0)
  for (size_t h = 0; h < nhits;) {
    uint32_t nr = hits[h].nr;
    if (nr > next) ADD((uint32_t)next, pol->default_action, NULL, 0);
    size_t start = h, nconditional = 0;
    uint32_t last_resort = pol->default_action;
    int decided = 0;
    for (; h < nhits && hits[h].nr == nr; h++) {
      if (decided) continue; /* after a rule without comparisons nothing else is reached */
      const struct rule *r = &pol->rules[hits[h].rule];
      if (r->nconds == 0) {
        last_resort = r->action;
        decided = 1;
      } else {
        order[start + nconditional++] = hits[h].rule;
      }
    }
    ADD(nr, last_resort, nconditional ? &order[start] : NULL, nconditional);
    next = (uint64_t)nr + 1;
  }
  /* Numbers above every one the rules name are syscalls newer than the profile: ENOSYS, as runc
   * answers them, so libc falls back to an older call (glibc's fchmodat2 → fchmodat) instead of
   * failing on the default EPERM. */
  int permissive = pol->default_action == SECCOMP_RET_ALLOW || pol->default_action == SECCOMP_RET_LOG;
  if (next <= UINT32_MAX) ADD((uint32_t)next, permissive || nhits == 0 ? pol->default_action : SECCOMP_RET_ERRNO | ENOSYS, NULL, 0);
#undef ADD
  LOAD(p, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
  if (abi->audit_arch == AUDIT_ARCH_X86_64 && abi->table == syscall_names) {
    /* x86_64's door also takes x32 calls (bit 30): to the x32 rules, or killed as an ABI not listed. */
    emit(p, BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1);
    size_t to_x32 = pol->x32 ? emit(p, BPF_JMP | BPF_JA, 0, 0, 0) : RET(p, SECCOMP_RET_KILL_PROCESS);
    emit_tree(p, pol, iv, 0, niv - 1);
    if (pol->x32) {
      land_here(p, to_x32, 0);
      const struct abi x32 = {AUDIT_ARCH_X86_64, syscall_names_x32, sizeof syscall_names_x32 / sizeof *syscall_names_x32};
      free(hits);
      free(iv);
      free(order);
      emit_abi(p, pol, &x32);
      return;
    }
  } else
#endif
    emit_tree(p, pol, iv, 0, niv - 1);
  free(hits);
  free(iv);
  free(order);
}

void install_seccomp(const struct strv *lines) {
  if (lines->n == 0) return;
  struct policy pol = {0};
  pol.rules = calloc(lines->n, sizeof *pol.rules);
  if (!pol.rules) die("calloc");
  for (size_t i = 0; i < lines->n; i++) parse_line(&pol, lines->items[i]);
  if (!pol.have_default) diex("seccomp: no default action");

#if defined(__x86_64__)
  const struct abi native = {AUDIT_ARCH_X86_64, syscall_names, sizeof syscall_names / sizeof *syscall_names};
  const struct abi i386 = {AUDIT_ARCH_I386, syscall_names_i386, sizeof syscall_names_i386 / sizeof *syscall_names_i386};
#else
  const struct abi native = {AUDIT_ARCH_AARCH64, syscall_names, sizeof syscall_names / sizeof *syscall_names};
#endif

  struct prog p = {0};
  LOAD(&p, offsetof(struct seccomp_data, arch));
  emit(&p, BPF_JMP | BPF_JEQ | BPF_K, native.audit_arch, 0, 1);
  size_t to_native = emit(&p, BPF_JMP | BPF_JA, 0, 0, 0);
#if defined(__x86_64__)
  size_t to_i386 = 0;
  if (pol.x86) {
    emit(&p, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 1);
    to_i386 = emit(&p, BPF_JMP | BPF_JA, 0, 0, 0);
  }
#endif
  /* An ABI the policy does not list has numbers the rules were not written for: libseccomp's
   * "bad arch" answer, killing. */
  RET(&p, SECCOMP_RET_KILL_PROCESS);
  land_here(&p, to_native, 0);
  emit_abi(&p, &pol, &native);
#if defined(__x86_64__)
  if (pol.x86) {
    land_here(&p, to_i386, 0);
    emit_abi(&p, &pol, &i386);
  }
#endif
  if (p.n > BPF_MAXINSNS) diex("seccomp: the filter takes %zu instructions, more than the kernel's %d", p.n, BPF_MAXINSNS);

  struct sock_fprog fprog = {.len = (unsigned short)p.n, .filter = p.insns};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0) {
    /* Kernels before 3.17 know only the prctl form. */
    if (errno != ENOSYS || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0) die("seccomp SECCOMP_SET_MODE_FILTER");
  }
  free(p.insns);
}
