// StoppedTaskTest: a multi-threaded task stopped by job control (SIGSTOP) is checkpointed and
// comes back stopped, every thread in its group stop, showing the kernel what it did; SIGCONT
// then resumes it (its SIGCONT handler runs) and it ends like a run that was only stopped and
// continued. A --leave-running dump leaves it stopped; a stopped child of a dumped parent is
// refused.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "CheckpointFixture.h"
#include "KernelView.h"
#include "OutputCompare.h"
#include "StoreRun.h"

namespace fs = std::filesystem;

namespace cryo::test {

namespace {

class StoppedTask : public CheckpointFixture {
 protected:
  // Starts job_stop in `dir` held at gate `dir`/gate, and waits until it is there.
  pid_t startAtGate(const fs::path& dir) {
    fs::create_directories(dir);
    pid_t pid = ProcessControl::spawnTarget({programPath("job_stop")}, dir / "output.txt",
                                            {"CRYO_TEST_GATE=" + (dir / "gate").string()});
    EXPECT_TRUE(waitForFile(dir / "gate.reached", pid)) << "job_stop never reached its gate";
    return pid;
  }
  static void openGateIn(const fs::path& dir) { std::ofstream((dir / "gate").string()).put('\n'); }

  // Whether every thread of `pid` is in state T (/proc/TID: the thread's own state).
  static bool allStopped(pid_t pid) {
    std::set<pid_t> tids = ProcessControl::threadIds(pid);
    if (tids.empty()) return false;
    for (pid_t tid : tids)
      if (ProcessControl::state(tid) != 'T') return false;
    return true;
  }
  // Waits until every thread of `pid` is in state T (a thread let go by a tracer goes back to
  // its group stop once it runs). False if it does not happen.
  static bool settlesStopped(pid_t pid) {
    auto guard = std::chrono::steady_clock::now() + kWait;  // a hang guard only
    while (!allStopped(pid)) {
      if (std::chrono::steady_clock::now() > guard) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  // SIGSTOP, then waits until the whole group has stopped.
  static void stopAndWait(pid_t pid) {
    ASSERT_EQ(::kill(pid, SIGSTOP), 0);
    ASSERT_TRUE(settlesStopped(pid)) << "pid " << pid << " does not stop";
  }
  // The reference: stopped at its gate, continued, let through.
  pid_t runReference(const fs::path& dir) {
    pid_t pid = startAtGate(dir);
    stopAndWait(pid);
    EXPECT_EQ(::kill(pid, SIGCONT), 0);
    openGateIn(dir);
    return pid;
  }
  // Continues the task, lets it through its gate and compares its end with the reference's.
  void finishAndCompare(pid_t pid, const fs::path& dir, pid_t refPid, const fs::path& refDir) {
    ASSERT_EQ(::kill(pid, SIGCONT), 0);
    openGateIn(dir);
    ExitStatus st = ProcessControl::waitForExit(pid, kWait);
    ExitStatus refSt = ProcessControl::waitForExit(refPid, kWait);
    EXPECT_TRUE(refSt.exitedWith(0)) << refSt.describe();
    EXPECT_EQ(st, refSt) << OutputCompare::readFile(dir / "output.txt");
    EXPECT_TRUE(OutputCompare::sameContents(refDir / "output.txt", dir / "output.txt"));
    EXPECT_EQ(linesStartingWith(dir / "output.txt", "continued 1"), 1u)
        << OutputCompare::readFile(dir / "output.txt");
  }
};

TEST_F(StoppedTask, restored_stopped_then_resumed_by_sigcont_ends_like_the_original) {
  fs::path refDir = tmp_ / "ref", dir = tmp_ / "run", images = tmp_ / "img";
  pid_t refPid = runReference(refDir);
  pid_t pid = startAtGate(dir);
  ASSERT_NO_FATAL_FAILURE(stopAndWait(pid));
  KernelView before = KernelView::capture(pid);
  dumpKilling(pid, images);
  restoreAs(images, pid);
  // Restored in its group stop, every thread, with nothing more needed.
  EXPECT_TRUE(allStopped(pid)) << "the restored task is not stopped";
  EXPECT_EQ(ProcessControl::threadIds(pid).size(), 3u);
  KernelView after = KernelView::capture(pid);
  std::string diffs;
  for (const std::string& d : before.differences(after)) diffs += d + "\n";
  EXPECT_TRUE(diffs.empty()) << "the restored task differs:\n" << diffs;
  finishAndCompare(pid, dir, refPid, refDir);
}

TEST_F(StoppedTask, leave_running_dump_leaves_it_stopped) {
  fs::path refDir = tmp_ / "ref", dir = tmp_ / "run", images = tmp_ / "img";
  pid_t refPid = runReference(refDir);
  pid_t pid = startAtGate(dir);
  ASSERT_NO_FATAL_FAILURE(stopAndWait(pid));
  dumpLeavingRunning(pid, images);
  EXPECT_TRUE(settlesStopped(pid)) << "the task was let go running";
  finishAndCompare(pid, dir, refPid, refDir);
}

// A stopped child whose parent is dumped with it is refused by name (restored, the parent
// would be told of the stop again); the tree runs on, the child still stopped until SIGCONT.
TEST_F(StoppedTask, stopped_child_of_a_dumped_parent_is_refused_naming_it) {
  const TargetProgram& p = TargetProgram::byName("proc_tree");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run, true));
  ASSERT_TRUE(waitForLines(run.output(), "step", 2, run.pid, kWait))
      << OutputCompare::readFile(run.output());
  pid_t child = -1;
  for (pid_t c : ProcessControl::descendants(run.pid))
    if (ProcessControl::state(c) != 'Z') child = c;
  ASSERT_GT(child, 0) << "proc_tree has no live child";
  ASSERT_NO_FATAL_FAILURE(stopAndWait(child));
  CommandResult d = CryoCli::dump(run.pid, tmp_ / "img", false);
  std::string named = "pid " + std::to_string(child) + " is stopped by signal 19";
  expectFailure(d, {named.c_str(), "parent pid [0-9]+ is dumped with it"});
  EXPECT_FALSE(fs::exists(tmp_ / "img"));
  EXPECT_TRUE(settlesStopped(child)) << "the refused dump let the stopped child run";
  ASSERT_EQ(::kill(child, SIGCONT), 0);
  openGate(run);
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(p, ref, run, st);
}

}  // namespace

}  // namespace cryo::test
