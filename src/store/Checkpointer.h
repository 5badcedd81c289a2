// Checkpointer: takes the checkpoints of one running task into a store: a full one first, then
// incremental ones holding only the pages written since the previous checkpoint (found by a
// dirty-page tracker that stays armed between checkpoints). In stop mode the pages are copied
// while the task is frozen; in precopy mode (bounded freeze) they are copied while it runs, in
// rounds, and the final freeze copies only what the last round left.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "dump/Dumper.h"
#include "store/CheckpointStore.h"
#include "store/DirtyRate.h"

namespace cryo {

class DirtyTracker;
class FreezeHelper;
class PrecopyCache;

enum class FreezeMode { kStop, kPrecopy };

struct CheckpointPolicy {
  FreezeMode mode = FreezeMode::kStop;
  // Budget of one stop of the task (0: none). Precopy rounds go on until what is left to copy
  // fits in it (or the rounds stop converging); a stop that overran it is reported.
  std::chrono::microseconds maxFreeze{0};
  int maxRounds = 8;
  // During a burst of writes (the task writes about as fast as the rounds copy, e.g. while it
  // fills its memory after start-up) rounds go on while a freeze would copy, at the task's
  // recent write rate, for longer than the budget leaves (without one: `longFreeze`) or more
  // than the freeze's buffers hold, for at most `patience` of rounds in all: a burst usually
  // ends, and copying it while the task runs is what keeps the freeze short.
  // The patience outlasts a task's first touches of its memory (0.4-3.6 s for 1 GiB on a
  // virtual machine whose host backs memory lazily), whichever checkpoint they fall in: the
  // checkpoint comes late, and the one before stands for the task meanwhile.
  std::chrono::microseconds longFreeze{10000};
  std::chrono::milliseconds patience{10000};
  // SCHED_FIFO priority of cryo's thread while the task is stopped and during the pre-copy
  // round just before (`--freeze-priority`; 0: cryo's ordinary policy).
  int freezePriority = 0;
  // Established TCP connections are recorded as closed (a restore resets them) instead of
  // failing the checkpoint (`--tcp-close`).
  bool tcpClose = false;
  // Record what the kernel shows of every process, for `restore --verify` (`--verify-data`;
  // costs the freeze a few hundred microseconds to milliseconds per process).
  bool recordView = false;

  // "stop" or "precopy" (throws for anything else).
  static FreezeMode parseMode(const std::string& name);
  static const char* modeName(FreezeMode m);
};

struct CheckpointInfo {
  std::string id;
  bool incremental = false;
  DumpResult dump;
  uint32_t rounds = 0;
};

class Checkpointer {
 public:
  // `trackerName`: a backend name, or "" for the best one available; "none": every
  // checkpoint is full. Precopy needs a backend that collects while the task runs.
  Checkpointer(CheckpointStore& store, pid_t pid, const std::string& trackerName,
               CheckpointPolicy policy = {});
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Throws, saying why, if `policy` cannot be followed with that tracker.
  static void validate(const std::string& trackerName, const CheckpointPolicy& policy);

  CheckpointInfo checkpoint();
  // One checkpoint by a cryo that will not stay around. Stop mode: incremental against the
  // store's latest checkpoint of the same task (changed pages found by comparing memory with
  // it), else full. Precopy mode: a full checkpoint (no write record spans two commands).
  static CheckpointInfo once(CheckpointStore& store, pid_t pid, CheckpointPolicy policy = {});
  // `cryo dump` in precopy mode: one full checkpoint of `pid` into the image directory `dir`,
  // its memory copied while it runs, then a short freeze for what the rounds left. Killed
  // after the dump unless `leaveRunning`; nothing of cryo's stays in a task left running.
  static DumpResult dumpPrecopied(pid_t pid, const std::filesystem::path& dir,
                                  CheckpointPolicy policy, bool leaveRunning);
  const std::string& trackerName() const { return trackerName_; }

