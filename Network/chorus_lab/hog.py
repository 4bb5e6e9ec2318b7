"""One CPU hog process for the `starve` scenario: a busy loop at normal priority (nice 0).

The lab starts `--hog-procs` of these (`Lab.start_hog`) and kills them when the hog period ends
and on every exit path of the lab (`Lab.__exit__`: end, error, Ctrl-C, SIGTERM). Should the lab
itself die by SIGKILL, each hog still ends: the kernel sends it SIGKILL when the lab exits
(PR_SET_PDEATHSIG), and the loop also checks now and then that its parent is still the lab.
`Network/lab clean` kills hogs whose lab is gone as a last resort.
"""

import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1


def main():
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)   # normal priority even if the lab runs niced (root may)
    except OSError:
        pass
    n = 0
    while True:
        n += 1
        if n & 0x3FFFFF == 0 and os.getppid() != parent:   # about every 0.1-1 s of CPU
            return


if __name__ == "__main__":
    main()
