#include "exec.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seccomp.h"
#include "security.h"
#include "util.h"

/* Docker's PATH when an image sets none. */
static const char default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* mkdir -p, for a WORKDIR the image names but does not contain (Docker creates it). We are
 * already inside the container's root, so symlinks cannot lead out of it. */
static void mkdir_p(const char *path) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) diex("mkdir %s: path too long", path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, 0755) < 0 && errno != EEXIST) die("mkdir %s", buf);
      *p = c;
      if (!c) break;
    }
  }
}

static const char *env_path(char *const env[]) {
  for (size_t i = 0; env[i]; i++)
    if (strncmp(env[i], "PATH=", 5) == 0) return env[i] + 5;
  return default_path;
}

/* execvpe, but PATH comes from the container's environment, not ours, and a file the kernel
 * cannot execute is an error rather than a script for /bin/sh (there is no shell to trust). */
static void exec_search(char *const argv[], char *const env[]) {
  const char *cmd = argv[0];
  if (!*cmd) {
    errno = ENOENT;
    die("exec \"\"");
  }
  if (strchr(cmd, '/')) {
    execve(cmd, argv, env);
    die("exec %s", cmd);
  }
  const char *path = env_path(env);
  int saw_eacces = 0;
  char full[PATH_MAX];
  for (const char *dir = path;; dir++) {
    const char *end = strchrnul(dir, ':');
    size_t len = (size_t)(end - dir);
    /* An empty PATH entry means the current directory, as in POSIX sh. */
    int n = len ? snprintf(full, sizeof full, "%.*s/%s", (int)len, dir, cmd) : snprintf(full, sizeof full, "%s", cmd);
    if (n > 0 && (size_t)n < sizeof full) {
      execve(full, argv, env);
      if (errno == EACCES) saw_eacces = 1;
      else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV && errno != ETIMEDOUT) die("exec %s", full);
    }
    if (!*end) break;
    dir = end;
  }
  if (saw_eacces) {
    errno = EACCES;
    die("exec %s", cmd);
  }
  diex("exec %s: executable file not found in $PATH", cmd);
}

void become_container(const struct spec *sp, int create_cwd, before_exec_fn before_exec) {
  if (create_cwd) mkdir_p(sp->cwd);
  if (chdir(sp->cwd) < 0) die("chdir %s", sp->cwd);
  /* Without no_new_privs only CAP_SYS_ADMIN may install a filter: then it goes on first (as runc
   * does), and the profile must allow what dropping capabilities and exec take. */
  if (sp->allow_new_privileges) install_seccomp(&sp->seccomp);
  drop_privileges(sp);
  if (!sp->allow_new_privileges) install_seccomp(&sp->seccomp);
  if (before_exec) before_exec();
  umask(022);
  exec_search(sp->argv, sp->env.items);
  __builtin_unreachable();
}
