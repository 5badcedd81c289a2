// TreeTest: process trees: a dump refused because of one child's fd leaves every process of the tree running unharmed, and a tree checkpointed periodically by `cryo run` (each child with a tracker of its own) restores from the store like an uninterrupted run.
#include <signal.h>

#include <nlohmann/json.hpp>

#include "CheckpointFixture.h"
#include "OutputCompare.h"
#include "StoreRun.h"

namespace fs = std::filesystem;

namespace cryo::test {
namespace {

using std::chrono::milliseconds;

class Tree : public CheckpointFixture {};

TEST_F(Tree, dump_refuses_an_unsupported_fd_of_a_child_naming_it_and_the_tree_runs_on) {
  const TargetProgram& p = TargetProgram::byName("proc_tree_inotify");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run));
  delay_.sleepFractionOf(p.nominalRunTime(), 0.2, 0.5, "run before the dump");
  std::set<pid_t> children = ProcessControl::descendants(run.pid);
  ASSERT_GE(children.size(), 4u) << "proc_tree has three children and a zombie";
  fs::path images = tmp_ / "img";
  CommandResult d = CryoCli::dump(run.pid, images, false);
  expectFailure(d, {"pid [0-9]+: fd [0-9]+", "inotify", "not supported"});
  EXPECT_FALSE(fs::exists(images)) << "a refused dump created " << images;
  EXPECT_FALSE(ProcessControl::isGone(run.pid)) << "the root died with the refused dump";
  for (pid_t c : children) {
    char st = ProcessControl::state(c).value_or('-');
    EXPECT_TRUE(st != 'T' && st != 't') << "child " << c << " was left stopped (" << st << ")";
  }
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(p, ref, run, st);
}

// (tracker, mode): in precopy mode the rounds follow the main process; its children are
// copied in the final freeze, each from its own tracker.
class PeriodicTree : public CheckpointFixture,
                     public ::testing::WithParamInterface<TrackerMode> {};

TEST_P(PeriodicTree, restore_of_tree_from_periodic_store_matches_uninterrupted_run) {
  const TrackerMode& how = GetParam();
  std::string why;
  if (!backendAvailable(how.tracker, why)) GTEST_SKIP() << "backend unavailable here: " << why;
  const milliseconds runTime(1700);
  auto ref = tmp_ / "ref.txt";
  auto out = tmp_ / "out.txt";
  auto store = tmp_ / "store";
  pid_t refPid = ProcessControl::spawnTarget({programPath("proc_tree")}, ref);
  std::vector<std::string> argv = {CryoCli::binary().string(), "run", "--store", store.string(),
                                   "--every", "100ms", "--tracker", how.tracker,
                                   "--freeze-mode", how.mode, "--", programPath("proc_tree")};
  pid_t cryoPid = ProcessControl::spawnTarget(argv, out);
  pid_t task = taskOf(cryoPid);
  ASSERT_GT(task, 0);
  delay_.sleepFractionOf(runTime, 0.4, 0.8, "kill the tree after");
  ProcessControl::killTree(task, kWait);
  ExitStatus cryoStatus = ProcessControl::waitForExit(cryoPid, kWait);
  EXPECT_TRUE(cryoStatus.exitedWith(128 + SIGKILL))
      << cryoStatus.describe() << "; output:\n" << OutputCompare::readFile(out);
  ASSERT_TRUE(ProcessControl::waitUntilGone(task, kWait));
  ProcessControl::reapIfZombie(task);

  nlohmann::json list = listStore(store);
  ASSERT_GE(list.size(), 2u) << list.dump();
  EXPECT_GE(checkListing(list, how.mode), 1)
      << "no incremental checkpoint was taken: " << list.dump();
  // The last incremental checkpoint stores far less than the tree's memory (each child's own
  // tracker found what it wrote).
  const auto& last = list.back();
  const auto& first = list.front();
  EXPECT_LT(last["pages"].get<uint64_t>(), first["pages"].get<uint64_t>())
      << "incremental checkpoints store as much as the full one: " << list.dump();

  restoreStoreAndCompare(store, task, refPid, ref, out, kWait);
}

INSTANTIATE_TEST_SUITE_P(Backends, PeriodicTree,
                         ::testing::Values(TrackerMode{"uffd-wp", "stop"},
                                           TrackerMode{"uffd-wp", "precopy"},
                                           TrackerMode{"hash", "stop"}),
                         [](const auto& info) { return info.param.name(); });

}  // namespace
}  // namespace cryo::test
