#!/usr/bin/env python3
"""Incremental checkpoint benchmark: a task of SIZE MiB writing 0.1 %, 1 % and 10 % of its pages
every 100 ms, under `cryo run --every 100ms`: freeze time and bytes of the full checkpoint and
of the incremental ones (median, p99, max), and the task's slowdown (its own work rate with and
without cryo, measured in the same run). Needs root; builds its task with cc.
Usage: incremental_bench.py [--cryo build/cryo] [--size 1024] [--seconds 4] [--tracker uffd-wp]"""
import argparse, ctypes, json, os, shutil, statistics, subprocess, sys, tempfile

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else 0

def run_task(cmd, env=None):
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    for line in p.stdout.splitlines():
        if line.startswith('units '):
            return int(line.split()[1]), p
    raise SystemExit('task failed: %s\n%s' % (p.returncode, p.stderr))

def full_dump(cryo, exe, size, rate, tmp):
    """A full checkpoint of the task once its memory is filled (cryo dump --leave-running)."""
    p = subprocess.Popen([exe, str(size), str(rate), '60'], stdout=subprocess.PIPE, text=True)
    p.stdout.readline()
    img = os.path.join(tmp, 'full')
    subprocess.run([cryo, 'dump', '--pid', str(p.pid), '--images', img, '--leave-running'], check=True)
    show = json.loads(subprocess.run([cryo, 'show', '--images', img, '--json'], capture_output=True,
                                     text=True, check=True).stdout)
    p.kill(); p.wait()
    shutil.rmtree(img, ignore_errors=True)
    return dict(freeze_us=show['freeze_us'], bytes=show['image_bytes'], parent=None)

def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument('--cryo', default=os.path.join(here, '..', '..', 'build', 'cryo'))
    ap.add_argument('--size', type=int, default=1024)
    ap.add_argument('--seconds', type=float, default=4.0)
    ap.add_argument('--tracker', default='uffd-wp')
    ap.add_argument('--rates', default='0.1,1,10')
    a = ap.parse_args()
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # subreaper
    tmp = tempfile.mkdtemp(prefix='cryo-incbench-')
    try:
        exe = os.path.join(tmp, 'dirty_rate')
        subprocess.run(['cc', '-O2', '-o', exe, os.path.join(here, 'dirty_rate.c')], check=True)
        print('task: %d MiB, checkpoints every 100 ms, tracker %s, %.1f s per run' % (a.size, a.tracker, a.seconds))
        print('%-7s %10s %10s %10s %10s %12s %12s %9s' % ('dirty%', 'full_fz_ms', 'inc_p50_ms', 'inc_p99_ms',
              'inc_max_ms', 'full_MiB', 'inc_MiB_p50', 'slowdown'))
        results = []
        for rate in [float(r) for r in a.rates.split(',')]:
            base, _ = run_task([exe, str(a.size), str(rate), str(a.seconds)])
            store = os.path.join(tmp, 'store-%s' % rate)
            under, _ = run_task([a.cryo, 'run', '--store', store, '--every', '100ms', '--tracker', a.tracker,
                                 '--', exe, str(a.size), str(rate), str(a.seconds)])
            ls = json.loads(subprocess.run([a.cryo, 'ls', '--store', store, '--json'], capture_output=True,
                                           text=True, check=True).stdout)
            t0 = ls[0]['time']
            # Checkpoints while the task still fills its memory are start-up, not steady state.
            inc = [c for c in ls if c['parent'] is not None and c['time'] > t0 + 1.5]
            full = [full_dump(a.cryo, exe, a.size, rate, tmp)]
            fz = [c['freeze_us'] / 1000 for c in inc]
            mib = [c['bytes'] / 2**20 for c in inc]
            row = dict(rate=rate, full_freeze_ms=full[0]['freeze_us'] / 1000, inc_p50_ms=pct(fz, 50),
                       inc_p99_ms=pct(fz, 99), inc_max_ms=max(fz) if fz else 0,
                       full_mib=full[0]['bytes'] / 2**20, inc_mib_p50=pct(mib, 50),
                       slowdown=1 - under / base, checkpoints=len(ls))
            results.append(row)
            print('%-7s %10.1f %10.2f %10.2f %10.2f %12.1f %12.2f %8.1f%%' % (rate, row['full_freeze_ms'],
                  row['inc_p50_ms'], row['inc_p99_ms'], row['inc_max_ms'], row['full_mib'],
                  row['inc_mib_p50'], 100 * row['slowdown']))
            shutil.rmtree(store, ignore_errors=True)
        print(json.dumps(results))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

if __name__ == '__main__':
    main()
