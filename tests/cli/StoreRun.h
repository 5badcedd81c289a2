// StoreRun: what the tests of `cryo run` into a store share: program paths, backend probing, finding the task cryo started, waiting for checkpoints or for lines of the task's output, and reading `cryo ls --json`.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cryo::test {

// A dirty-page backend and a freeze mode to checkpoint with (`--tracker`, `--freeze-mode`).
struct TrackerMode {
  std::string tracker;  // uffd-wp, soft-dirty, hash
  std::string mode;     // stop, precopy
  // For test names: "uffd_wp_precopy".
  std::string name() const;
};

inline void PrintTo(const TrackerMode& m, std::ostream* os) { *os << m.tracker << "/" << m.mode; }

// A target program built next to the tests.
std::string programPath(const std::string& name);

// Whether this kernel offers dirty-page backend `backend`, and if not why (from `cryo check`).
bool backendAvailable(const std::string& backend, std::string& why);

// The task `cryo run` started (its only child), or -1 if none appeared.
pid_t taskOf(pid_t cryoPid);

// `cryo ls --store DIR --json`, parsed (an empty array, with a test failure, if it failed).
nlohmann::json listStore(const std::filesystem::path& store);

// Published checkpoints of a store (six-digit directories; a missing store has none).
size_t checkpointCount(const std::filesystem::path& store);

// Waits until `store` has at least `n` checkpoints. False if `cryoPid` ended first or the
// timeout passed.
bool waitForCheckpoints(const std::filesystem::path& store, size_t n, pid_t cryoPid,
                        std::chrono::milliseconds timeout);

// Lines of `file` that start with `prefix`.
size_t linesStartingWith(const std::filesystem::path& file, const std::string& prefix);

// Waits until `file` has `n` lines starting with `prefix`. False if `pid` ended first or the
// timeout passed.
bool waitForLines(const std::filesystem::path& file, const std::string& prefix, size_t n,
                  pid_t pid, std::chrono::milliseconds timeout);

// Expects every checkpoint of a `cryo ls --json` listing complete and taken in `mode`;
// returns how many are incremental (have a parent).
int checkListing(const nlohmann::json& list, const std::string& mode);

// `cryo restore --store STORE`: the restored task must get pid `task`, exit 0, and its output
// (`out`) must equal that of the uninterrupted reference run `refPid` (`ref`).
void restoreStoreAndCompare(const std::filesystem::path& store, pid_t task, pid_t refPid,
                            const std::filesystem::path& ref, const std::filesystem::path& out,
                            std::chrono::milliseconds timeout);

// argv that runs `argv` with its stderr (and that of everything it starts) sent to `errFile`:
// for ProcessControl::spawnTarget, whose output file then holds stdout only. The process keeps
// the pid it started with (the shell execs it).
std::vector<std::string> withStderrTo(const std::filesystem::path& errFile,
                                      const std::vector<std::string>& argv);

}  // namespace cryo::test
