# compare_bench.py: cryo and CRIU 4.2 side by side on the same tasks in one run, turns alternating: full dump freeze and wall time, restore time, incremental freezes, and the machine's own limits.
"""cryo next to CRIU, measured in one run.

For every size S (default 64 and 1024 MiB), REPS times, turns alternating (cryo dump,
cryo dump --freeze-mode stop and CRIU in a rotating order), each on a task of its own of the
same kind (steady_writer S 16: fills S MiB, then writes 16 MiB/s):

  dump      `cryo dump --leave-running` (pre-copy, the default), `cryo dump --freeze-mode stop
            --leave-running`, `criu dump --leave-running`: how long the task was frozen
            (cryo: `freeze_us` of `cryo show --json`, every stop of the task summed; CRIU: its
            "Frozen time" of --display-stats) and the command's wall time;
  restore   the task killed, then `cryo restore --images DIR` / `criu restore -d`: wall time
            until the restored task runs (cryo prints its pid; criu -d returns); it must be
            alive afterwards.

Then, for every dirty rate (default 10, 100 and 200 MiB/s), `cryo run --every 100ms` of
steady_writer INC_SIZE RATE for a few seconds: p50/p99 of the freeze of the incremental
checkpoints. CRIU's incremental dumps need soft-dirty bits (`criu check --feature
mem_dirty_track`); where the kernel has none, the table says so.

Finally the machine's own limits in this run (mem_limits): memcpy into touched and fresh
memory, process_vm_readv. Needs root. See bench/README.md, section "cryo next to CRIU".
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from benchlib import become_subreaper, log, machine_info, pct, proc_table  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
DUMPERS = ('cryo', 'cryo-stop', 'criu')
HANG = 600.0  # a guard against a hung command, not a measurement


class BenchError(Exception):
    """A step failed; the message names the command and holds its standard error."""


def run_cmd(cmd, env=None):
    """Runs cmd; returns (seconds, stdout, stderr); raises BenchError when it fails."""
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=HANG)
    s = time.monotonic() - t
    if p.returncode != 0:
        raise BenchError('%s failed (%d): %s' % (' '.join(cmd), p.returncode,
                                                 (p.stderr or p.stdout).strip()[-800:]))
    return s, p.stdout, p.stderr


def reap_children():
    me = os.getpid()
    for pid, (ppid, state) in proc_table().items():
        if ppid == me and state in 'ZX':
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def kill_and_wait(pid):
    """SIGKILLs pid and waits until it is reaped (we are a subreaper) or gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + HANG
    while os.path.exists('/proc/%d' % pid):
        reap_children()
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if time.monotonic() > deadline:
            raise BenchError('pid %d still exists after SIGKILL' % pid)
        time.sleep(0.002)


def alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] not in 'ZX'
    except OSError:
        return False


