# py_compute.py: a deterministic computation run by the system python, printing progress between sleeps; held before its last step by the test gate.
import hashlib
import os
import sys
import time

STEPS = 15
STEP_SECONDS = 0.12
MASK = (1 << 64) - 1


def gate():
    """prog_gate of prog_common.h: waits, when CRYO_TEST_GATE names a file, until it exists."""
    path = os.environ.get("CRYO_TEST_GATE")
    while path and not os.path.exists(path):
        time.sleep(0.01)


def main():
    state = 0x2545F4914F6CDD1D
    table = {}
    history = []
    digest = hashlib.sha256()
    print("py_compute: start", flush=True)
    for step in range(STEPS):
        if step == STEPS - 1:
            gate()
        acc = 0
        for i in range(15000):
            state = (state * 6364136223846793005 + 1442695040888963407) & MASK
            acc = (acc + (state >> 17)) & MASK
            if i % 97 == 0:
                key = state % 509
                table[key] = table.get(key, 0) ^ (state >> 11)
        history.append(acc)
        digest.update(acc.to_bytes(8, "little"))
        words = sorted(table.items())[:4]
        print(f"step {step:2d} acc={acc:016x} table={len(table)} head={words[0][0]}:{words[0][1]:x} "
              f"digest={digest.hexdigest()[:16]}", flush=True)
        time.sleep(STEP_SECONDS)
    total = sum(history) & MASK
    print(f"py_compute: final checksum {total:016x} {digest.hexdigest()[:32]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
