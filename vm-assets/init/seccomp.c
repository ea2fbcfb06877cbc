#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscall-table.h"
#include "util.h"

#if defined(__x86_64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "no seccomp architecture for this target"
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the clone flags check loads the low word of args[0] at its little-endian offset"
#endif

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif

/* CLONE_NEWTIME is left out on purpose: in clone()'s flags its bit is part of the exit signal. */
#define CLONE_NEW_ANY (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

static long syscall_number(const char *name, int *known) {
  size_t lo = 0, hi = sizeof syscall_names / sizeof *syscall_names;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(name, syscall_names[mid].name);
    if (c == 0) {
      *known = 1;
      return syscall_names[mid].nr;
    }
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  *known = 0;
  return -1;
}

#define STMT(code, k) ((struct sock_filter)BPF_STMT((code), (k)))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP((code), (k), (jt), (jf)))

void install_seccomp(const struct strv *deny) {
  if (deny->n == 0) return;
  /* Classic BPF programs are limited to 4096 instructions. */
  if (deny->n > 2000) diex("seccomp: %zu syscalls to deny is more than a filter can hold", deny->n);
  /* Each denied syscall takes two instructions; the fixed parts take fewer than 16. */
  struct sock_filter *prog = calloc(deny->n * 2 + 16, sizeof *prog);
  if (!prog) die("calloc");
  size_t n = 0;
  int guard_clone = 0;

  prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  /* A syscall from another ABI (i386 int 0x80, arm32) has other numbers: our list would not apply. */
  prog[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0);
  prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
  /* x32 calls arrive with AUDIT_ARCH_X86_64 but their own numbers (bit 30 set): refuse them all. */
  prog[n++] = JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000U, 0, 1);
  prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
#endif
  for (size_t i = 0; i < deny->n; i++) guard_clone |= strcmp(deny->items[i], "unshare") == 0;
  if (guard_clone) {
    prog[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1);
    prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
    prog[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4);
    prog[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
    prog[n++] = JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEW_ANY, 0, 1);
    prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
    prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  }
  for (size_t i = 0; i < deny->n; i++) {
    int known;
    long nr = syscall_number(deny->items[i], &known);
    if (!known) note("seccomp: no architecture has a syscall named \"%s\"; ignored", deny->items[i]);
    if (nr < 0) continue;
    prog[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1);
    prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
  }
  prog[n++] = STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

  struct sock_fprog fprog = {.len = (unsigned short)n, .filter = prog};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0) {
    /* Kernels before 3.17 know only the prctl form. */
    if (errno != ENOSYS || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0) die("seccomp SECCOMP_SET_MODE_FILTER");
  }
  free(prog);
}