class Task:
    """steady_writer SIZE RATE, started in a session of its own, stdout into a file."""

    def __init__(self, exe, mib, rate, tmp):
        self.out = os.path.join(tmp, 'task.out')
        with open(self.out, 'w') as out, open(os.devnull) as null:
            self.proc = subprocess.Popen([exe, str(mib), str(rate), '100000', '0'], stdin=null,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        self.pid = self.proc.pid
        deadline = time.monotonic() + HANG
        while 'ready' not in open(self.out).read():
            if self.proc.poll() is not None:
                raise BenchError('steady_writer ended before "ready": %s' % open(self.out).read())
            if time.monotonic() > deadline:
                raise BenchError('steady_writer: no "ready"')
            time.sleep(0.01)

    def kill(self):
        kill_and_wait(self.pid)
        try:
            self.proc.wait(timeout=0)
        except (subprocess.TimeoutExpired, ChildProcessError):
            pass


def criu_frozen_ms(text):
    m = re.search(r'Frozen time:\s*(\d+)\s*us', text)
    if not m:
        raise BenchError('criu dump --display-stats printed no "Frozen time": %s' % text[-400:])
    return int(m.group(1)) / 1000.0


def dump(a, who, pid, images):
    """Returns (frozen_ms, wall_ms) of one dump with the task left running."""
    if who == 'criu':
        cmd = [a.criu, 'dump', '-t', str(pid), '-D', images, '--leave-running', '--shell-job',
               '--display-stats', '-o', 'dump.log']
        s, out, err = run_cmd(cmd)
        return criu_frozen_ms(out + err), s * 1000
    cmd = [a.cryo, 'dump', '--pid', str(pid), '--images', images, '--leave-running']
    if who == 'cryo-stop':
        cmd += ['--freeze-mode', 'stop']
    s, _, _ = run_cmd(cmd)
    _, out, _ = run_cmd([a.cryo, 'show', '--images', images, '--json'])
    return json.loads(out)['freeze_us'] / 1000.0, s * 1000


def restore(a, who, images, pid):
    """Restores the task of `images`; returns the wall time in ms; kills what it restored."""
    if who == 'criu':
        pidfile = os.path.join(images, 'restored.pid')
        s, _, _ = run_cmd([a.criu, 'restore', '-D', images, '-d', '--shell-job', '--pidfile',
                           pidfile, '-o', 'restore.log'])
        got = int(open(pidfile).read())
    else:
        s, out, _ = run_cmd([a.cryo, 'restore', '--images', images])
        got = int(out.strip().splitlines()[-1])
    if got != pid or not alive(got):
        raise BenchError('%s restore: pid %d is not running (expected %d)' % (who, got, pid))
    kill_and_wait(got)
    return s * 1000


def one_turn(a, who, mib, tmp):
    images = tempfile.mkdtemp(prefix=who + '-', dir=tmp)
    task = Task(a.writer, mib, 16, tmp)
    try:
        frozen, wall = dump(a, who, task.pid, images)
    finally:
        task.kill()
    rest = restore(a, 'criu' if who == 'criu' else 'cryo', images, task.pid)
    shutil.rmtree(images, ignore_errors=True)
    return dict(frozen_ms=frozen, dump_wall_ms=wall, restore_ms=rest)


def full_dumps(a, tmp):
    results = {}
    for mib in a.sizes:
        per = {w: [] for w in DUMPERS}
        for rep in range(a.reps):
            order = DUMPERS[rep % 3:] + DUMPERS[:rep % 3]
            for who in order:
                log('%d MiB, turn %d: %s' % (mib, rep + 1, who))
                per[who].append(one_turn(a, who, mib, tmp))
        results[mib] = per
    return results


def incremental(a, tmp, rate):
    store = tempfile.mkdtemp(prefix='run-', dir=tmp)
    out = open(os.path.join(tmp, 'run.out'), 'w')
    p = subprocess.Popen([a.cryo, 'run', '--store', store, '--every', '100ms', '--', a.writer,
                          str(a.inc_size), str(rate), '100000', '0'], stdout=out,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + HANG
        while True:
            _, ls, _ = run_cmd([a.cryo, 'ls', '--store', store, '--json'])
            cps = json.loads(ls)
            if len(cps) >= a.checkpoints + 5:
                break
            if p.poll() is not None or time.monotonic() > deadline:
                raise BenchError('cryo run ended or stalled: %s' % open(out.name).read()[-800:])
            time.sleep(0.2)
    finally:
        task = [q for q, (pp, _) in proc_table().items() if pp == p.pid]
        p.send_signal(signal.SIGKILL)
        p.wait()
        for t in task:
            kill_and_wait(t)
        out.close()
    inc = [c['max_stop_us'] / 1000.0 for c in cps[5:] if c.get('parent')]
    shutil.rmtree(store, ignore_errors=True)
    return inc


def criu_incremental_possible(a):
    p = subprocess.run([a.criu, 'check', '--feature', 'mem_dirty_track'], capture_output=True,
                       text=True)
    text = (p.stdout + p.stderr).strip().splitlines()
    last = re.sub(r'^\w+\s+\([^)]*\):\s*', '', text[-1]) if text else ''
    return p.returncode == 0, last


def limits(a, mib):
    p = subprocess.run([a.limits, str(mib)], capture_output=True, text=True, timeout=HANG)
    out = {}
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) >= 3:
            out[f[0]] = (float(f[1]), f[2])
    return out


def med(values):
    return statistics.median(values) if values else None


def spread(values):
    if not values:
        return 'n/a'
    return '%.1f [%.1f–%.1f]' % (med(values), min(values), max(values))


def ratio(a, b):
    return '%.1f×' % (a / b) if a and b else 'n/a'


def print_full(results, lim):
    print('\n## Full dump and restore (ms; median [min–max]; task left running; 16 MiB/s writes)\n')
    print('| task | frozen, cryo dump | frozen, cryo dump --freeze-mode stop | frozen, CRIU dump | '
          'CRIU/cryo | dump wall, cryo | dump wall, CRIU | restore, cryo | restore, CRIU | '
          'CRIU/cryo |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for mib, per in results.items():
        f = {w: [r['frozen_ms'] for r in per[w]] for w in DUMPERS}
        d = {w: [r['dump_wall_ms'] for r in per[w]] for w in DUMPERS}
        r = {w: [x['restore_ms'] for x in per[w]] for w in DUMPERS}
        cryo_restore = r['cryo'] + r['cryo-stop']
        print('| %d MiB | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
            mib, spread(f['cryo']), spread(f['cryo-stop']), spread(f['criu']),
            ratio(med(f['criu']), med(f['cryo'])), spread(d['cryo']), spread(d['criu']),
            spread(cryo_restore), spread(r['criu']), ratio(med(r['criu']), med(cryo_restore))))


def print_incremental(inc, criu_ok, criu_why):
    print('\n## Incremental checkpoints every 100 ms (longest stop per checkpoint, ms)\n')
    print('| dirty rate | cryo p50 | cryo p99 | checkpoints | CRIU |')
    print('|---|---|---|---|---|')
    criu = 'not measured' if criu_ok else 'not possible here (no soft-dirty: %s)' % (
        criu_why or 'criu check --feature mem_dirty_track failed')
    for rate, v in inc.items():
        print('| %d MiB/s | %s | %s | %d | %s |' % (
            rate, '%.2f' % pct(v, 50) if v else 'n/a', '%.2f' % pct(v, 99) if v else 'n/a',
            len(v), criu))


def print_limits(lim, info):
    print('\n## This machine in this run\n')
    print('%s, %s CPUs, Linux %s, THP %s' % (info.get('cpu', '?'), info.get('cpus'),
                                              info.get('kernel'), info.get('thp', '?')))
    for mib, figures in lim.items():
        print('- %d MiB: ' % mib + ', '.join('%s %.2f %s' % (k, v, u)
                                               for k, (v, u) in figures.items()))


def find(path, what):
    if not os.path.exists(path):
        raise SystemExit('error: %s not found at %s (build cryo first: see bench/README.md)'
                         % (what, path))
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--cryo', default=os.path.join(REPO, 'build', 'cryo'))
    ap.add_argument('--criu', default=os.path.join(REPO, '..', 'shared', 'tools', 'criu-4.2',
                                                   'criu'))
    ap.add_argument('--bin-dir', default=os.path.join(REPO, 'build', 'bench'))
    ap.add_argument('--sizes', default='64,1024')
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--rates', default='10,100,200')
    ap.add_argument('--inc-size', type=int, default=256, help='MiB of the incremental task')
    ap.add_argument('--checkpoints', type=int, default=30,
                    help='incremental checkpoints measured per rate')
    ap.add_argument('--json', help='write every figure as JSON')
    ap.add_argument('--dir', default=os.environ.get('TMPDIR', '/tmp'))
    a = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit('error: run as root (cryo and CRIU checkpoint with ptrace)')
    a.sizes = [int(x) for x in a.sizes.split(',')]
    a.rates = [int(x) for x in a.rates.split(',')] if a.rates else []
    a.cryo, a.criu = find(a.cryo, 'cryo'), find(a.criu, 'criu')
    a.writer = find(os.path.join(a.bin_dir, 'realtime', 'steady_writer'), 'steady_writer')
    a.limits = find(os.path.join(a.bin_dir, 'compare', 'mem_limits'), 'mem_limits')
    become_subreaper()
    tmp = tempfile.mkdtemp(prefix='cryo-compare-', dir=a.dir)
    os.chmod(tmp, 0o700)
    try:
        lim = {mib: limits(a, mib) for mib in a.sizes}
        full = full_dumps(a, tmp)
        inc = {}
        for rate in a.rates:
            log('incremental, %d MiB/s' % rate)
            inc[rate] = incremental(a, tmp, rate)
        criu_ok, criu_why = criu_incremental_possible(a)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    info = machine_info()
    print_full(full, lim)
    if a.rates:
        print_incremental(inc, criu_ok, criu_why)
    print_limits(lim, info)
    if a.json:
        with open(a.json, 'w') as f:
            json.dump(dict(machine=info, limits=lim, full=full, incremental=inc), f, indent=1)


if __name__ == '__main__':
    try:
        main()
    except BenchError as e:
        log('error: %s' % e)
        sys.exit(1)
