#!/usr/bin/env bash
# demo.sh: the cryo demo on a fresh Debian 12 machine, in one command (as root):
#
#   sudo bash scripts/demo.sh
#
# Installs the build dependencies, builds cryo (Release, in build-demo/), then starts a task that
# appends "counter N" to a log every 200 ms, checkpoints it with `cryo dump` (which kills it),
# shows the image with `cryo show`, restores it with `cryo restore`, and shows the log going on
# from where it stopped: same counter, same pid, same open log file.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run as root (sudo bash scripts/demo.sh): cryo uses ptrace to checkpoint and" >&2
  echo "demo: clone3 with set_tid to restore a task under its own pid" >&2
  exit 1
fi

BUILD=${CRYO_DEMO_BUILD:-build-demo}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "dependencies"
bash scripts/install-deps.sh

say "build ($BUILD, Release)"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCRYO_BUILD_TESTS=OFF -DCRYO_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target cryo demo_task
CRYO=$BUILD/cryo
TASK=$BUILD/bench/demo_task

WORK=$(mktemp -d /tmp/cryo-demo.XXXXXX)
LOG=$WORK/counter.log
IMAGES=$WORK/image
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -9 "$PID" 2>/dev/null || true; fi
  if [ -z "${CRYO_DEMO_KEEP:-}" ]; then rm -rf "$WORK"; else echo "demo: kept $WORK"; fi
}
trap cleanup EXIT

say "start a task that counts"
# Its standard output is the log file, held open by the task (in append mode).
"$TASK" </dev/null >>"$LOG" 2>/dev/null &
PID=$!
echo "demo_task runs as pid $PID, writing to $LOG"
sleep 2
tail -n 3 "$LOG"

say "checkpoint: $CRYO dump --pid $PID --images $IMAGES"
# cryo dump kills the task once the image is safe; the shell reaps it so that its pid is free.
# (fd 3 carries cryo's messages; the shell's own "Killed" notice is not shown.)
{
  "$CRYO" dump --pid "$PID" --images "$IMAGES" 2>&3
  wait "$PID" || true
} 3>&2 2>/dev/null
TASK_PID=$PID
PID=
LAST=$(tail -n 1 "$LOG")
echo "the task is gone; the last line it wrote: '$LAST'"
sleep 1
echo "one second later the log still ends with: '$(tail -n 1 "$LOG")'"

say "the image: $CRYO show --images $IMAGES"
"$CRYO" show --images "$IMAGES"

say "restore: $CRYO restore --images $IMAGES"
BEFORE=$(wc -l <"$LOG")
# The restored task is a child of cryo, then of the nearest subreaper: demo_restore.py is one,
# lets the task run two seconds, then stops it.
python3 scripts/demo_restore.py "$CRYO" "$IMAGES" "$TASK_PID" 2

say "the log around the restore"
sed -n "$((BEFORE > 2 ? BEFORE - 2 : 1)),${BEFORE}p" "$LOG"
echo "---------------- checkpoint taken here; the task was killed, then restored ----------------"
sed -n "$((BEFORE + 1)),$((BEFORE + 4))p" "$LOG"
echo "..."
tail -n 1 "$LOG"

last=${LAST#counter }
first=$(sed -n "$((BEFORE + 1))s/^counter //p" "$LOG")
if [ -z "$first" ]; then
  echo "demo: FAILED: the restored task wrote nothing" >&2
  exit 1
fi
if [ "$first" -le "$last" ]; then
  echo "demo: FAILED: the counter went from $last back to $first" >&2
  exit 1
fi
say "OK: the counter went on from $last to $first: same task, same memory, same pid, same open file"
