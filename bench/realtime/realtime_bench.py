# realtime_bench.py: the bounded-freeze benchmark: freeze times of `cryo run` in stop and precopy mode next to the task's lateness and this machine's limits.
"""Bounded-freeze (real-time) checkpoint benchmark.

For every dirty rate (MiB/s) and every freeze mode, a task of SIZE MiB (steady_writer) that
dirties memory at that rate in 1 ms slices runs first alone (its baseline work rate), then under
`cryo run --every 100ms --tracker uffd-wp --freeze-mode MODE`. From `cryo ls --json` it takes
the checkpoints of the steady state (not the first, full one, nor those of the first WARMUP
seconds) and prints freeze p50/p99/max, checkpoint total time, MiB per checkpoint, precopy
rounds, the task's slowdown and its worst lateness; then this machine's limits (scan_cost).
Needs root. See bench/README.md, section "Bounded freeze (real-time)".
"""
import argparse
import ctypes
import json
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from benchlib import become_subreaper, log, machine_info, parse_duration, pct, proc_table  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
UAPI = os.path.join(REPO, 'src', 'common', 'KernelUapi.h')  # the definitions scan_cost needs
PROGRAMS = ('steady_writer', 'scan_cost')





# ---- the C programs ------------------------------------------------------------------------

def find_programs(bin_dir, cryo, tmp):
    """Directory holding steady_writer and scan_cost: --bin-dir, else a build directory next to
    cryo or in the repository (if not older than the sources), else compiled here with cc."""
    def usable(d):
        for name in PROGRAMS:
            exe = os.path.join(d, name)
            if not os.access(exe, os.X_OK):
                return False
            src = os.path.join(HERE, name + '.c')
            newest = max(os.path.getmtime(src), os.path.getmtime(UAPI))
            if os.path.getmtime(exe) < newest:
                log('note: %s is older than its source; not using it' % exe)
                return False
        return True

    if bin_dir:
        if not all(os.access(os.path.join(bin_dir, n), os.X_OK) for n in PROGRAMS):
            raise SystemExit('error: --bin-dir %s lacks %s' % (bin_dir, ' or '.join(PROGRAMS)))
        return bin_dir
    candidates = [os.path.join(os.path.dirname(os.path.abspath(cryo)), 'bench', 'realtime')]
    for b in ('build-bench', 'build'):
        candidates.append(os.path.join(REPO, b, 'bench', 'realtime'))
    for d in candidates:
        if os.path.isdir(d) and usable(d):
            return d
    out = os.path.join(tmp, 'bin')
    os.makedirs(out, exist_ok=True)
    cc = os.environ.get('CC', 'cc')
    for name in PROGRAMS:
        cmd = [cc, '-O2', '-Wall', '-I', os.path.join(REPO, 'src'), '-o', os.path.join(out, name),
               os.path.join(HERE, name + '.c')]
        log('building: ' + ' '.join(cmd))
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit('error: building %s failed:\n%s' % (name, p.stderr))
    return out


