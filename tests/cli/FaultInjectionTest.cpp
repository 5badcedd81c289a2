// FaultInjectionTest: a dump or restore that fails at any injected fault point loses nothing: the task runs on unharmed, earlier images stay intact and restorable, and no half-restored process survives.
#include <signal.h>

#include "CheckpointFixture.h"
#include "OutputCompare.h"

namespace fs = std::filesystem;

namespace cryo::test {
namespace {

std::string paramName(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

class FaultedDump : public CheckpointFixture, public ::testing::WithParamInterface<std::string> {};

TEST_P(FaultedDump, leaves_task_running_unchanged_and_no_image) {
  const TargetProgram& p = TargetProgram::byName("compute_mem");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run));
  delay_.sleepFractionOf(p.nominalRunTime(), 0.2, 0.6, "run before the dump");

  fs::path images = tmp_ / "img";
  CommandResult d = CryoCli::dump(run.pid, images, false, GetParam());
  expectFailure(d, {"injected fault", GetParam().c_str()});
  EXPECT_FALSE(ProcessControl::isGone(run.pid)) << "the task died with the failed dump";
  EXPECT_FALSE(fs::exists(images)) << "a failed dump left an image directory";
  EXPECT_EQ(unexpectedEntries(tmp_.path(), {"ref", "run"}), std::set<std::string>{})
      << "a failed dump left files behind";
  EXPECT_EQ(strayChildren({ref.pid, run.pid}), std::set<pid_t>{});

  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(p, ref, run, st);
}

TEST_P(FaultedDump, keeps_earlier_image_intact_and_restorable) {
  const TargetProgram& p = TargetProgram::byName("compute_mem");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run));
  delay_.sleepFractionOf(p.nominalRunTime(), 0.15, 0.3, "run before the first dump");
  fs::path images = tmp_ / "img";
  ASSERT_NO_FATAL_FAILURE(dumpLeavingRunning(run.pid, images));
  std::map<std::string, std::string> before;
  for (const auto& e : fs::directory_iterator(images))
    before[e.path().filename().string()] = OutputCompare::readFile(e.path());

  delay_.sleepFractionOf(p.nominalRunTime(), 0.05, 0.2, "run before the faulted dump");
  CommandResult d = CryoCli::dump(run.pid, images, false, GetParam());
  expectFailure(d, {"injected fault"});
  EXPECT_FALSE(ProcessControl::isGone(run.pid)) << "the task died with the failed dump";
  std::map<std::string, std::string> after;
  for (const auto& e : fs::directory_iterator(images))
    after[e.path().filename().string()] = OutputCompare::readFile(e.path());
  EXPECT_TRUE(before == after) << "the faulted dump changed the earlier image in " << images;
  EXPECT_EQ(unexpectedEntries(tmp_.path(), {"ref", "run", "img"}), std::set<std::string>{})
      << "a failed dump left files behind";

  // The task finishes unharmed; then the earlier image brings it back from the first checkpoint,
  // and that run too ends like the uninterrupted one.
  ExitStatus first = ProcessControl::waitForExit(run.pid, kWait);
  EXPECT_TRUE(first.exitedWith(0)) << first.describe();
  ASSERT_NO_FATAL_FAILURE(restoreAs(images, run.pid));
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(p, ref, run, st);
}

INSTANTIATE_TEST_SUITE_P(Points, FaultedDump,
                         ::testing::Values("dump-after-freeze", "dump-after-memory",
                                           "dump-before-commit"),
                         paramName);

// (fault point, program): a lone process and a process tree.
class FaultedRestore
    : public CheckpointFixture,
      public ::testing::WithParamInterface<std::tuple<std::string, std::string>> {};

TEST_P(FaultedRestore, leaves_no_process_and_image_still_restores) {
  const auto& [fault, program] = GetParam();
  const TargetProgram& p = TargetProgram::byName(program);
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run));
  delay_.sleepFractionOf(p.nominalRunTime(), 0.2, 0.6, "run before the dump");
  std::set<pid_t> tree = ProcessControl::descendants(run.pid);
  tree.insert(run.pid);
  fs::path images = tmp_ / "img";
  ASSERT_NO_FATAL_FAILURE(dumpKilling(run.pid, images));

  CommandResult r = CryoCli::restore(images, fault);
  expectFailure(r, {"injected fault", fault.c_str()});
  for (pid_t pid : tree) {
    EXPECT_TRUE(ProcessControl::waitUntilGone(pid, std::chrono::seconds(5)))
        << "a process holds pid " << pid << " of the image after the failed restore";
  }
  // Children of the killed shells are orphans of the test process: reaped here.
  EXPECT_TRUE(ProcessControl::reapAll(tree, kWait));
  EXPECT_EQ(strayChildren({ref.pid}), std::set<pid_t>{}) << "processes left behind";

  // The failed attempt consumed nothing: the same image restores.
  ASSERT_NO_FATAL_FAILURE(restoreAs(images, run.pid));
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(p, ref, run, st);
}

INSTANTIATE_TEST_SUITE_P(
    Points, FaultedRestore,
    ::testing::Combine(::testing::Values("restore-after-memory", "restore-before-detach"),
                       ::testing::Values("compute_mem", "proc_tree")),
    [](const auto& info) {
      std::string s = std::get<0>(info.param) + "_" + std::get<1>(info.param);
      for (char& c : s)
        if (c == '-') c = '_';
      return s;
    });

}  // namespace
}  // namespace cryo::test
