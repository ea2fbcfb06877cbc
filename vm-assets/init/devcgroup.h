/* Which device nodes a container may open or create, on cgroup2: there the kernel has no
 * devices.allow file, only a BPF program attached to the cgroup, which Node cannot load. */
#ifndef ONGGI_DEVCGROUP_H
#define ONGGI_DEVCGROUP_H

#include "spec.h"

/* Attaches a deny-by-default filter allowing exactly sp->device_allow (rules as in v1's
 * devices.allow: "c 1:3 rwm", "b *:* m", "a") to every cgroup2 cgroup among sp->cgroup_procs.
 * Nothing to do without rules; an error if there are rules but no cgroup2 cgroup to hold them. */
void attach_device_filter(const struct spec *sp);
/* Checks every rule's syntax; returns the first bad one or NULL. */
const char *bad_device_rule(const struct strv *rules);

#endif