def parse_kv(text):
    """'name value ...' lines into a dict of floats (other lines ignored)."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            try:
                out[parts[0]] = float(parts[1])
            except ValueError:
                pass
    return out


# ---- processes ------------------------------------------------------------------------------

def children_of_me():
    me = os.getpid()
    return [pid for pid, (ppid, _) in proc_table().items() if ppid == me]


def reap_strays():
    """We are a subreaper: a task whose cryo died becomes our child. Kill and reap those."""
    for pid in children_of_me():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if not children_of_me():
                return
            time.sleep(0.01)


def pin(cpu):
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def status_kib(pid, field):
    """A field of /proc/PID/status in KiB (VmRSS, VmHWM), or None."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def run_proc(cmd, timeout, cpu=None, env=None, rss=None):
    """Runs cmd, returns (returncode or None on timeout, stdout, stderr). With a list `rss`,
    appends to it (unix time, VmRSS KiB, VmHWM KiB) of the process every quarter second."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=pin(cpu), env=env)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                wait = 0.25 if rss is not None else timeout
                out, err = p.communicate(timeout=max(0.01, min(wait, deadline - time.monotonic())))
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline:
                    raise
                now_rss, hwm = status_kib(p.pid, 'VmRSS'), status_kib(p.pid, 'VmHWM')
                if now_rss is not None:
                    rss.append((time.time(), now_rss, hwm))
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGTERM)  # cryo passes it on to the task
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        rc = None
        err = (err or '') + '\n(timed out after %.0f s)' % timeout
    reap_strays()
    return rc, out or '', err or ''


def tail(text, n=6):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return '\n'.join('    ' + l for l in lines[-n:]) or '    (no output)'


# ---- one measurement ------------------------------------------------------------------------

def task_args(exe, a, rate):
    return [exe, str(a.size), str(rate), str(a.seconds), str(a.warmup), a.missed]


def checkpoint_opts(a, mode):
    """The options `cryo run` and `cryo checkpoint` share: mode, budget, CPU, priority."""
    opts = []
    if not (a.no_mode_flag and mode == 'stop'):
        opts += ['--freeze-mode', mode]
        if mode == 'precopy' and a.max_freeze:
            opts += ['--max-freeze', a.max_freeze]
    if a.cryo_cpu is not None:
        opts += ['--cpu', str(a.cryo_cpu)]
    if a.cryo_nice is not None:
        opts += ['--nice', str(a.cryo_nice)]
    if a.freeze_priority:
        opts += ['--freeze-priority', str(a.freeze_priority)]
    return opts


def cryo_cmd(a, mode, store, task):
    cmd = [a.cryo, 'run', '--store', store, '--every', a.every, '--tracker', a.tracker]
    return cmd + checkpoint_opts(a, mode) + ['--'] + task


def summarize(ls, task, warmup):
    """Splits the checkpoints into the full one, start-up and steady state, and sums them up."""
    full = ls[0] if ls and ls[0].get('parent') is None else None
    # The task's window starts WARMUP seconds after it has filled its memory and ends when it
    # stops writing. `time` is when a checkpoint was committed, so it began dump_us earlier; a
    # checkpoint holds what was written since the previous one froze the task. It belongs to
    # the steady state when the previous one began inside the window and it ended inside it.
    begin = task.get('window_start_unix', (ls[0]['time'] if ls else 0) + warmup)
    end = task.get('window_end_unix', float('inf'))

    def started(c):
        return c['time'] - (c.get('dump_us') or 0) / 1e6

    steady, startup = [], []
    for prev, c in zip(ls, ls[1:]):
        if c.get('parent') is None:
            continue
        if started(prev) >= begin and c['time'] <= end:
            steady.append(c)
        elif started(prev) < begin:
            startup.append(c)
    fz = [c['freeze_us'] / 1000.0 for c in steady]
    total = [c['dump_us'] / 1000.0 for c in steady if c.get('dump_us') is not None]
    mib = [c['bytes'] / 2.0 ** 20 for c in steady]
    rounds = [c['precopy_rounds'] for c in steady if c.get('precopy_rounds') is not None]
    over = [c for c in steady if c.get('over_budget')]
    s = dict(checkpoints=len(ls), steady_checkpoints=len(steady),
             freeze_p50_ms=pct(fz, 50), freeze_p99_ms=pct(fz, 99), freeze_max_ms=max(fz) if fz else None,
             total_p50_ms=pct(total, 50), mib_p50=pct(mib, 50),
             precopy_rounds_p50=pct(rounds, 50),
             over_budget=len(over) if any('over_budget' in c for c in steady) else None,
             modes_reported=sorted({str(c['mode']) for c in ls if 'mode' in c}))
    if full:
        s['full_freeze_ms'] = full['freeze_us'] / 1000.0
        s['full_mib'] = full['bytes'] / 2.0 ** 20
        s['full_total_ms'] = full['dump_us'] / 1000.0 if full.get('dump_us') is not None else None
        s['full_rounds'] = full.get('precopy_rounds')
    if startup:
        big = max(startup, key=lambda c: c['freeze_us'])
        s['startup_max_freeze_ms'] = big['freeze_us'] / 1000.0
        s['startup_max_mib'] = big['bytes'] / 2.0 ** 20
    return s


def measure(a, exe, rate, mode, tmp):
    row = dict(rate=rate, mode=mode, ok=False)
    timeout = a.seconds + 60 + a.size / 64.0
    # 1. the task alone
    task = task_args(exe, a, rate)
    rc, out, err = run_proc(task, timeout, a.task_cpu)
    alone = parse_kv(out)
    if rc != 0 or 'units_per_s' not in alone:
        row['error'] = 'the task alone failed (status %s):\n%s' % (rc, tail(err))
        return row
    row['alone'] = alone
    # 1b. the task alone tracking its own writes (one re-protecting scan a period, nothing
    # copied): the least any write-protection tracker costs it at this rate and period.
    if not a.no_floor:
        if rate not in a.floor_runs:
            env = dict(os.environ, STEADY_WRITER_TRACK_EVERY_MS=str(max(1, round(parse_duration(a.every) * 1000))))
            rc, out, err = run_proc(task, timeout, a.task_cpu, env)
            a.floor_runs[rate] = parse_kv(out) if rc == 0 else {}
            if rc != 0:
                log('warning: the self-tracking task failed (status %s):\n%s' % (rc, tail(err)))
        row['tracked_alone'] = a.floor_runs[rate]
    # 2. the task under cryo run
    store = os.path.join(tmp, 'store-%s-%s' % (rate, mode))
    cmd = cryo_cmd(a, mode, store, task)
    row['command'] = cmd
    rss = []
    rc, out, err = run_proc(cmd, timeout, a.task_cpu, rss=rss)
    under = parse_kv(out)
    row['cryo_stderr_tail'] = err.strip().splitlines()[-20:]
    row['cryo_warnings'] = sorted({l for l in err.splitlines() if 'warning' in l or 'error' in l})
    if rc != 0 or 'units_per_s' not in under:
        row['error'] = '`%s` failed (status %s):\n%s' % (' '.join(cmd[:cmd.index('--')]), rc, tail(err))
        shutil.rmtree(store, ignore_errors=True)
        return row
    row['under'] = under
    p = subprocess.run([a.cryo, 'ls', '--store', store, '--json'], capture_output=True, text=True)
    try:
        ls = json.loads(p.stdout)
    except ValueError:
        row['error'] = 'cryo ls --json failed (status %s):\n%s' % (p.returncode, tail(p.stderr))
        shutil.rmtree(store, ignore_errors=True)
        return row
    row['ls'] = ls
    st = subprocess.run([a.cryo, 'stats', '--store', store, '--json'], capture_output=True, text=True)
    if st.returncode == 0:
        try:
            row['cryo_stats'] = json.loads(st.stdout)
        except ValueError:
            row['cryo_stats'] = st.stdout
    row.update(summarize(ls, under, a.warmup))
    # cryo's own memory: its peak, and the most it held in the steady window.
    if rss:
        row['cryo_peak_mib'] = max(h or r for _, r, h in rss) / 1024.0
        begin, end = under.get('window_start_unix', 0), under.get('window_end_unix', float('inf'))
        held = [r for t, r, _ in rss if begin <= t <= end]
        row['cryo_steady_mib'] = max(held) / 1024.0 if held else None
    # 3. the task alone again: the machine's speed drifts between runs (by as much as the
    # slowdown measured), so the reference is the mean of the runs before and after, and their
    # difference says how far to trust the figure.
    ref = alone['units_per_s']
    row['drift'] = None
    if not a.no_alone_after:
        rc, out, err = run_proc(task, timeout, a.task_cpu)
        after = parse_kv(out)
        if rc == 0 and after.get('units_per_s'):
            row['alone_after'] = after
            ref = (alone['units_per_s'] + after['units_per_s']) / 2
            row['drift'] = after['units_per_s'] / alone['units_per_s'] - 1 if alone['units_per_s'] else None
    row['slowdown'] = 1 - under['units_per_s'] / ref if ref else None
    tracked = row.get('tracked_alone', {}).get('units_per_s')
    row['floor'] = 1 - tracked / ref if ref and tracked else None
    # The CPU time others (cryo's scans on the task's CPU, its freezes) took from the task; the
    # rest of the slowdown is spent in the task itself (its write-protect faults).
    if 'cpu_share' in under and 'cpu_share' in alone:
        row['taken'] = alone['cpu_share'] - under['cpu_share']
    row['max_late_ms'] = under.get('max_late_us', 0) / 1000.0
    row['late_p99_ms'] = under.get('late_p99_us', 0) / 1000.0
    row['alone_max_late_ms'] = alone.get('max_late_us', 0) / 1000.0
    row['ok'] = True
    if not a.keep_stores:
        shutil.rmtree(store, ignore_errors=True)
    return row


def checkpoint_cmd(a, mode, store, pid):
    return [a.cryo, 'checkpoint', '--pid', str(pid), '--store', store] + checkpoint_opts(a, mode)


def measure_full(a, exe, rate, mode, tmp):
    """The first, full checkpoint of a task that already holds its memory: `cryo checkpoint`
    of the running task, --full-runs times (a new store each: every one is full)."""
    row = dict(rate=rate, mode=mode, ok=False, runs=[])
    seconds = 3.0 + 6.0 * a.full_runs + a.size / 128.0
    task = [exe, str(a.size), str(rate), str(seconds), '0', a.missed]
    p = subprocess.Popen(task, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         preexec_fn=pin(a.task_cpu))
    try:
        line = p.stdout.readline()
        if line.strip() != 'ready':
            row['error'] = 'the task did not start (it printed %r)' % line
            return row
        time.sleep(0.5)
        for i in range(a.full_runs):
            store = os.path.join(tmp, 'full-%s-%s-%d' % (rate, mode, i))
            cmd = checkpoint_cmd(a, mode, store, p.pid)
            row['command'] = cmd
            c = subprocess.run(cmd, capture_output=True, text=True, timeout=120 + a.size / 16.0,
                               preexec_fn=pin(a.cryo_cpu if a.cryo_cpu is not None else a.task_cpu))
            if c.returncode != 0:
                row['error'] = '`%s` failed (status %s):\n%s' % (' '.join(cmd), c.returncode, tail(c.stderr))
                return row
            ls = json.loads(subprocess.run([a.cryo, 'ls', '--store', store, '--json'],
                                           capture_output=True, text=True, check=True).stdout)
            shutil.rmtree(store, ignore_errors=True)
            c0 = ls[0]
            row['runs'].append(dict(freeze_ms=c0['freeze_us'] / 1000.0,
                                    max_stop_ms=c0.get('max_stop_us', c0['freeze_us']) / 1000.0,
                                    total_ms=(c0.get('dump_us') or 0) / 1000.0,
                                    mib=c0['bytes'] / 2.0 ** 20, rounds=c0.get('precopy_rounds')))
            time.sleep(0.3)
        if p.poll() is not None:
            row['error'] = 'the task ended before its checkpoints did (status %s)' % p.returncode
            return row
        row['ok'] = True
        for k in ('freeze_ms', 'max_stop_ms', 'total_ms', 'mib'):
            row[k + '_p50'] = pct([r[k] for r in row['runs']], 50)
        row['freeze_ms_max'] = max(r['freeze_ms'] for r in row['runs'])
        return row
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdout.close()
        reap_strays()


# ---- output ---------------------------------------------------------------------------------

def fmt(v, spec='%.2f', none='-'):
    return none if v is None else spec % v


def print_tables(rows, a):
    print()
    print('Steady state: %d MiB task, checkpoints every %s, tracker %s, %.1f s of writing per run, first '
          '%.1f s dropped, missed slices: %s' % (a.size, a.every, a.tracker, a.seconds, a.warmup, a.missed))
    cols = '%6s %-8s %4s %9s %9s %9s %9s %8s %7s %5s %9s %7s %6s %6s %9s %9s %10s %9s %10s'
    print(cols % ('MiB/s', 'mode', 'n', 'fz_p50', 'fz_p99', 'fz_max', 'total_p50', 'MiB_p50', 'rounds',
                  'over', 'slowdown', 'drift', 'floor', 'taken', 'late_max', 'late_p99', 'alone_late',
                  'stall300', 'stall_max'))
    print(cols % ('', '', '', 'ms', 'ms', 'ms', 'ms', '', 'p50', '', '', '', '', '', 'ms', 'ms', 'ms',
                  'per s', 'ms'))
    for r in rows:
        if not r['ok']:
            print('%6s %-8s  FAILED (see above)' % (r['rate'], r['mode']))
            continue
        under = r.get('under', {})
        per_s = under.get('window_s') or None
        print('%6s %-8s %4d %9s %9s %9s %9s %8s %7s %5s %8s%% %6s%% %5s%% %5s%% %9s %9s %10s %9s %10s' % (
            r['rate'], r['mode'], r['steady_checkpoints'], fmt(r['freeze_p50_ms']), fmt(r['freeze_p99_ms']),
            fmt(r['freeze_max_ms']), fmt(r['total_p50_ms'], '%.1f'), fmt(r['mib_p50'], '%.2f'),
            fmt(r['precopy_rounds_p50'], '%g'), fmt(r['over_budget'], '%d'),
            fmt(100 * r['slowdown'] if r['slowdown'] is not None else None, '%.1f'),
            fmt(100 * r['drift'] if r.get('drift') is not None else None, '%+.1f'),
            fmt(100 * r['floor'] if r.get('floor') is not None else None, '%.1f'),
            fmt(100 * r['taken'] if r.get('taken') is not None else None, '%.1f'),
            fmt(r['max_late_ms']), fmt(r['late_p99_ms']), fmt(r['alone_max_late_ms']),
            fmt(under['stalls_300us'] / per_s if per_s and 'stalls_300us' in under else None, '%.1f'),
            fmt(under['stall_max_us'] / 1000.0 if 'stall_max_us' in under else None)))
    print()
    print('Start-up: the first (full) checkpoint, taken as the task starts, and the largest freeze '
          'before the steady state')
    cols = '%6s %-8s %10s %11s %9s %7s %11s %12s %6s %10s %11s'
    print(cols % ('MiB/s', 'mode', 'full_fz', 'full_total', 'full_MiB', 'rounds', 'startup_fz',
                  'startup_MiB', 'total', 'cryo_peak', 'cryo_steady'))
    print(cols % ('', '', 'ms', 'ms', '', '', 'ms', '', '', 'MiB', 'MiB'))
    for r in rows:
        if not r['ok']:
            continue
        print(cols % (
            r['rate'], r['mode'], fmt(r.get('full_freeze_ms')), fmt(r.get('full_total_ms'), '%.1f'),
            fmt(r.get('full_mib')), fmt(r.get('full_rounds'), '%g'), fmt(r.get('startup_max_freeze_ms')),
            fmt(r.get('startup_max_mib')), r['checkpoints'], fmt(r.get('cryo_peak_mib'), '%.0f'),
            fmt(r.get('cryo_steady_mib'), '%.0f')))
    for r in rows:
        if r['ok'] and not r['steady_checkpoints']:
            print('note: %s MiB/s, %s: no checkpoint fell in the steady state (%d in all)' %
                  (r['rate'], r['mode'], r['checkpoints']))
    for r in rows:
        for w in r.get('cryo_warnings', []):
            print('cryo said (%s MiB/s, %s): %s' % (r['rate'], r['mode'], w))
    for r in rows:
        if r['ok'] and r['modes_reported'] and r['modes_reported'] != [r['mode'].split('+')[0]]:
            print('warning: %s MiB/s, %s run: cryo ls reports mode %s' % (r['rate'], r['mode'],
                                                                      ','.join(r['modes_reported'])))


def print_full(rows, a):
    print()
    print('Full checkpoint of a running %d MiB task that holds its memory (`cryo checkpoint`, '
          '%d runs; freeze: both stops, arming included)' % (a.size, a.full_runs))
    cols = '%6s %-8s %10s %10s %12s %11s %9s'
    print(cols % ('MiB/s', 'mode', 'fz_p50', 'fz_max', 'max_stop_p50', 'total_p50', 'MiB'))
    print(cols % ('', '', 'ms', 'ms', 'ms', 'ms', ''))
    for r in rows:
        if not r['ok']:
            print('%6s %-8s  FAILED: %s' % (r['rate'], r['mode'], r.get('error')))
            continue
        print(cols % (r['rate'], r['mode'], fmt(r['freeze_ms_p50']), fmt(r['freeze_ms_max']),
                      fmt(r['max_stop_ms_p50']), fmt(r['total_ms_p50'], '%.1f'), fmt(r['mib_p50'], '%.1f')))


def floors(limits, a, rates):
    """What a stop-and-copy freeze cannot go below: one scan plus copying the dirty pages."""
    gbps = limits.get('memcpy_touched')
    pts = [(0.0, limits.get('pagemap_scan_clean')), (0.01, limits.get('pagemap_scan_1pct')),
           (0.10, limits.get('pagemap_scan_10pct'))]
    if gbps is None or any(v is None for _, v in pts):
        return []
    period = parse_duration(a.every)
    pages = a.size * 256
    out = []
    for rate in rates:
        writes = rate * 256 * period
        unique = pages * (1 - math.exp(-writes / pages))
        frac = unique / pages
        (x0, y0), (x1, y1) = (pts[0], pts[1]) if frac <= 0.01 else (pts[1], pts[2])
        scan_ms = y0 + (y1 - y0) * (frac - x0) / (x1 - x0)
        copy_ms = unique * 4096 / (gbps * 1e9) * 1e3
        out.append(dict(rate=rate, dirty_mib=unique / 256, dirty_fraction=frac, scan_ms=scan_ms,
                        copy_ms=copy_ms, stop_floor_ms=scan_ms + copy_ms))
    return out


def quiet_then_hogs(hogs, a, exe, rate, mode, tmp):
    """The same measurement twice, turns alternating: the machine quiet, then with `hogs` busy
    loops (ordinary policy, any CPU) running beside the task and cryo."""
    quiet = measure(a, exe, rate, mode, tmp)
    quiet['load'] = 'quiet'
    loops = [subprocess.Popen(['/bin/sh', '-c', 'while :; do :; done']) for _ in range(hogs)]
    try:
        busy = measure(a, exe, rate, mode, tmp)
    finally:
        for p in loops:
            p.kill()
            p.wait()
    busy['load'] = '%d hogs' % hogs
    busy['mode'] = mode + '+hogs'
    return [quiet, busy]


def print_hogs(rows, a):
    print()
    print('Freeze beside %d busy loops against the quiet machine (same run, turns alternating; '
          '--freeze-priority %d, --cpu %s, task on CPU %s); goal: p99 with hogs <= 2x quiet' %
          (a.hogs, a.freeze_priority, a.cryo_cpu, a.task_cpu))
    cols = '%6s %-8s %10s %10s %10s %10s %8s'
    print(cols % ('MiB/s', 'mode', 'p50_quiet', 'p50_hogs', 'p99_quiet', 'p99_hogs', 'ratio'))
    by = {(r['rate'], r['mode']): r for r in rows if r['ok']}
    for r in rows:
        if not r['ok'] or r.get('load') != 'quiet':
            continue
        h = by.get((r['rate'], r['mode'] + '+hogs'))
        if not h:
            continue
        ratio = (h['freeze_p99_ms'] / r['freeze_p99_ms']
                 if h.get('freeze_p99_ms') and r.get('freeze_p99_ms') else None)
        print(cols % (r['rate'], r['mode'], fmt(r['freeze_p50_ms']), fmt(h['freeze_p50_ms']),
                      fmt(r['freeze_p99_ms']), fmt(h['freeze_p99_ms']), fmt(ratio, '%.2fx')))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--cryo', default=os.path.join(REPO, 'build', 'cryo'), help='cryo binary (default: build/cryo)')
    ap.add_argument('--bin-dir', help='where steady_writer and scan_cost are (default: the bench build '
                    'directory, else they are compiled with cc into a temporary directory)')
    ap.add_argument('--size', type=int, default=1024, help='task memory, MiB (default 1024)')
    ap.add_argument('--rates', default='10,100,500', help='dirty rates, MiB/s (default 10,100,500)')
    ap.add_argument('--seconds', type=float, default=6.0, help='writing time of each run (default 6)')
    ap.add_argument('--warmup', type=float, default=1.5,
                    help='seconds left out after the task has filled its memory (default 1.5)')
    ap.add_argument('--missed', choices=('catchup', 'skip'), default='catchup',
                    help='what the task does with the slices a stall made it miss: write them at once '
                    '(catchup, the default: the dirty rate holds) or drop them (skip)')
    ap.add_argument('--modes', default='stop,precopy', help='freeze modes (default stop,precopy)')
    ap.add_argument('--every', default='100ms', help='checkpoint period (default 100ms)')
    ap.add_argument('--tracker', default='uffd-wp', help='dirty-page tracker (default uffd-wp)')
    ap.add_argument('--max-freeze', help='--max-freeze for precopy runs (default: cryo\'s)')
    ap.add_argument('--cryo-cpu', type=int, help='pass --cpu N to cryo run')
    ap.add_argument('--cryo-nice', type=int, help='pass --nice N to cryo run')
    ap.add_argument('--freeze-priority', type=int, default=0,
                    help='pass --freeze-priority N to cryo run (SCHED_FIFO while the task is stopped)')
    ap.add_argument('--task-cpu', type=int, help='pin the task (and cryo, unless --cryo-cpu) to this CPU')
    ap.add_argument('--no-mode-flag', action='store_true',
                    help='for mode stop, do not pass --freeze-mode (cryo binaries without it)')
    ap.add_argument('--scan-size', type=int, help='memory of scan_cost, MiB (default: --size)')
    ap.add_argument('--no-scan', action='store_true', help='skip scan_cost')
    ap.add_argument('--no-alone-after', action='store_true',
                    help='run the task alone only before cryo run, not after it too (the slowdown is '
                    'then against that one run, and no drift is shown)')
    ap.add_argument('--full-runs', type=int, default=3,
                    help='full checkpoints of the running task per rate and mode (default 3; 0: none)')
    ap.add_argument('--dir', default=tempfile.gettempdir(), help='where the stores go (default $TMPDIR or /tmp)')
    ap.add_argument('--keep-stores', action='store_true', help='keep the stores (and say where)')
    ap.add_argument('--no-floor', action='store_true',
                    help='do not run the task tracking its own writes (the `floor` column)')
    ap.add_argument('--hogs', type=int, default=0,
                    help='measure each rate and mode quiet, then beside N busy loops, and print '
                         'the freeze p99 of both and their ratio')
    ap.add_argument('--json', help='write everything to this file')
    a = ap.parse_args()

    if os.geteuid() != 0:
        raise SystemExit('error: realtime_bench.py needs root (cryo checkpoints with ptrace)')
    a.cryo = os.path.abspath(a.cryo)
    if not os.access(a.cryo, os.X_OK):
        raise SystemExit('error: no cryo binary at %s (build it, or pass --cryo)' % a.cryo)
    if a.seconds <= a.warmup:
        raise SystemExit('error: --seconds must be longer than --warmup')
    rates = [float(r) if '.' in r else int(r) for r in a.rates.split(',') if r]
    modes = [m for m in a.modes.split(',') if m]
    become_subreaper()
    a.floor_runs = {}  # rate -> the self-tracking task's figures (one run a rate)

    tmp = tempfile.mkdtemp(prefix='cryo-rtbench-', dir=a.dir)
    rows, full_rows, limits, status = [], [], {}, 0
    try:
        bins = find_programs(a.bin_dir, a.cryo, tmp)
        exe = os.path.join(bins, 'steady_writer')
        log('cryo %s, programs in %s, stores in %s' % (a.cryo, bins, tmp))
        def every_rate_and_mode(what, fn, out):
            failed = 0
            for rate in rates:
                for mode in modes:
                    log('rate %s MiB/s, mode %s: %s ...' % (rate, mode, what))
                    r = fn(a, exe, rate, mode, tmp)
                    for one in (r if isinstance(r, list) else [r]):
                        if not one['ok']:
                            failed = 1
                            log('error: rate %s MiB/s, mode %s: %s' % (rate, mode, one['error']))
                    out.append(r)
            return failed

        if a.hogs:
            status |= every_rate_and_mode('quiet, then beside %d busy loops' % a.hogs,
                                          lambda *args: quiet_then_hogs(a.hogs, *args), rows)
            rows = [r for pair in rows for r in pair]
        else:
            status |= every_rate_and_mode('task alone, then under cryo run', measure, rows)
        print_tables(rows, a)
        if a.hogs:
            print_hogs(rows, a)
        if a.full_runs > 0:
            status |= every_rate_and_mode('full checkpoints of the running task', measure_full, full_rows)
            print_full(full_rows, a)

        if not a.no_scan:
            size = a.scan_size or a.size
            log('scan_cost %d MiB ...' % size)
            rc, out, err = run_proc([os.path.join(bins, 'scan_cost'), str(size)], 300 + size / 8.0)
            print()
            print('Physical limits of this machine (scan_cost, %d MiB):' % size)
            for line in out.strip().splitlines():
                print('  ' + line)
            if rc != 0:
                status = 1
                print('  scan_cost failed (status %s):\n%s' % (rc, tail(err)))
            limits = dict(parse_kv(out), lines=out.strip().splitlines(), status=rc)
            fl = floors(limits, a, rates)
            if fl:
                limits['stop_floor'] = fl
                print()
                print('Stop-and-copy floor per checkpoint (random writes over %s, %d MiB): one scan + memcpy '
                      'of the dirty pages' % (a.every, a.size))
                print('%6s %10s %9s %8s %8s %9s' % ('MiB/s', 'dirty_MiB', 'dirty_%', 'scan_ms', 'copy_ms', 'floor_ms'))
                for f in fl:
                    print('%6s %10.2f %9.2f %8.3f %8.3f %9.3f' % (f['rate'], f['dirty_mib'], 100 * f['dirty_fraction'],
                                                              f['scan_ms'], f['copy_ms'], f['stop_floor_ms']))
        if a.keep_stores:
            print('\nstores kept in %s' % tmp)
    finally:
        if a.json:
            cfg = {k: v for k, v in vars(a).items()}
            ver = subprocess.run([a.cryo, '--version'], capture_output=True, text=True)
            with open(a.json, 'w') as f:
                json.dump(dict(machine=machine_info(), config=cfg,
                               cryo_version=ver.stdout.strip() if ver.returncode == 0 else None,
                               results=rows, full=full_rows, limits=limits), f, indent=1)
            log('wrote %s' % a.json)
        if not a.keep_stores:
            shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
