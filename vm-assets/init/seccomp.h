/* The seccomp filter: rules by syscall name (the policy comes from the agent, see
 * vm-assets/agent/runtime/seccomp-policy.ts), compiled here to classic BPF for each ABI the
 * machine's kernel runs, because only this binary knows each ABI's syscall numbers. */
#ifndef ONGGI_SECCOMP_H
#define ONGGI_SECCOMP_H

#include "spec.h"

/* Installs the filter that `--seccomp` lines describe, in order:
 *   default ACTION            what every syscall no rule matches gets (required, first)
 *   arch NAME                 another ABI to filter: x86 or x32 beside x86_64 (the native one always is)
 *   ACTION NAME[,NAME...] [INDEX:OP:VALUE[:VALUE2]]...
 * ACTION is allow, errno:N, kill-thread, kill-process, trap, log or trace:N; OP is ne, lt, le, eq,
 * ge, gt or me (masked equal: (arg & VALUE) == VALUE2), values are 64-bit, decimal or 0x hex.
 * For one syscall the first rule whose comparisons all hold decides. Syscall numbers no rule
 * names get the default action, except those above the highest number the rules name on that ABI
 * (syscalls newer than the profile): ENOSYS, as runc does. An ABI not filtered is killed. Names the ABI lacks are skipped, as libseccomp does. Nothing is installed without lines.
 * Dies with a message for a line it cannot read or a filter too large for the kernel. */
void install_seccomp(const struct strv *lines);

#endif
