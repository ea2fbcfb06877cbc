/* Escape attempts run as root inside an Onggi container by escape.test.ts. Each attempt prints
 * "NAME blocked ERRNO-NAME" when the kernel or the sandbox refused it, or "NAME ESCAPED DETAIL"
 * when it got through. argv: escape MARKER HOSTPID HOSTDEV_MAJOR HOSTDEV_MINOR
 *   MARKER  a path that exists on the host only (reached = escaped)
 *   HOSTPID a host process outside the container's pid namespace
 *   HOSTDEV the major:minor of the host's root filesystem device */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/reboot.h>

static const char *marker;

static void blocked(const char *name, int err) { printf("%s blocked %s\n", name, strerrorname_np(err) ? strerrorname_np(err) : "?"); }
static void escaped(const char *name, const char *detail) { printf("%s ESCAPED %s\n", name, detail); }
static void check(const char *name, int rc) {
  if (rc < 0) blocked(name, errno);
  else escaped(name, "call succeeded");
}

static void chroot_escape(void) {
  /* The classic: chroot into a subdirectory without entering it, walk up from the old cwd, chroot there. */
  pid_t pid = fork();
  if (pid == 0) {
    mkdir("/chroot-jail", 0755);
    if (chroot("/chroot-jail") < 0) { blocked("chroot-out", errno); _exit(0); }
    for (int i = 0; i < 64; i++) if (chdir("..") < 0) break;
    if (chroot(".") < 0) { blocked("chroot-out", errno); _exit(0); }
    if (access(marker, F_OK) == 0) escaped("chroot-out", "host file visible after chroot(.)");
    else blocked("chroot-out", errno);
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
}

static void proc_root_walk(void) {
  DIR *dir = opendir("/proc");
  int reached = 0, seen = 0;
  struct dirent *e;
  char path[512];
  while (dir && (e = readdir(dir))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    seen++;
    snprintf(path, sizeof path, "/proc/%s/root%s", e->d_name, marker);
    if (access(path, F_OK) == 0) reached++;
  }
  if (dir) closedir(dir);
  if (reached) escaped("proc-root-walk", "host file reached through /proc/*/root");
  else blocked("proc-root-walk", seen ? ENOENT : EACCES);
}

static void read_kcore(void) {
  int fd = open("/proc/kcore", O_RDONLY);
  if (fd < 0) { blocked("read-kcore", errno); return; }
  char buf[16];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n > 0) escaped("read-kcore", "bytes read");
  else blocked("read-kcore", n < 0 ? errno : ENODATA);
}

static void open_write(const char *name, const char *path) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) { blocked(name, errno); return; }
  close(fd);
  escaped(name, "opened for writing");
}

static void mknod_disk(unsigned maj, unsigned min) {
  unlink("/tmp/hostdisk");
  if (mknod("/tmp/hostdisk", S_IFBLK | 0600, makedev(maj, min)) < 0) { blocked("mknod-host-disk", errno); return; }
  int fd = open("/tmp/hostdisk", O_RDONLY);
  if (fd < 0) { blocked("mknod-host-disk", errno); return; }
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n > 0) escaped("mknod-host-disk", "read the host's disk");
  else blocked("mknod-host-disk", n < 0 ? errno : ENODATA);
}

static void load_module(void) {
  int fd = open("/bin/busybox", O_RDONLY);
  check("finit-module", (int)syscall(SYS_finit_module, fd, "", 0));
  char image[64] = {0};
  check("init-module", (int)syscall(SYS_init_module, image, sizeof image, ""));
  close(fd);
  check("delete-module", (int)syscall(SYS_delete_module, "overlay", O_NONBLOCK));
}

static void attack_host_pid(pid_t host) {
  check("kill-host-pid", kill(host, SIGKILL));
  check("ptrace-host-pid", (int)ptrace(PTRACE_ATTACH, host, 0, 0));
  char buf[8];
  struct iovec local = {buf, sizeof buf}, remote = {(void *)0x400000, sizeof buf};
  check("process-vm-readv-host-pid", (int)process_vm_readv(host, &local, 1, &remote, 1, 0));
  /* kill(-1) reaches every process the caller may signal: in a pid namespace, only its own. */
  pid_t child = fork();
  if (child == 0) { kill(-1, SIGKILL); _exit(0); }
  int status;
  waitpid(child, &status, 0);
  printf("kill-all-done\n");
}

/* In a child, so a namespace that was (wrongly) granted does not change the later attempts. */
static void in_child(const char *name, int flags) {
  pid_t pid = fork();
  if (pid == 0) {
    check(name, unshare(flags));
    fflush(stdout);
    _exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
}

static void namespaces_and_mounts(void) {
  check("mount-proc", mount("proc", "/mnt", "proc", 0, NULL));
  check("mount-sysfs", mount("sysfs", "/mnt", "sysfs", 0, NULL));
  check("mount-tmpfs", mount("tmpfs", "/mnt", "tmpfs", 0, NULL));
  check("remount-root-rw", mount(NULL, "/", NULL, MS_REMOUNT, NULL));
  check("remount-proc-sys-rw", mount(NULL, "/proc/sys", NULL, MS_REMOUNT | MS_BIND, NULL));
  check("umount-masked-kcore", umount2("/proc/kcore", MNT_DETACH));
  in_child("unshare-userns", CLONE_NEWUSER);
  in_child("unshare-mountns", CLONE_NEWNS);
  int nsfd = open("/proc/1/ns/mnt", O_RDONLY);
  check("setns-mnt", (int)syscall(SYS_setns, nsfd, 0));
  close(nsfd);
  check("pivot-root", (int)syscall(SYS_pivot_root, "/tmp", "/tmp"));
  check("sethostname", sethostname("escaped", 7));
  check("reboot", reboot(RB_DISABLE_CAD));
  check("swapon", (int)syscall(SYS_swapon, "/tmp/hostdisk", 0));
  /* Set the clock to what it reads now: harmless even if it got through, but time is not namespaced. */
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  check("set-host-clock", clock_settime(CLOCK_REALTIME, &now));
  check("bpf", (int)syscall(SYS_bpf, 0, NULL, 0));
  check("keyctl", (int)syscall(SYS_keyctl, 0, 0, 0, 0, 0));
  check("iopl", (int)syscall(SYS_iopl, 3));
  /* open_by_handle_at (the "shocker" escape) needs CAP_DAC_READ_SEARCH. */
  struct { unsigned int bytes; int type; unsigned char f[8]; } handle = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
  check("open-by-handle-at", (int)syscall(SYS_open_by_handle_at, AT_FDCWD, &handle, O_RDONLY));
}

int main(int argc, char **argv) {
  if (argc < 5) return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  marker = argv[1];
  pid_t host = (pid_t)atoi(argv[2]);
  chroot_escape();
  proc_root_walk();
  read_kcore();
  open_write("write-sysrq-trigger", "/proc/sysrq-trigger");
  open_write("write-proc-sys-kernel", "/proc/sys/kernel/core_pattern");
  open_write("write-proc-sys-vm", "/proc/sys/vm/drop_caches");
  open_write("write-sys-kernel", "/sys/kernel/uevent_helper");
  open_write("write-sys-fs-cgroup", "/sys/fs/cgroup/memory/memory.limit_in_bytes");
  mknod_disk((unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
  load_module();
  namespaces_and_mounts();
  attack_host_pid(host);
  return 0;
}
