#!/usr/bin/env bash
# test.sh: the one test command (as root: the tests checkpoint and restore real processes):
#
#   sudo bash scripts/test.sh
#
# Installs the build dependencies, builds cryo and its tests with AddressSanitizer and
# UndefinedBehaviorSanitizer in build-test/, runs the whole suite, and exits with ctest's status.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "test: run as root (sudo bash scripts/test.sh): the tests checkpoint and restore processes" >&2
  exit 1
fi

bash scripts/install-deps.sh
cmake -S . -B build-test -DCRYO_SANITIZE=ON -DCRYO_BUILD_TESTS=ON
cmake --build build-test -j"$(nproc)"
set +e
ctest --test-dir build-test --output-on-failure -j1 --timeout 600
status=$?
set -e
exit "$status"
