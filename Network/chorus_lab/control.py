"""A client for a node's control socket (Specs/control.md): one JSON line out, one JSON line back.

The lab speaks the protocol directly instead of running `chorus --data-dir D status --json` for
every poll: the answers are the same objects, and 100 nodes polled every second would otherwise
start 200 CLI processes a second on a 2-core machine. Unix sockets are not tied to a network
namespace, so the lab reaches every node's socket from the root namespace.
"""

import json
import socket


class ControlError(Exception):
    pass


def call(sock_path: str, method: str, params=None, timeout: float = 1.0):
    """Sends one request and returns its `result`; raises ControlError or OSError."""
    request = json.dumps({"method": method, "params": params or {}}).encode() + b"\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(request)
        buffer = bytearray()
        while not buffer.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                raise ControlError(f"{sock_path}: connection closed before the answer")
            buffer += chunk
    answer = json.loads(buffer)
    if not answer.get("ok"):
        raise ControlError(f"{sock_path}: {method}: {answer.get('error')}")
    return answer["result"]
