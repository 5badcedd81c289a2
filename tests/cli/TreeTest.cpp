// TreeTest: process trees: a dump refused because of one child's fd leaves every process of the tree running unharmed; a tree checkpointed periodically by `cryo run` (each child with a tracker of its own), and the other breadth programs (shared memory, a shell pipeline, UNIX sockets, eventfd/timerfd/signalfd/epoll, POSIX timers), restore from the store like an uninterrupted run.
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

// Runs `program` under `cryo run --every 100ms` (tracker and mode `how`), kills the whole tree
// a random delay after its second checkpoint (held before its last step until then), restores the store's latest checkpoint and compares the
// finished output with an uninterrupted run. Returns the store's listing.
class Periodic : public CheckpointFixture {
 protected:
  nlohmann::json periodicRoundTrip(const std::string& program, const TrackerMode& how);
};

nlohmann::json Periodic::periodicRoundTrip(const std::string& program, const TrackerMode& how) {
  TempDir& tmp = tmp_;
  RandomDelay& delay = delay_;
  const TargetProgram& p = TargetProgram::byName(program);
  fs::path refDir = tmp / "ref", runDir = tmp / "run";
  fs::create_directories(refDir);
  fs::create_directories(runDir);
  auto ref = refDir / "output.txt";
  auto out = runDir / "output.txt";
  auto store = tmp / "store";
  pid_t refPid = ProcessControl::spawnTarget(p.argv(refDir), ref);
  std::vector<std::string> argv = {CryoCli::binary().string(), "run", "--store", store.string(),
                                   "--every", "100ms", "--tracker", how.tracker,
                                   "--freeze-mode", how.mode, "--"};
  for (const auto& a : p.argv(runDir)) argv.push_back(a);
  // The kill must find an incremental checkpoint in the store (a loaded machine may take most
  // of a second for the first, full one) and the tree still running: the program waits before
  // its last step until the gate file exists (prog_gate), which the test creates after the kill.
  fs::path gate = runDir / "gate";
  // cryo's own messages go to a file of their own: in `out`, the restored task (which writes from
  // its checkpointed offset) would overwrite only part of what cryo printed after that offset.
  fs::path err = tmp / "cryo.err";
  pid_t cryoPid = ProcessControl::spawnTarget(withStderrTo(err, argv), out,
                                              {"CRYO_TEST_GATE=" + gate.string()});
  pid_t task = taskOf(cryoPid);
  EXPECT_GT(task, 0);
  if (task <= 0) return {};
  EXPECT_TRUE(waitForCheckpoints(store, 2, cryoPid, kWait)) << "the tree ended before a second checkpoint";
  delay.sleepFractionOf(p.nominalRunTime(), 0.0, 0.6, "kill the tree after the second checkpoint and");
  ProcessControl::killTree(task, kWait);
  OutputCompare::writeFile(gate, "open\n");
  ExitStatus cryoStatus = ProcessControl::waitForExit(cryoPid, kWait);
  EXPECT_TRUE(cryoStatus.exitedWith(128 + SIGKILL))
      << cryoStatus.describe() << "; output:\n" << OutputCompare::readFile(out)
      << "\ncryo said:\n" << OutputCompare::readFile(err);
  EXPECT_TRUE(ProcessControl::waitUntilGone(task, kWait));
  ProcessControl::reapIfZombie(task);

  nlohmann::json list = listStore(store);
  EXPECT_GE(list.size(), 2u) << list.dump();
  EXPECT_GE(checkListing(list, how.mode), 1)
      << "no incremental checkpoint was taken: " << list.dump();
  restoreStoreAndCompare(store, task, refPid, ref, out, kWait);
  return list;
}

// (tracker, mode): each child process has a tracker of its own; in precopy mode the rounds
// copy every process's writes while the tree runs.
class PeriodicTree : public Periodic, public ::testing::WithParamInterface<TrackerMode> {};

TEST_P(PeriodicTree, restore_of_tree_from_periodic_store_matches_uninterrupted_run) {
  const TrackerMode& how = GetParam();
  std::string why;
  if (!backendAvailable(how.tracker, why)) GTEST_SKIP() << "backend unavailable here: " << why;
  nlohmann::json list = periodicRoundTrip("proc_tree", how);
  ASSERT_GE(list.size(), 2u);
  // The last incremental checkpoint stores far less than the tree's memory (each child's own
  // tracker found what it wrote).
  EXPECT_LT(list.back()["pages"].get<uint64_t>(), list.front()["pages"].get<uint64_t>())
      << "incremental checkpoints store as much as the full one: " << list.dump();
}

INSTANTIATE_TEST_SUITE_P(Backends, PeriodicTree,
                         ::testing::Values(TrackerMode{"uffd-wp", "stop"},
                                           TrackerMode{"uffd-wp", "precopy"},
                                           TrackerMode{"hash", "stop"}),
                         [](const auto& info) { return info.param.name(); });

// The other programs of the breadth tests under `cryo run` (its default: uffd-wp, precopy).
class PeriodicProgram : public Periodic, public ::testing::WithParamInterface<std::string> {};

TEST_P(PeriodicProgram, restore_from_periodic_store_matches_uninterrupted_run) {
  std::string why;
  if (!backendAvailable("uffd-wp", why)) GTEST_SKIP() << "backend unavailable here: " << why;
  periodicRoundTrip(GetParam(), TrackerMode{"uffd-wp", "precopy"});
}

INSTANTIATE_TEST_SUITE_P(Programs, PeriodicProgram,
                         ::testing::Values("shm_tree", "shell_pipeline", "unix_server",
                                           "unix_sockets", "anon_fds", "posix_timers"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace cryo::test
