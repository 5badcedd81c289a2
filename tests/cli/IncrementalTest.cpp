// IncrementalTest: periodic incremental checkpoints (`cryo run --every`) with each dirty-page
// backend and freeze mode: a task killed at a random moment restores from the store and
// finishes exactly like an uninterrupted run; checkpoints hold the pages written and little
// else; cryo killed in the middle of a checkpoint leaves the task running and the store
// restorable.
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "CheckpointFixture.h"
#include "OutputCompare.h"
#include "StoreRun.h"

namespace cryo::test {

namespace {

using std::chrono::milliseconds;

class Incremental
    : public CheckpointFixture,
      public ::testing::WithParamInterface<std::tuple<std::string, TrackerMode>> {
 protected:
  // Runs `program` under `cryo run --every 100ms` (backend and freeze mode `how`), kills the
  // task after a random part of its run, restores the store's latest checkpoint and checks the
  // finished output equals an uninterrupted run's. Every checkpoint must record the mode.
  void killAndRestore(const std::string& program, const TrackerMode& how, milliseconds runTime) {
    std::string why;
    if (!backendAvailable(how.tracker, why)) GTEST_SKIP() << "backend unavailable here: " << why;
    auto ref = tmp_ / "ref.txt";
    auto out = tmp_ / "out.txt";
    auto store = tmp_ / "store";
    pid_t refPid = ProcessControl::spawnTarget({programPath(program)}, ref);
    std::vector<std::string> argv = {CryoCli::binary().string(), "run", "--store", store.string(),
                                     "--every", "100ms", "--tracker", how.tracker,
                                     "--freeze-mode", how.mode, "--", programPath(program)};
    // cryo's messages go to a file of their own (the restored task rewrites `out` only from its
    // checkpointed offset on).
    auto err = tmp_ / "cryo.err";
    pid_t cryoPid = ProcessControl::spawnTarget(withStderrTo(err, argv), out);
    pid_t task = taskOf(cryoPid);
    ASSERT_GT(task, 0);
    delay_.sleepFractionOf(runTime, 0.35, 0.8, "kill the task after");
    ::kill(task, SIGKILL);
    ExitStatus cryoStatus = ProcessControl::waitForExit(cryoPid, kWait);
    EXPECT_TRUE(cryoStatus.exitedWith(128 + SIGKILL))
        << cryoStatus.describe() << "; output:\n" << OutputCompare::readFile(out)
        << "\ncryo said:\n" << OutputCompare::readFile(err);
    ASSERT_TRUE(ProcessControl::waitUntilGone(task, kWait));
    ProcessControl::reapIfZombie(task);
    nlohmann::json list = listStore(store);
    ASSERT_GE(list.size(), 2u) << list.dump();
    EXPECT_GE(checkListing(list, how.mode), 1)
        << "no incremental checkpoint was taken: " << list.dump();
    restoreStoreAndCompare(store, task, refPid, ref, out, kWait);
  }
};

TEST_P(Incremental, restore_from_periodic_store_matches_uninterrupted_run) {
  auto [program, how] = GetParam();
  milliseconds runTime = program == "dirty_pages" ? milliseconds(2200) : milliseconds(1850);
  killAndRestore(program, how, runTime);
}

// Every backend in stop mode, and precopy with the one backend that collects while the task
// runs. Names: program_tracker_mode, e.g. compute_mem_uffd_wp_precopy.
INSTANTIATE_TEST_SUITE_P(
    Backends, Incremental,
    ::testing::Combine(::testing::Values("compute_mem", "threads", "dirty_pages"),
                       ::testing::Values(TrackerMode{"uffd-wp", "stop"},
                                         TrackerMode{"uffd-wp", "precopy"},
                                         TrackerMode{"soft-dirty", "stop"},
                                         TrackerMode{"hash", "stop"})),
    [](const auto& info) {
      return std::get<0>(info.param) + "_" + std::get<1>(info.param).name();
    });

class Precision : public CheckpointFixture, public ::testing::WithParamInterface<std::string> {};

// page_burst writes exactly 1000 pages, later 500 pages of a new mapping. The checkpoints that
// follow hold those pages plus at most kSlack pages the program touches on its own (stack,
// libc data, the new mapping's page tables' neighbours); the others hold at most kSlack.
TEST_P(Precision, incremental_checkpoints_hold_exactly_the_pages_written) {
  constexpr int kSlack = 24;
  std::string tracker = GetParam();
  std::string why;
  if (!backendAvailable(tracker, why)) GTEST_SKIP() << "backend unavailable here: " << why;
  auto store = tmp_ / "store";
  pid_t cryoPid = ProcessControl::spawnTarget(
      {CryoCli::binary().string(), "run", "--store", store.string(), "--every", "250ms",
       "--tracker", tracker, "--", programPath("page_burst")},
      tmp_ / "out.txt");
  ExitStatus st = ProcessControl::waitForExit(cryoPid, kWait);
  ASSERT_TRUE(st.exitedWith(0)) << st.describe();
  nlohmann::json list = listStore(store);
  std::vector<int64_t> pages;
  for (const auto& c : list)
    if (!c["parent"].is_null()) pages.push_back(c["pages"].get<int64_t>());
  ASSERT_GE(pages.size(), 6u) << list.dump();
  int sawBurst = 0, sawNewMapping = 0;
  for (size_t i = 1; i < pages.size(); ++i) {  // the first incremental may see start-up work
    int64_t p = pages[i];
    if (p >= 1000 && p <= 1000 + kSlack) ++sawBurst;
    else if (p >= 500 && p <= 500 + kSlack) ++sawNewMapping;
    else EXPECT_LE(p, kSlack) << "checkpoint " << i << " of " << list.dump();
  }
  EXPECT_EQ(sawBurst, 1) << list.dump();
  EXPECT_EQ(sawNewMapping, 1) << list.dump();
}

INSTANTIATE_TEST_SUITE_P(Backends, Precision, ::testing::Values("uffd-wp", "soft-dirty", "hash"),
                         [](const auto& info) {
                           std::string t = info.param;
                           for (char& c : t)
                             if (c == '-') c = '_';
                           return t;
                         });

class CrashDuringCheckpoint : public CheckpointFixture,
                              public ::testing::WithParamInterface<std::string> {};

// cryo SIGKILLed inside its fourth checkpoint (for inject-batch: while a thread of the task runs
// a batch of injected syscalls, which it must finish and then put itself back): the task runs on
// unharmed (its output equals an uninterrupted run's) and the store restores the third one.
TEST_P(CrashDuringCheckpoint, task_runs_on_and_store_restores_previous_checkpoint) {
  auto ref = tmp_ / "ref.txt";
  auto out = tmp_ / "out.txt";
  auto store = tmp_ / "store";
  pid_t refPid = ProcessControl::spawnTarget({programPath("threads")}, ref);
  // inject-batch is passed twice per checkpoint (signal handlers, then timers and prctl
  // flags): the kill lands in the fourth checkpoint's first batch, a thread running it.
  std::string skip = GetParam() == "inject-batch" ? "6" : "3";
  pid_t cryoPid = ProcessControl::spawnTarget(
      {"/usr/bin/env", "CRYO_FAULT=" + GetParam() + ":kill", "CRYO_FAULT_SKIP=" + skip,
       CryoCli::binary().string(), "run", "--store", store.string(), "--every", "100ms", "--",
       programPath("threads")},
      out);
  pid_t task = taskOf(cryoPid);
  ASSERT_GT(task, 0);
  ExitStatus cryoStatus = ProcessControl::waitForExit(cryoPid, kWait);
  ASSERT_TRUE(cryoStatus.killedBy(SIGKILL)) << cryoStatus.describe();
  // The orphaned task is reparented to us (subreaper) and must finish normally.
  ExitStatus taskStatus = ProcessControl::waitForExit(task, kWait);
  EXPECT_TRUE(taskStatus.exitedWith(0) || taskStatus.kind() == ExitStatus::Kind::NotAChild)
      << taskStatus.describe();
  ASSERT_TRUE(ProcessControl::waitForExit(refPid, kWait).exitedWith(0));
  EXPECT_TRUE(OutputCompare::sameContents(ref, out)) << "the task was disturbed by cryo's death";

  nlohmann::json list = listStore(store);
  ASSERT_EQ(list.size(), 3u) << list.dump();
  for (const auto& c : list) EXPECT_TRUE(c["complete"].get<bool>()) << c.dump();
  CommandResult r = CommandRunner::run(
      {CryoCli::binary().string(), "restore", "--store", store.string()}, {}, kWait);
  ASSERT_TRUE(r.succeeded()) << r.describe();
  auto pid = CryoCli::restoredPid(r);
  ASSERT_TRUE(pid.has_value());
  EXPECT_TRUE(ProcessControl::waitForExit(*pid, kWait).exitedWith(0));
  EXPECT_TRUE(OutputCompare::sameContents(ref, out));
}

INSTANTIATE_TEST_SUITE_P(Points, CrashDuringCheckpoint,
                         ::testing::Values("dump-after-freeze", "dump-after-memory",
                                           "dump-before-commit", "inject-batch"),
                         [](const auto& info) {
                           std::string t = info.param;
                           for (char& c : t)
                             if (c == '-') c = '_';
                           return t;
                         });

class ManualIncremental : public CheckpointFixture {};

// `cryo dump --parent` by hand: full, incremental, incremental (killing): the restore from the
// last one, resolved through its parents, finishes like an uninterrupted run.
TEST_F(ManualIncremental, dump_parent_chain_restores_like_uninterrupted_run) {
  auto ref = tmp_ / "ref.txt";
  auto out = tmp_ / "out.txt";
  pid_t refPid = ProcessControl::spawnTarget({programPath("dirty_pages")}, ref);
  pid_t task = ProcessControl::spawnTarget({programPath("dirty_pages")}, out);
  std::string prev;
  for (int i = 0; i < 3; ++i) {
    delay_.sleepFractionOf(milliseconds(2200), 0.1, 0.2, "next checkpoint after");
    std::string dir = (tmp_ / ("img" + std::to_string(i))).string();
    std::vector<std::string> argv = {CryoCli::binary().string(), "dump", "--pid",
                                     std::to_string(task), "--images", dir};
    if (i < 2) argv.push_back("--leave-running");
    if (!prev.empty()) {
      argv.push_back("--parent");
      argv.push_back(prev);
    }
    CommandResult r = CommandRunner::run(argv, {}, kWait);
    ASSERT_TRUE(r.succeeded()) << r.describe();
    prev = dir;
  }
  ExitStatus killed = ProcessControl::waitForExit(task, kWait);
  ASSERT_TRUE(killed.killedBy(SIGKILL)) << killed.describe();
  CommandResult shown = CryoCli::show(prev, true);
  ASSERT_TRUE(shown.succeeded()) << shown.describe();
  EXPECT_FALSE(nlohmann::json::parse(shown.out)["parent"].is_null());
  restoreAs(prev, task);
  ExitStatus st = ProcessControl::waitForExit(task, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe();
  ASSERT_TRUE(ProcessControl::waitForExit(refPid, kWait).exitedWith(0));
  EXPECT_TRUE(OutputCompare::sameContents(ref, out));
}

// `cryo checkpoint` by hand adds incremental checkpoints to a store; `--keep 2` merges the
// older ones away and the store still restores.
TEST_F(ManualIncremental, checkpoint_command_builds_a_store_that_restores) {
  auto ref = tmp_ / "ref.txt";
  auto out = tmp_ / "out.txt";
  auto store = tmp_ / "store";
  pid_t refPid = ProcessControl::spawnTarget({programPath("dirty_pages")}, ref);
  pid_t task = ProcessControl::spawnTarget({programPath("dirty_pages")}, out);
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(milliseconds(150));
    CommandResult r = CommandRunner::run(
        {CryoCli::binary().string(), "checkpoint", "--pid", std::to_string(task), "--store",
         store.string(), "--keep", "2"},
        {}, kWait);
    ASSERT_TRUE(r.succeeded()) << r.describe();
  }
  nlohmann::json list = listStore(store);
  ASSERT_EQ(list.size(), 2u) << list.dump();
  EXPECT_TRUE(list[0]["parent"].is_null()) << list.dump();
  EXPECT_EQ(list[1]["parent"], list[0]["id"]) << list.dump();
  ::kill(task, SIGKILL);
  ProcessControl::waitForExit(task, kWait);
  CommandResult r = CommandRunner::run(
      {CryoCli::binary().string(), "restore", "--store", store.string()}, {}, kWait);
  ASSERT_TRUE(r.succeeded()) << r.describe();
  ExitStatus st = ProcessControl::waitForExit(task, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe();
  ASSERT_TRUE(ProcessControl::waitForExit(refPid, kWait).exitedWith(0));
  EXPECT_TRUE(OutputCompare::sameContents(ref, out));
}

class BrokenStore : public CheckpointFixture {
 protected:
  // A store of several checkpoints of compute_mem (the task is killed afterwards).
  std::filesystem::path makeStore() {
    auto store = tmp_ / "store";
    pid_t cryoPid = ProcessControl::spawnTarget(
        {CryoCli::binary().string(), "run", "--store", store.string(), "--every", "150ms", "--",
         programPath("compute_mem")},
        tmp_ / "out.txt");
    pid_t task = taskOf(cryoPid);
    std::this_thread::sleep_for(milliseconds(900));
    ::kill(task, SIGKILL);
    ProcessControl::waitForExit(cryoPid, kWait);
    ProcessControl::waitUntilGone(task, kWait);
    ProcessControl::reapIfZombie(task);
    return store;
  }
};

TEST_F(BrokenStore, missing_parent_is_refused_by_ls_and_restore) {
  auto store = makeStore();
  nlohmann::json list = listStore(store);
  ASSERT_GE(list.size(), 3u);
  std::string victim = list[list.size() - 2]["id"];
  std::filesystem::remove_all(store / victim);
  nlohmann::json after = listStore(store);
  EXPECT_FALSE(after.back()["complete"].get<bool>()) << after.dump();
  EXPECT_NE(after.back()["problem"].get<std::string>().find("missing"), std::string::npos);
  CommandResult r = CommandRunner::run(
      {CryoCli::binary().string(), "restore", "--store", store.string()}, {}, kWait);
  expectFailure(r, {"cannot be restored", "missing"});
}

TEST_F(BrokenStore, corrupt_parent_is_refused_by_ls_and_restore) {
  auto store = makeStore();
  nlohmann::json list = listStore(store);
  ASSERT_GE(list.size(), 3u);
  auto tree = store / list[list.size() - 2]["id"].get<std::string>() / "tree.pb";
  std::string data = OutputCompare::readFile(tree);
  data[data.size() / 2] ^= 0x40;
  OutputCompare::writeFile(tree, data);
  nlohmann::json after = listStore(store);
  EXPECT_FALSE(after.back()["complete"].get<bool>()) << after.dump();
  CommandResult r = CommandRunner::run(
      {CryoCli::binary().string(), "restore", "--store", store.string()}, {}, kWait);
  expectFailure(r, {"cannot be restored", "corrupt"});
}

}  // namespace

}  // namespace cryo::test
