// LostWritesTest: periodic incremental checkpoints (every 200 ms) of a task that writes a little everywhere and
// whose stack grows between checkpoints, with two busy loops keeping both CPUs busy: restored
// from its last checkpoint it ends like an uninterrupted run, and the dirty-page tracker, checked
// against page hashes at every checkpoint (CRYO_CROSSCHECK), misses no write.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "CheckpointFixture.h"
#include "OutputCompare.h"
#include "StoreRun.h"

namespace cryo::test {

namespace {

// Two busy loops (one per CPU of a 2-core machine) for as long as the object lives.
class CpuHogs {
 public:
  CpuHogs() {
    for (int i = 0; i < 2; ++i) {
      pid_t p = ::fork();
      if (p == 0) {
        for (;;) __asm__ __volatile__("" ::: "memory");  // busy, forever
      }
      if (p > 0) pids_.push_back(p);
    }
  }
  ~CpuHogs() {
    for (pid_t p : pids_) {
      ::kill(p, SIGKILL);
      ProcessControl::waitForExit(p, std::chrono::milliseconds(30000));
    }
  }

 private:
  std::vector<pid_t> pids_;
};

class LostWrites : public CheckpointFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  // One run of mixed_rounds under `cryo run --every 100ms` (freeze mode `mode`), killed once it
  // has printed a random number of rounds and three checkpoints exist, restored from the store.
  void killAndRestore(const std::string& mode, int attempt) {
    auto dir = tmp_ / ("try" + std::to_string(attempt));
    std::filesystem::create_directories(dir);
    auto ref = dir / "ref.txt", out = dir / "out.txt", err = dir / "cryo.err";
    auto store = dir / "store", gate = dir / "gate";
    std::string prog = programPath("mixed_rounds");
    pid_t refPid = ProcessControl::spawnTarget({prog}, ref);
    pid_t cryoPid = ProcessControl::spawnTarget(
        withStderrTo(err, {"/usr/bin/env", "CRYO_CROSSCHECK=1", "CRYO_TEST_GATE=" + gate.string(),
                           CryoCli::binary().string(), "run", "--store", store.string(),
                           "--every", "200ms", "--freeze-mode", mode, "--on-failure", "warn",
                           "--", prog}),
        out);
    pid_t task = taskOf(cryoPid);
    ASSERT_GT(task, 0);
    // (A hang guard only: the hashes of every checkpoint slow the task down a lot in a
    // sanitizer build on a busy machine.)
    const auto guard = 6 * kWait;
    int rounds = delay_.between(15, 60, "rounds before the kill");
    ASSERT_TRUE(waitForLines(out, "round ", static_cast<size_t>(rounds), task, guard));
    ASSERT_TRUE(waitForCheckpoints(store, 3, cryoPid, guard));
    ::kill(task, SIGKILL);
    ExitStatus st = ProcessControl::waitForExit(cryoPid, guard);
    EXPECT_TRUE(st.exitedWith(128 + SIGKILL)) << st.describe();
    ASSERT_TRUE(ProcessControl::waitUntilGone(task, kWait));
    ProcessControl::reapIfZombie(task);
    std::string said = OutputCompare::readFile(err);
    EXPECT_EQ(said.find("missed"), std::string::npos) << "cryo said:\n" << said;
    std::ofstream(gate.string()).put('\n');  // the restored task runs to its end
    restoreStoreAndCompare(store, task, refPid, ref, out, guard);
  }
};

// Four runs per mode: a write lost in one run of four must not hide.
TEST_P(LostWrites, restored_task_matches_uninterrupted_run_with_both_cpus_busy) {
  std::string why;
  if (!backendAvailable("uffd-wp", why)) GTEST_SKIP() << "uffd-wp unavailable here: " << why;
  CpuHogs hogs;
  for (int attempt = 0; attempt < 4 && !HasFailure(); ++attempt) killAndRestore(GetParam(), attempt);
}

INSTANTIATE_TEST_SUITE_P(Modes, LostWrites, ::testing::Values("stop", "precopy"));

}  // namespace

}  // namespace cryo::test
