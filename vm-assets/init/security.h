/* Who the container's process is and what it may do: groups, uid/gid, capabilities and
 * no_new_privs. */
#ifndef ONGGI_SECURITY_H
#define ONGGI_SECURITY_H

#include <stdint.h>

#include "spec.h"

/* Bit mask of the named capabilities ("CAP_CHOWN" or "chown", any case); dies on an unknown one. */
uint64_t caps_mask(const struct strv *names);
/* Bounding set, groups, gid, uid, then capability sets and ambient, then no_new_privs. */
void drop_privileges(const struct spec *sp);

#endif
