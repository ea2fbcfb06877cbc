/* The seccomp filter: a deny list by syscall name, compiled to classic BPF for this architecture. */
#ifndef ONGGI_SECCOMP_H
#define ONGGI_SECCOMP_H

#include "spec.h"

/* Installs a filter refusing each named syscall with EPERM. Names this architecture lacks are
 * skipped; names no architecture has are reported on stderr and skipped. When the list denies
 * unshare, clone with any CLONE_NEW* flag is refused too and clone3, whose flags live in memory a
 * filter cannot read, answers ENOSYS so libc falls back to clone. Nothing is installed for an
 * empty list. */
void install_seccomp(const struct strv *deny);

#endif
