/* What --device, --privileged and --sysctl add to a container: device nodes of the machine made
 * inside it, and namespaced sysctls written from inside its namespaces. The agent decides which
 * (vm-assets/agent/runtime/privileges.ts); this only makes them. */
#ifndef ONGGI_PRIVILEGES_H
#define ONGGI_PRIVILEGES_H

#include "spec.h"

/* The first --device-node value that is not TYPE:MAJOR:MINOR:MODE:UID:GID:/PATH, or NULL. */
const char *bad_device_node(const struct strv *nodes);
/* The first --sysctl value that is not a/b/c=VALUE (no "..", no empty part), or NULL. */
const char *bad_sysctl(const struct strv *sysctls);
/* Before pivot_root: each node made at its path inside root (parents created, resolved inside
 * root), replacing what was there; owner and mode as given. */
void make_device_nodes(int rootfd, const struct strv *nodes);
/* After pivot_root, with the container's /proc mounted and before it is made read-only: each
 * value written to /proc/sys/PATH, which the kernel answers for this process's namespaces. */
void apply_sysctls(const struct strv *sysctls);

/* --print-spec: the nodes as the agent's DeviceNode objects (",\"deviceNodes\":[...]"). */
void print_device_nodes(const struct strv *nodes, void (*print_string)(const char *));

#endif
