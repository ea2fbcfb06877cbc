#include "security.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* Index = capability number (linux/capability.h). */
static const char *const cap_names[] = {
    "chown",           "dac_override",  "dac_read_search", "fowner",          "fsetid",         "kill",
    "setgid",          "setuid",        "setpcap",         "linux_immutable", "net_bind_service", "net_broadcast",
    "net_admin",       "net_raw",       "ipc_lock",        "ipc_owner",       "sys_module",     "sys_rawio",
    "sys_chroot",      "sys_ptrace",    "sys_pacct",       "sys_admin",       "sys_boot",       "sys_nice",
    "sys_resource",    "sys_time",      "sys_tty_config",  "mknod",           "lease",          "audit_write",
    "audit_control",   "setfcap",       "mac_override",    "mac_admin",       "syslog",         "wake_alarm",
    "block_suspend",   "audit_read",    "perfmon",         "bpf",             "checkpoint_restore",
};

uint64_t caps_mask(const struct strv *names) {
  uint64_t mask = 0;
  for (size_t i = 0; i < names->n; i++) {
    const char *name = names->items[i];
    if (strncasecmp(name, "CAP_", 4) == 0) name += 4;
    size_t cap = 0;
    while (cap < sizeof cap_names / sizeof *cap_names && strcasecmp(name, cap_names[cap]) != 0) cap++;
    if (cap == sizeof cap_names / sizeof *cap_names) diex("unknown capability %s", names->items[i]);
    mask |= UINT64_C(1) << cap;
  }
  return mask;
}

static const char *cap_name(unsigned cap) { return cap < sizeof cap_names / sizeof *cap_names ? cap_names[cap] : "?"; }

void drop_privileges(const struct spec *sp) {
  uint64_t keep = caps_mask(&sp->caps);

  /* The bounding set first: dropping from it needs CAP_SETPCAP, which setuid to a non-root user
   * takes away. Probing upward finds however many capabilities this kernel has. */
  uint64_t supported = 0;
  for (unsigned cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
    if (cap < 64) supported |= UINT64_C(1) << cap;
    if (cap < 64 && (keep >> cap) & 1) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) die("prctl PR_CAPBSET_DROP cap_%s", cap_name(cap));
  }

  if (setgroups(sp->ngroups, sp->groups) < 0) die("setgroups");
  if (setgid(sp->gid) < 0) die("setgid %u", (unsigned)sp->gid);
  /* Leaving uid 0 clears permitted and effective by itself (no SECBIT_KEEP_CAPS). */
  if (setuid(sp->uid) < 0) die("setuid %u", (unsigned)sp->uid);

  /* Inheritable stays empty even for root, as Docker and runc do since CVE-2022-24769: a
   * non-empty set would hand those caps to any program with matching file capabilities. */
  struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &header, data) < 0) die("capget");
  uint64_t held = (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
  /* What this process does not hold (a capability the kernel lacks, or one the machine withheld
   * from us) it cannot pass on: keeping it means keeping it if present. */
  uint64_t sets = sp->uid == 0 ? keep & supported & held : 0;
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  struct __user_cap_data_struct want[2] = {
      {.effective = (uint32_t)sets, .permitted = (uint32_t)sets, .inheritable = 0},
      {.effective = (uint32_t)(sets >> 32), .permitted = (uint32_t)(sets >> 32), .inheritable = 0},
  };
  if (syscall(SYS_capset, &header, want) < 0) die("capset");
  /* Kernels before 4.3 have no ambient set, so there is nothing to clear. */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) die("prctl PR_CAP_AMBIENT_CLEAR_ALL");
  /* setuid binaries and file capabilities inside the container cannot raise privileges again. */
  if (!sp->allow_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die("prctl PR_SET_NO_NEW_PRIVS");
}
