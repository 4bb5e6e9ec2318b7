"""`python3 -m pyworker COMMAND` (run from Tools/):

    serve      the HTTP worker (same as python3 -m pyworker.server)
    selftest   torch backend: golden vectors + nonces/s
    vectors    regenerate Specs/vectors (same as python3 -m pyworker.make_vectors)
"""
import sys


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) >= 2 else 2
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "serve":
        from .server import main as run
    elif cmd == "selftest":
        from .selftest import main as run
    elif cmd == "vectors":
        from .make_vectors import main as run
    else:
        print(f"pyworker: unknown command '{cmd}'\n\n{__doc__.strip()}", file=sys.stderr)
        return 2
    return run(rest)


if __name__ == "__main__":
    sys.exit(main())
