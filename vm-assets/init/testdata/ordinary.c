/* Test program run inside a container by init.test.ts, built once with glibc and once with musl:
 * what ordinary programs do at start and at work (threads, files, directories, fork and exec,
 * pipes, poll, timers, a TCP connection over loopback, memory maps). Prints "ordinary=ok", or
 * the step that failed and its errno. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fail(const char *step) {
  printf("ordinary=%s failed: %s\n", step, strerror(errno));
  return 1;
}

static void *thread_main(void *arg) { return arg; }

int main(void) {
  pthread_t thread;
  void *result = NULL;
  if ((errno = pthread_create(&thread, NULL, thread_main, (void *)42)) != 0 || pthread_join(thread, &result) != 0 || result != (void *)42)
    return fail("pthread");
  if (mkdir("/tmp/ordinary", 0755) < 0 && errno != EEXIST) return fail("mkdir");
  int fd = open("/tmp/ordinary/file", O_CREAT | O_TRUNC | O_RDWR, 0644);
  if (fd < 0 || write(fd, "hello", 5) != 5 || lseek(fd, 0, SEEK_SET) != 0) return fail("file");
  char buf[16] = {0};
  if (read(fd, buf, sizeof buf) != 5 || fsync(fd) < 0 || close(fd) < 0) return fail("read");
  struct stat st;
  if (stat("/tmp/ordinary/file", &st) < 0 || st.st_size != 5 || unlink("/tmp/ordinary/file") < 0 || rmdir("/tmp/ordinary") < 0)
    return fail("stat");
  void *map = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED || munmap(map, 1 << 20) < 0) return fail("mmap");
  struct timespec now;
  if (clock_gettime(CLOCK_MONOTONIC, &now) < 0 || nanosleep(&(struct timespec){0, 1000}, NULL) < 0) return fail("clock");
  int pipefd[2];
  if (pipe(pipefd) < 0) return fail("pipe");
  pid_t child = fork();
  if (child < 0) return fail("fork");
  if (child == 0) {
    dup2(pipefd[1], 1);
    execl("/bin/echo", "echo", "child", (char *)NULL);
    _exit(127);
  }
  close(pipefd[1]);
  struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
  if (poll(&pfd, 1, 5000) != 1 || read(pipefd[0], buf, sizeof buf) != 6) return fail("fork+exec");
  int status;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail("wait");
  int server = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof addr;
  if (server < 0 || bind(server, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(server, 1) < 0 ||
      getsockname(server, (struct sockaddr *)&addr, &len) < 0)
    return fail("listen");
  int client = socket(AF_INET, SOCK_STREAM, 0);
  if (client < 0 || connect(client, (struct sockaddr *)&addr, sizeof addr) < 0) return fail("connect");
  int conn = accept(server, NULL, NULL);
  if (conn < 0 || send(client, "ping", 4, 0) != 4 || recv(conn, buf, sizeof buf, 0) != 4) return fail("tcp");
  close(conn);
  close(client);
  close(server);
  printf("ordinary=ok\n");
  return 0;
}
