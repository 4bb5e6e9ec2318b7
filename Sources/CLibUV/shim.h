#ifndef CHORUS_CLIBUV_SHIM_H
#define CHORUS_CLIBUV_SHIM_H
#include <uv.h>
#include <signal.h>

/* Up-casts that C performs implicitly and Swift cannot. Every libuv handle type starts with the
   uv_handle_t fields, and every stream type with the uv_stream_t fields, so these casts are exactly
   the ones libuv's own documentation uses. */
static inline uv_handle_t *cuv_handle(void *h) { return (uv_handle_t *)h; }
static inline uv_stream_t *cuv_stream(void *s) { return (uv_stream_t *)s; }
static inline const struct sockaddr *cuv_sockaddr(const void *a) { return (const struct sockaddr *)a; }

/* SIGPIPE must not kill a node when a peer closes a socket mid-write. */
static inline void cuv_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }
#endif
