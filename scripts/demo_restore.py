#!/usr/bin/env python3
"""demo_restore.py CRYO IMAGES EXPECTED_PID SECONDS

The restore half of scripts/demo.sh. A task restored by `cryo restore` is a child of that cryo;
when cryo exits, the task is handed to the nearest child subreaper. This script makes itself a
subreaper (prctl PR_SET_CHILD_SUBREAPER), restores the task, lets it run SECONDS seconds, then
kills it and reaps it, so that nothing is left behind.
"""
import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main() -> int:
    cryo, images, expected, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        print(f"demo: prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(err)}", file=sys.stderr)
        return 1

    start = time.monotonic()
    # Only the first line of cryo's output is read: it is the restored pid.
    proc = subprocess.Popen([cryo, "restore", "--images", images], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    elapsed_ms = (time.monotonic() - start) * 1000
    proc.stdout.close()
    status = proc.wait()
    if status != 0 or not line.isdigit():
        print(f"demo: cryo restore failed (exit status {status})", file=sys.stderr)
        return 1
    pid = int(line)
    print(f"demo: cryo restore brought back pid {pid} in {elapsed_ms:.0f} ms")
    if pid != expected:
        print(f"demo: expected pid {expected}", file=sys.stderr)
    time.sleep(seconds)

    # The task is our child now (cryo has exited). Is it still running?
    done, st = os.waitpid(pid, os.WNOHANG)
    if done == pid:
        print(f"demo: the restored task ended by itself (wait status {st:#x})", file=sys.stderr)
        return 1
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    print(f"demo: stopped the restored task after {seconds:g} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
