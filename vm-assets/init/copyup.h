/* Docker's copy-up: a volume mounted empty over a directory of the image first receives that
 * directory's contents, owners and modes, so an image's VOLUME (a database's data dir owned by its
 * user, say) starts as the image made it. */
#ifndef ONGGI_COPYUP_H
#define ONGGI_COPYUP_H

/* Copies the tree under directory fd `from` into directory fd `to` (files, directories, symlinks,
 * device nodes and fifos; owners, modes and times), never following a symlink; then gives `to`
 * the owner and mode of `from`. Dies on failure; `shown` names the target in the message. */
void copy_up(int from, int to, const char *shown);

/* Whether directory fd holds no entry but . and .. */
int dir_is_empty(int dirfd);

#endif
