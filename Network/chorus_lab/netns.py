"""Entering a network namespace for one socket.

A socket belongs to the namespace of the thread that created it, for its whole life. So one
process can serve sockets in many namespaces: switch the thread into a namespace with setns(2),
create the socket, switch back. Python 3.11 has no os.setns, so this calls libc through ctypes.
Only the calling thread switches; the relay is single-threaded (asyncio), so nothing else runs
in between.
"""

import contextlib
import ctypes
import os

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_home_fd = None


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def entered(name: str):
    """Runs the body inside network namespace `name` (from `ip netns add`), then returns home."""
    global _home_fd
    if _home_fd is None:
        _home_fd = os.open("/proc/self/ns/net", os.O_RDONLY)
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        _setns(fd)
        try:
            yield
        finally:
            _setns(_home_fd)
    finally:
        os.close(fd)
