# benchlib.py: small helpers the benchmark scripts share (log lines, nearest-rank percentiles, durations, the subreaper, the machine).
"""Helpers shared by bench/realtime/realtime_bench.py and bench/tree/tree_bench.py."""
import ctypes
import math
import os
import platform
import sys

PR_SET_CHILD_SUBREAPER = 36


def log(msg):
    """One progress or error line on standard error."""
    print(msg, file=sys.stderr, flush=True)


def pct(values, p):
    """Nearest-rank percentile (p in 0..100); None for no values."""
    v = sorted(values)
    if not v:
        return None
    return v[max(0, min(len(v) - 1, int(math.ceil(p / 100.0 * len(v))) - 1))]


def parse_duration(text):
    """'100ms', '2s', '500us', '1m' or a number of seconds, in seconds."""
    for unit, scale in (('us', 1e-6), ('ms', 1e-3), ('s', 1.0), ('m', 60.0)):
        if text.endswith(unit) and text[:-len(unit)].replace('.', '', 1).isdigit():
            return float(text[:-len(unit)]) * scale
    return float(text)


def become_subreaper():
    """Makes this process a child subreaper, so orphans of the tasks it starts are its own."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit('error: prctl(PR_SET_CHILD_SUBREAPER) failed: errno %d' % ctypes.get_errno())


def machine_info():
    """Kernel, CPU count and model, transparent huge page setting."""
    info = dict(kernel=platform.release(), cpus=os.cpu_count())
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    info['cpu'] = line.split(':', 1)[1].strip()
                    break
        with open('/sys/kernel/mm/transparent_hugepage/enabled') as f:
            info['thp'] = f.read().strip()
    except OSError:
        pass
    return info


def proc_table():
    """pid -> (ppid, state) of every process."""
    out = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % d) as f:
                stat = f.read()
            rest = stat[stat.rindex(')') + 2:].split()
            out[int(d)] = (int(rest[1]), rest[0])
        except (OSError, ValueError, IndexError):
            continue
    return out
