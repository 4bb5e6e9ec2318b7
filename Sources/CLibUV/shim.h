#ifndef CHORUS_CLIBUV_SHIM_H
#define CHORUS_CLIBUV_SHIM_H
#include <uv.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* Up-casts that C performs implicitly and Swift cannot. Every libuv handle type starts with the
   uv_handle_t fields, and every stream type with the uv_stream_t fields, so these casts are exactly
   the ones libuv's own documentation uses. */
static inline uv_handle_t *cuv_handle(void *h) { return (uv_handle_t *)h; }
static inline uv_stream_t *cuv_stream(void *s) { return (uv_stream_t *)s; }
static inline const struct sockaddr *cuv_sockaddr(const void *a) { return (const struct sockaddr *)a; }

/* uv_buf_t builder over an untyped pointer, so Swift raw pointers pass without rebinding. */
static inline uv_buf_t cuv_buf(void *base, size_t length) {
    uv_buf_t b;
    b.base = (char *)base;
    b.len = length;
    return b;
}

/* SIGPIPE must not kill a node when a peer closes a socket mid-write. */
static inline void cuv_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

/* Names the calling thread (shown by top -H, gdb, perf); the kernel keeps the first 15 bytes. */
static inline void cuv_set_current_thread_name(const char *name) {
#ifdef __linux__
    prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
#elif defined(__APPLE__)
    pthread_setname_np(name);
#endif
}

/* The longest Unix-domain socket path (without its terminating NUL) that fits sockaddr_un.
   libuv 1.44 silently truncates longer paths, so the Swift side checks this first. */
static inline size_t cuv_unix_path_max(void) { return sizeof(((struct sockaddr_un *)0)->sun_path) - 1; }

/* What is at a would-be Unix socket path: 0 nothing, 1 a socket, 2 something else (a file the
   listener must not delete), or -errno when lstat fails for another reason than ENOENT. */
static inline int cuv_unix_path_state(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -errno;
    return S_ISSOCK(st.st_mode) ? 1 : 2;
}

/* Whether a process is still accepting on the socket at `path`: 1 yes (connected or its backlog is
   full), 0 no (ECONNREFUSED: a stale file left by a dead process), -errno on other errors. Unix
   socket connects complete or fail immediately, so this never blocks the loop. */
static inline int cuv_unix_path_is_live(const char *path) {
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa.sun_path) return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int err = rc == 0 ? 0 : errno;
    close(fd);
    if (rc == 0 || err == EAGAIN || err == EINPROGRESS) return 1;
    if (err == ECONNREFUSED) return 0;
    return -err;
}

/* Device and inode of `path`, so a listener removes its socket file on close only while the file
   is still the one it created (not a successor's). Returns 0 or -errno. */
static inline int cuv_file_identity(const char *path, unsigned long long *dev, unsigned long long *ino) {
    struct stat st;
    if (lstat(path, &st) != 0) return -errno;
    *dev = (unsigned long long)st.st_dev;
    *ino = (unsigned long long)st.st_ino;
    return 0;
}

/* chmod and unlink, returning 0 or -errno like libuv does. */
static inline int cuv_chmod(const char *path, unsigned int mode) { return chmod(path, (mode_t)mode) == 0 ? 0 : -errno; }
static inline int cuv_unlink(const char *path) { return unlink(path) == 0 ? 0 : -errno; }
#endif