 private:
  class Selection;
  class PrecopyInterrupted;
  // A one-shot checkpointer (no store: writes into `dir`): keeps no injection area in the task.
  Checkpointer(pid_t pid, const std::filesystem::path& dir, CheckpointPolicy policy,
               bool leaveRunning);
  // Where the next checkpoint goes: the store's next directory, or the one-shot directory.
  std::filesystem::path nextDir() const;
  // The injection area kept in the task between checkpoints (none for a one-shot dump).
  InjectionArea* keptArea() { return store_ ? &area_ : nullptr; }
  CheckpointInfo stopAndCopy();
  CheckpointInfo precopy(bool incremental);
  // Freezes the task just long enough to arm the tracker; returns how long it was frozen.
  uint64_t armStop(const std::vector<MapsEntry>& hint);
  // How many pages the final freeze may copy within the budget (estimate).
  uint64_t finalPagesTarget(double usPerPage) const;
  // Whether rounds go on to wait a burst of writes out: a freeze now would copy for longer
  // (`freezeCopyUs`) than the budget leaves after the rest of a freeze (without a budget: than
  // the policy's long freeze), the budget can be met at all, and the `patience` since
  // `roundsStarted` is not used up.
  bool waitBurstOut(uint64_t freezeCopyUs, std::chrono::steady_clock::time_point roundsStarted,
                    std::chrono::milliseconds patience) const;
  // How long a freeze now would copy what the task wrote since the last round's collect, at
  // its recent rate (`rate_`).
  uint64_t freezeCopyForecastUs() const;
  // How long the last round before the freeze would copy if the rounds ended now: what the
  // task writes from the last collect until that round runs, through the dump's preparations.
  uint64_t lastRoundCopyForecastUs() const;

  CheckpointStore* store_ = nullptr;  // null: one shot into oneShotDir_
  std::filesystem::path oneShotDir_;
  bool leaveRunning_ = true;
  pid_t pid_;
  CheckpointPolicy policy_;
  std::string trackerName_;
  std::unique_ptr<DirtyTracker> tracker_;
  bool armed_ = false;         // the tracker holds the writes since `parent_`
  std::filesystem::path parent_;
  // The last final stop's time not spent copying pages (collecting the other state).
  double fixedStopUs_ = 0;
  // What a page cost the last rounds, and the last freezes, that copied many (0: none yet).
  double copyUsPerPage_ = 0;
  double frozenUsPerPage_ = 0;
  // The dump's preparations, from the rounds' end to the last round before the freeze.
  double prepUs_ = 0;
  DirtyRate rate_;  // how fast the task writes, from the rounds' collects
  // Copies made while the task runs; its memory is kept from one checkpoint to the next.
  std::unique_ptr<PrecopyCache> cache_;
  std::vector<MapsEntry> lastMaps_;  // the last smaps-exact listing of the task's mappings
  InjectionArea area_;               // kept in the task between checkpoints
  std::map<pid_t, std::unique_ptr<BufferPool>> pools_;  // copy buffers, kept likewise
  std::unique_ptr<FreezeHelper> helper_;                 // the freezes' helper thread, likewise
  // The task's child processes: one tracker each, keyed by pid, valid for the process that
  // started at `startTime` (a pid reused by another process starts afresh).
  struct ChildTracker {
    uint64_t startTime = 0;
    std::unique_ptr<DirtyTracker> tracker;
    bool seen = false;  // dumped by the current checkpoint
    // Precopy: the child's pages copied while it ran, and its last exact listing.
    std::unique_ptr<PrecopyCache> cache;
    std::vector<MapsEntry> lastMaps;
  };
  // One pre-copy round over the children whose trackers follow them while they run; returns
  // the pages copied. A child that cannot be followed is dumped in full next time.
  uint64_t precopyChildren();
  // One pre-copy round of the task and its children (`round` counts from 1): collects what
  // they wrote since the previous one and copies it; updates `o`'s figures and mappings hint
  // (empty when the round registered new mappings). Returns the pages copied.
  uint64_t precopyRound(DumpOptions& o, int round, uint64_t& collectUs);
  std::map<pid_t, ChildTracker> children_;
};

}  // namespace cryo
