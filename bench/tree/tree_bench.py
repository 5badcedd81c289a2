# tree_bench.py: the process-tree benchmark: checkpoint, restore and incremental checkpoints of a tree of 16 processes of 64 MiB next to one process of 64 MiB and one of 1024 MiB.
"""Process-tree checkpoint benchmark.

For every configuration NPROCxMIB (default 16x64, 1x64 and 1x1024: the tree, one of its
processes alone, and one process holding as much memory as the whole tree), repeated REPS times:

  full      `cryo dump --pid ROOT --images DIR --leave-running` of tree_target NPROC MIB: the
            task's freeze (`freeze_us` of `cryo show --json`), cryo's whole dump (`dump_us`),
            the command's wall time and the image size;
  restore   the whole tree killed and reaped, then `cryo restore --images DIR`: wall time to
            the printed pid and cryo's own figure (CRYO_LOG=info); every process must be back;
  run       `cryo run --store S --every 200ms --tracker uffd-wp -- tree_target --dirty R ...`
            for a few seconds after the tree is ready, every process dirtying memory: freeze
            p50/p99 and MiB of the incremental checkpoints of the steady state, the first (full)
            checkpoint's freeze; then the tree killed and `cryo restore --store S` timed.

It prints the medians over the repetitions and the ratios of the tree to 1x64 and to 1x1024.
Needs root. See bench/README.md, section "Process trees".
"""
import argparse
import ctypes
import json
import math
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import benchlib  # noqa: E402
from benchlib import become_subreaper, log, parse_duration, pct, proc_table  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
PROGRAM = 'tree_target'
SOURCES = [os.path.join(HERE, PROGRAM + '.c'), os.path.join(REPO, 'bench', 'bench_pattern.h')]


class BenchError(Exception):
    """A step failed; the message names the command and holds its standard error."""




def median(values):
    v = [x for x in values if x is not None]
    return statistics.median(v) if v else None


def tail(text, n=8):
    lines = [l for l in (text or '').strip().splitlines() if l.strip()]
    return '\n'.join('    ' + l for l in lines[-n:]) or '    (no output)'


def failed(cmd, rc, err):
    return BenchError('`%s` failed (status %s):\n%s' % (' '.join(map(str, cmd)), rc, tail(err)))


# ---- finding the programs -------------------------------------------------------------------

def find_cryo(opt):
    if opt:
        path = os.path.abspath(opt)
        if not os.access(path, os.X_OK):
            raise SystemExit('error: --cryo %s is not an executable' % opt)
        return path
    for b in ('build-bench', 'build'):
        path = os.path.join(REPO, b, 'cryo')
        if os.access(path, os.X_OK):
            return path
    raise SystemExit('error: no cryo in %s/build-bench or %s/build (build it, or pass --cryo)' % (REPO, REPO))


def find_target(bin_dir, cryo, tmp):
    """tree_target: --bin-dir, else a build directory next to cryo or in the repository (if not
    older than its sources), else compiled here with cc."""
    newest = max(os.path.getmtime(s) for s in SOURCES)
    if bin_dir:
        exe = os.path.join(bin_dir, PROGRAM)
        if not os.access(exe, os.X_OK):
            raise SystemExit('error: --bin-dir %s has no %s' % (bin_dir, PROGRAM))
        return exe
    candidates = [os.path.join(os.path.dirname(cryo), 'bench', 'tree')]
    for b in ('build-bench', 'build'):
        candidates.append(os.path.join(REPO, b, 'bench', 'tree'))
    for d in candidates:
        exe = os.path.join(d, PROGRAM)
        if os.access(exe, os.X_OK):
            if os.path.getmtime(exe) >= newest:
                return exe
            log('note: %s is older than its source; not using it' % exe)
    out = os.path.join(tmp, 'bin')
    os.makedirs(out, mode=0o700, exist_ok=True)
    exe = os.path.join(out, PROGRAM)
    cmd = [os.environ.get('CC', 'cc'), '-O2', '-Wall', '-std=gnu11', '-o', exe, SOURCES[0]]
    log('building: ' + ' '.join(cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit('error: building %s failed:\n%s' % (PROGRAM, p.stderr))
    return exe


# ---- processes ------------------------------------------------------------------------------

def descendants(pid, table=None):
    """pid's descendants (not pid itself), parents before children."""
    table = table if table is not None else proc_table()
    kids = {}
    for p, (pp, _) in table.items():
        kids.setdefault(pp, []).append(p)
    out, todo = [], list(kids.get(pid, []))
    while todo:
        p = todo.pop(0)
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def rss_bytes(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reap_all(exclude=()):
    """Reaps every child of ours that has exited but those in exclude (whose status a Popen
    object must get). We are a subreaper: the orphans of the tree are ours."""
    me = os.getpid()
    for pid, (ppid, state) in proc_table().items():
        if ppid == me and state in 'ZX' and pid not in exclude:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def kill_mine(pids, timeout=15.0, exclude=()):
    """SIGKILLs those of pids that are our descendants, and waits until every one of them has
    been reaped (by us, or by the cryo that is their parent or traces them), so that their PIDs
    are free. Children of ours in exclude are left for their Popen object to reap."""
    mine = set(descendants(os.getpid()))
    targets = [p for p in pids if p in mine]
    for p in targets:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while True:
        reap_all(exclude)
        left = [p for p in targets if os.path.exists('/proc/%d' % p)]
        if not left:
            return
        if time.monotonic() > deadline:
            raise BenchError('processes %s still exist %.0f s after SIGKILL' % (left, timeout))
        time.sleep(0.005)


def kill_strays():
    """Kills and reaps every descendant of ours (what is left after a failure)."""
    d = descendants(os.getpid())
    if d:
        kill_mine(d)
    reap_all()


def read_ready(fd, proc, timeout, what):
    """Reads lines from fd until one is 'ready'; raises on an error line, EOF or timeout."""
    deadline = time.monotonic() + timeout
    buf = b''
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BenchError('%s: no "ready" within %.0f s' % (what, timeout))
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            raise BenchError('%s: ended before "ready" (status %s): %s' %
                             (what, proc.poll(), buf.decode(errors='replace').strip() or 'no output'))
        buf += chunk
        for line in buf.decode(errors='replace').splitlines():
            if line.strip() == 'ready':
                return
            if line.startswith('error'):
                raise BenchError('%s: %s' % (what, line))


def check_tree(expected, what):
    """Every pid of expected (pid -> ppid) exists with that parent and is not stopped."""
    table = proc_table()
    missing = [p for p in expected if p not in table]
    wrong = ['%d (parent %d, not %d)' % (p, table[p][0], pp) for p, pp in expected.items()
             if p in table and pp is not None and table[p][0] != pp]
    bad = ['%d (state %s)' % (p, table[p][1]) for p in expected if p in table and table[p][1] in 'ZXTt']
    if missing or wrong or bad:
        raise BenchError('%s: %d processes expected; missing %s; wrong parent %s; not running %s' %
                         (what, len(expected), missing or 'none', wrong or 'none', bad or 'none'))


def cryo_env():
    env = dict(os.environ)
    env['CRYO_LOG'] = 'info'
    env.pop('CRYO_LOG_TIME', None)
    return env


def run_json(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise failed(cmd, p.returncode, p.stderr)
    try:
        return json.loads(p.stdout)
    except ValueError:
        raise BenchError('`%s` printed no JSON:\n%s' % (' '.join(cmd), tail(p.stdout)))


def restore(cryo, source, expected, tmp, what):
    """`cryo restore` (source: ['--images', DIR] or ['--store', S]); waits for the pid line,
    checks the tree, kills it. Returns (wall ms to the pid line, cryo's own ms)."""
    cmd = [cryo, 'restore'] + source
    errpath = os.path.join(tmp, 'restore.err')
    with open(errpath, 'w+') as errf:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errf, stdin=subprocess.DEVNULL,
                             env=cryo_env())
        pid_line, wall = None, None
        try:
            # The restored tree may hold cryo's stdout (a task whose stdout was a pipe gets
            # cryo's own): read lines, never wait for EOF.
            fd = p.stdout.fileno()
            buf = b''
            deadline = time.monotonic() + 300
            while pid_line is None and time.monotonic() < deadline:
                r, _, _ = select.select([fd], [], [], 1.0)
                if not r:
                    if p.poll() is not None and not select.select([fd], [], [], 0)[0]:
                        break
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
                for line in buf.decode(errors='replace').splitlines():
                    if line.strip().isdigit():
                        pid_line, wall = int(line.strip()), (time.perf_counter() - t0) * 1e3
                        break
            rc = p.wait(timeout=60)
        finally:
            p.stdout.close()
        errf.seek(0)
        err = errf.read()
    if rc != 0 or pid_line is None:
        raise failed(cmd, rc, err)
    m = re.search(r'restored pid (\d+) in (\d+) us', err)
    internal = int(m.group(2)) / 1e3 if m else None
    root = next(q for q, pp in expected.items() if pp is None)
    if pid_line != root:
        raise BenchError('%s: `%s` printed pid %d, the tree\'s root was %d' % (what, ' '.join(cmd), pid_line, root))
    try:
        check_tree(expected, what + ' (just after restore)')
        time.sleep(0.2)
        check_tree(expected, what + ' (0.2 s after restore)')
    finally:
        kill_mine(list(expected))
    return wall, internal


# ---- one configuration ----------------------------------------------------------------------

def full_and_restore(a, exe, nproc, mib, tmp):
    """One repetition of the full checkpoint and its restore. Returns a dict of figures."""
    img = os.path.join(tmp, 'image')
    errpath = os.path.join(tmp, 'target.err')
    rfd, wfd = os.pipe()
    task = [exe, str(nproc), str(mib), str(wfd)]
    with open(errpath, 'w') as errf:
        proc = subprocess.Popen(task, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf,
                                pass_fds=(wfd,))
    os.close(wfd)
    expected = None
    try:
        try:
            read_ready(rfd, proc, 60 + mib * nproc / 64.0, '`%s`' % ' '.join(task))
        finally:
            os.close(rfd)
        tree = [proc.pid] + descendants(proc.pid)
        table = proc_table()
        expected = {p: (None if p == proc.pid else table[p][0]) for p in tree if p in table}
        if len(expected) != nproc:
            raise BenchError('`%s`: %d processes after "ready", not %d' % (' '.join(task), len(expected), nproc))
        resident = sum(rss_bytes(p) for p in expected)

        cmd = [a.cryo, 'dump', '--pid', str(proc.pid), '--images', img, '--leave-running']
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True, env=cryo_env())
        dump_wall = (time.perf_counter() - t0) * 1e3
        if p.returncode != 0:
            raise failed(cmd, p.returncode, p.stderr)
        check_tree(expected, 'after `cryo dump --leave-running`')
        show = run_json([a.cryo, 'show', '--images', img, '--json'])
        nimg = len(show.get('processes', []))
        if nimg != nproc:
            raise BenchError('`cryo show --images %s`: %d processes in the image, not %d' % (img, nimg, nproc))
        disk = sum(os.path.getsize(os.path.join(img, f)) for f in os.listdir(img))

        kill_mine(list(expected))
        proc.wait()
        wall, internal = restore(a.cryo, ['--images', img], expected, tmp, 'restore --images')
        return dict(resident_mib=resident / 2.0 ** 20, freeze_ms=show['freeze_us'] / 1e3,
                    dump_ms=show['dump_us'] / 1e3, dump_wall_ms=dump_wall,
                    image_mib=show.get('image_bytes', disk) / 2.0 ** 20, image_disk_mib=disk / 2.0 ** 20,
                    pages=show.get('pages_stored'), restore_wall_ms=wall, restore_internal_ms=internal)
    finally:
        if proc.poll() is None and expected:
            kill_mine(list(expected))
        kill_strays()
        proc.wait()
        shutil.rmtree(img, ignore_errors=True)


def steady_of(ls, t_ready, t_stop):
    """The steady state: the incremental checkpoints that hold only writes made after the tree
    was ready (the previous checkpoint started after "ready"; `time` is when a checkpoint was
    committed, `dump_us` after it started) and were committed before t_stop."""
    def started(c):
        return c['time'] - (c.get('dump_us') or 0) / 1e6
    return [c for prev, c in zip(ls, ls[1:])
            if c.get('parent') is not None and started(prev) >= t_ready and c['time'] <= t_stop]


def incremental(a, exe, nproc, mib, tmp):
    """One repetition under `cryo run`, then `cryo restore --store`. Returns a dict of figures."""
    store = os.path.join(tmp, 'store')
    rate = a.dirty * mib / 64.0  # MiB/s of each process
    task = [exe, '--dirty', '%g' % rate, str(nproc), str(mib), '1']
    cmd = [a.cryo, 'run', '--store', store, '--every', a.every, '--tracker', a.tracker]
    if a.freeze_mode:
        cmd += ['--freeze-mode', a.freeze_mode]
    cmd += ['--'] + task
    errpath = os.path.join(tmp, 'run.err')
    errf = open(errpath, 'w+')
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errf, env=cryo_env())
    expected = None
    try:
        try:
            read_ready(p.stdout.fileno(), p, 120 + mib * nproc / 16.0, '`%s`' % ' '.join(cmd))
        except BenchError as e:
            errf.seek(0)
            raise BenchError('%s\n%s' % (e, tail(errf.read())))
        t_ready = time.time()
        table = proc_table()
        kids = [q for q, (pp, _) in table.items() if pp == p.pid]
        if len(kids) != 1:
            raise BenchError('`cryo run` (pid %d) has %d children, not 1' % (p.pid, len(kids)))
        root = kids[0]
        tree = [root] + descendants(root, table)
        expected = {q: (None if q == root else table[q][0]) for q in tree}
        if len(expected) != nproc:
            raise BenchError('under cryo run: %d processes after "ready", not %d' % (len(expected), nproc))
        # At least --seconds after "ready"; then on until --min-steady checkpoints hold only
        # writes made after "ready" (a large tree's first checkpoints after its start take
        # long), for at most --max-seconds.
        time.sleep(a.seconds)
        while time.time() - t_ready < a.max_seconds:
            ls = run_json([a.cryo, 'ls', '--store', store, '--json'])
            if len(steady_of(ls, t_ready, float('inf'))) >= a.min_steady:
                break
            time.sleep(0.5)
        t_stop = time.time()
        kill_mine(list(expected), exclude=(p.pid,))
        try:
            rc = p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise BenchError('`cryo run` did not exit within 60 s of its task being killed')
        reap_all((p.pid,))
        errf.seek(0)
        err = errf.read()
        if rc != 128 + signal.SIGKILL:
            raise failed(cmd, rc, err + '\n(expected status %d: the task was killed)' % (128 + signal.SIGKILL))
        # cryo's own complaints, but for the expected end of the task
        warnings = sorted({l.strip() for l in err.splitlines() if ('warn' in l or 'error' in l)
                           and 'killed by signal %d' % signal.SIGKILL not in l})
        started_line = next((l.strip() for l in err.splitlines() if ' as pid ' in l), None)
        ls = run_json([a.cryo, 'ls', '--store', store, '--json'])
    finally:
        p.stdout.close()
        errf.close()
        if p.poll() is None:
            p.kill()
            p.wait()
        kill_strays()
    try:
        if not ls:
            raise BenchError('`cryo ls --store %s`: no checkpoint' % store)
        full = ls[0] if ls[0].get('parent') is None else None

        steady = steady_of(ls, t_ready, t_stop)
        inc_all = [c for c in ls if c.get('parent') is not None]
        fz = [c['freeze_us'] / 1e3 for c in steady]
        mibs = [c['pages'] * 4096 / 2.0 ** 20 for c in steady]
        total = [c['dump_us'] / 1e3 for c in steady if c.get('dump_us') is not None]
        wall, internal = restore(a.cryo, ['--store', store], expected, tmp, 'restore --store')
        return dict(dirty_mibps_per_process=rate, checkpoints=len(ls), incremental=len(inc_all),
                    steady=len(steady), inc_freeze_p50_ms=pct(fz, 50), inc_freeze_p99_ms=pct(fz, 99),
                    inc_freeze_max_ms=max(fz) if fz else None, inc_total_p50_ms=pct(total, 50),
                    inc_mib_p50=pct(mibs, 50),
                    run_full_freeze_ms=full['freeze_us'] / 1e3 if full else None,
                    run_full_mib=full['pages'] * 4096 / 2.0 ** 20 if full else None,
                    modes=sorted({str(c.get('mode')) for c in ls}),
                    store_restore_wall_ms=wall, store_restore_internal_ms=internal,
                    run_seconds_after_ready=t_stop - t_ready, tree_pids=sorted(expected),
                    cryo_started=started_line, cryo_warnings=warnings, ls=ls)
    finally:
        kill_strays()
        shutil.rmtree(store, ignore_errors=True)


# ---- output ---------------------------------------------------------------------------------

FIGURES = [
    # key, column title, unit, format
    ('resident_mib', 'resident', 'MiB', '%.0f'),
    ('freeze_ms', 'dump: frozen', 'ms', '%.1f'),
    ('dump_ms', 'dump: dump_us', 'ms', '%.1f'),
    ('dump_wall_ms', 'dump: wall', 'ms', '%.1f'),
    ('image_mib', 'image size', 'MiB', '%.1f'),
    ('restore_wall_ms', 'restore: wall', 'ms', '%.1f'),
    ('restore_internal_ms', 'restore: in cryo', 'ms', '%.1f'),
    ('dirty_mibps_per_process', 'run: dirty/process', 'MiB/s', '%g'),
    ('run_seconds_after_ready', 'run: seconds after ready', 's', '%.1f'),
    ('steady', 'run: steady incrementals', '', '%.0f'),
    ('inc_freeze_p50_ms', 'run: inc frozen p50', 'ms', '%.2f'),
    ('inc_freeze_p99_ms', 'run: inc frozen p99', 'ms', '%.2f'),
    ('inc_total_p50_ms', 'run: inc dump_us p50', 'ms', '%.1f'),
    ('inc_mib_p50', 'run: inc MiB p50', 'MiB', '%.2f'),
    ('run_full_freeze_ms', 'run: full frozen', 'ms', '%.1f'),
    ('store_restore_wall_ms', 'restore --store: wall', 'ms', '%.1f'),
    ('store_restore_internal_ms', 'restore --store: in cryo', 'ms', '%.1f'),
]
RATIOS = ['freeze_ms', 'dump_wall_ms', 'image_mib', 'restore_wall_ms', 'restore_internal_ms',
          'inc_freeze_p50_ms', 'inc_freeze_p99_ms', 'inc_mib_p50', 'store_restore_wall_ms']


def fmt(v, spec):
    return '-' if v is None else spec % v


def print_tables(results, a):
    names = [r['name'] for r in results]
    print()
    print('Medians of %d repetitions; dump and restore of the tree once it has filled its memory; '
          '`cryo run --every %s --tracker %s%s` for at least %.1f s after "ready"' %
          (a.reps, a.every, a.tracker, ' --freeze-mode ' + a.freeze_mode if a.freeze_mode else '', a.seconds))
    w = max(len(f[1]) + len(f[2]) + 3 for f in FIGURES)
    print('%-*s' % (w, 'figure') + ''.join('%12s' % n for n in names))
    for key, title, unit, spec in FIGURES:
        label = title + (' (%s)' % unit if unit else '')
        print('%-*s' % (w, label) + ''.join('%12s' % fmt(r['median'].get(key), spec) for r in results))
    for r in results:
        if r['errors']:
            print('%s: %d of %d repetitions failed (see above)' % (r['name'], len(r['errors']), a.reps))
    tree = [r for r in results if r['nproc'] > 1]
    singles = [r for r in results if r['nproc'] == 1]
    if not tree or not singles:
        return
    print()
    print('Ratios of the medians:')
    for t in tree:
        for s in singles:
            for key in RATIOS:
                tv, sv = t['median'].get(key), s['median'].get(key)
                title = next(f[1] for f in FIGURES if f[0] == key)
                if tv is None or not sv:
                    continue
                print('  %-26s %s / %s = %.2f' % (title, t['name'], s['name'], tv / sv))
    for r in results:
        for wline in sorted({w for rep in r['reps'] for w in rep.get('cryo_warnings', [])}):
            print('cryo said (%s): %s' % (r['name'], wline))


def ratios(results):
    out = {}
    tree = [r for r in results if r['nproc'] > 1]
    singles = [r for r in results if r['nproc'] == 1]
    for t in tree:
        for s in singles:
            d = {}
            for key in RATIOS:
                tv, sv = t['median'].get(key), s['median'].get(key)
                d[key] = tv / sv if tv is not None and sv else None
            out['%s/%s' % (t['name'], s['name'])] = d
    return out


def machine_info(tmp):
    info = benchlib.machine_info()
    p = subprocess.run(['stat', '-f', '-c', '%T', tmp], capture_output=True, text=True)
    if p.returncode == 0:
        info['image_fs'] = p.stdout.strip()
    return info


def parse_configs(text):
    out = []
    for item in text.split(','):
        m = re.fullmatch(r'\s*(\d+)x(\d+)\s*', item)
        if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
            raise SystemExit('error: bad configuration %r (NPROCxMIB, e.g. 16x64)' % item)
        out.append((int(m.group(1)), int(m.group(2))))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--cryo', help='cryo binary (default: build-bench/cryo, else build/cryo of this repository)')
    ap.add_argument('--bin-dir', help='where tree_target is (default: <build>/bench/tree next to cryo or in '
                    'the repository, else it is compiled with cc into the temporary directory)')
    ap.add_argument('--configs', default='16x64,1x64,1x1024',
                    help='configurations NPROCxMIB (default 16x64,1x64,1x1024)')
    ap.add_argument('--reps', type=int, default=3, help='repetitions of every figure (default 3)')
    ap.add_argument('--seconds', type=float, default=4.0,
                    help='how long the tree runs under cryo run after it is ready (default 4)')
    ap.add_argument('--min-steady', type=int, default=5,
                    help='after --seconds, run on until this many steady-state incremental checkpoints '
                    'exist (default 5)')
    ap.add_argument('--max-seconds', type=float, default=30.0,
                    help='but never longer than this after "ready" (default 30)')
    ap.add_argument('--every', default='200ms', help='checkpoint period of cryo run (default 200ms)')
    ap.add_argument('--tracker', default='uffd-wp', help='dirty-page tracker of cryo run (default uffd-wp)')
    ap.add_argument('--freeze-mode', help='--freeze-mode of cryo run (default: cryo\'s)')
    ap.add_argument('--dirty', type=float, default=8.0,
                    help='dirty rate under cryo run, MiB/s per 64 MiB of a process\'s memory (default 8: '
                    '8 MiB/s for each process of 64 MiB, 128 MiB/s for one of 1024 MiB)')
    ap.add_argument('--no-run', action='store_true', help='skip the cryo run (incremental) part')
    ap.add_argument('--dir', default=tempfile.gettempdir(), help='where images and stores go (default $TMPDIR or /tmp)')
    ap.add_argument('--json', help='also write the figures (every repetition) to this file')
    a = ap.parse_args()

    if os.geteuid() != 0:
        raise SystemExit('error: tree_bench.py needs root (cryo checkpoints with ptrace)')
    if a.reps < 1:
        raise SystemExit('error: --reps must be at least 1')
    configs = parse_configs(a.configs)
    a.cryo = find_cryo(a.cryo)
    become_subreaper()

    tmp = tempfile.mkdtemp(prefix='cryo-treebench-', dir=a.dir)  # mode 0700: images hold memory
    os.chmod(tmp, 0o700)
    results, status, ver = [], 0, None
    try:
        exe = find_target(a.bin_dir, a.cryo, tmp)
        ver = subprocess.run([a.cryo, '--version'], capture_output=True, text=True)
        log('cryo %s (%s), target %s, images in %s' % (a.cryo, ver.stdout.strip(), exe, tmp))
        for nproc, mib in configs:
            name = '%dx%d' % (nproc, mib)
            res = dict(name=name, nproc=nproc, mib=mib, reps=[], errors=[])
            for rep in range(a.reps):
                log('%s: repetition %d of %d: dump, restore%s ...' % (name, rep + 1, a.reps,
                                                                     '' if a.no_run else ', cryo run'))
                fig = {}
                try:
                    fig.update(full_and_restore(a, exe, nproc, mib, tmp))
                    if not a.no_run:
                        fig.update(incremental(a, exe, nproc, mib, tmp))
                except BenchError as e:
                    status = 1
                    log('error: %s, repetition %d: %s' % (name, rep + 1, e))
                    res['errors'].append(str(e))
                    fig['error'] = str(e)
                    kill_strays()
                res['reps'].append(fig)
                if 'freeze_ms' in fig:
                    log('  frozen %.1f ms, dump %.1f ms, restore %s ms%s' % (
                        fig['freeze_ms'], fig['dump_wall_ms'], fmt(fig.get('restore_wall_ms'), '%.1f'),
                        '' if 'inc_freeze_p50_ms' not in fig else
                        ', run: %d steady incrementals, frozen p50 %s ms, %s MiB' % (
                            fig['steady'], fmt(fig['inc_freeze_p50_ms'], '%.2f'), fmt(fig['inc_mib_p50'], '%.2f'))))
            keys = [f[0] for f in FIGURES]
            res['median'] = {k: median([r.get(k) for r in res['reps']]) for k in keys}
            results.append(res)
        print_tables(results, a)
    finally:
        kill_strays()
        if a.json:
            with open(a.json, 'w') as f:
                json.dump(dict(machine=machine_info(tmp), config=vars(a),
                               cryo_version=ver.stdout.strip() if ver and ver.returncode == 0 else None,
                               results=results, ratios=ratios(results)), f, indent=1)
            log('wrote %s' % a.json)
        shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == '__main__':
    sys.exit(main())
