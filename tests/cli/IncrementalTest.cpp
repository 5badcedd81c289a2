// IncrementalTest: periodic incremental checkpoints (`cryo run --every`) with each dirty-page
// backend and freeze mode: a task killed at a random moment restores from the store and
// finishes exactly like an uninterrupted run; checkpoints hold the pages written and little
// else; cryo killed in the middle of a checkpoint leaves the task running and the store
// restorable; `cryo checkpoint` and `cryo dump --parent` by hand make checkpoints that restore,
// and a store missing or corrupting a parent is refused.
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

class Precision : public CheckpointFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  // The checkpoints (numbered from 1 in the store's order) that may hold what one phase of
  // page_burst wrote: those after `after`, up to `last`.
  struct Window {
    size_t after = 0, last = 0;
    bool holds(size_t k) const { return k > after && k <= last; }
    int64_t size() const { return static_cast<int64_t>(last - after); }
  };

  // Opens the task's gate `suffix` (none: the phase began with the task) and waits for the
  // line `done` that ends the phase, then for a checkpoint that holds none of its pages; `w`:
  // the checkpoints that may hold some. One published before the gate opened was frozen before
  // the phase began; the one in progress when the line appeared may have been frozen in the
  // middle of it, and the next one holds the rest; the one after that was frozen after the line.
  void phase(const std::string& suffix, const std::string& done, Window& w) {
    w.after = suffix.empty() ? 0 : checkpointCount(store_);
    if (!suffix.empty()) OutputCompare::writeFile(gate_.string() + suffix, "open\n");
    ASSERT_TRUE(waitForLines(out_, done, 1, cryoPid_, kWait))
        << "no line \"" << done << "\":\n" << OutputCompare::readFile(out_)
        << OutputCompare::readFile(err_);
    w.last = checkpointCount(store_) + 2;
    ASSERT_TRUE(waitForCheckpoints(store_, w.last + 1, cryoPid_, kWait))
        << OutputCompare::readFile(err_);
  }

  // The pages of checkpoints k in `w` together: those written in the phase (`written`), plus
  // at most kSlack each.
  static void expectPhase(const nlohmann::json& list, const Window& w, int64_t written) {
    int64_t pages = 0;
    for (size_t k = w.after + 1; k <= w.last && k <= list.size(); ++k)
      pages += list[k - 1]["pages"].get<int64_t>();
    EXPECT_GE(pages, written) << "checkpoints " << w.after + 1 << "-" << w.last << " of "
                              << list.dump();
    EXPECT_LE(pages, written + kSlack * w.size())
        << "checkpoints " << w.after + 1 << "-" << w.last << " of " << list.dump();
  }

  static constexpr int64_t kSlack = 24;
  std::filesystem::path store_ = tmp_ / "store", out_ = tmp_ / "out.txt",
                        err_ = tmp_ / "cryo.err", gate_ = tmp_ / "gate";
  pid_t cryoPid_ = -1;
};

// page_burst touches 64 MiB, then writes exactly 1000 pages, then 500 pages of a new mapping,
// each phase when the test opens its gate, once a checkpoint taken after the previous phase
// ended is in the store. The checkpoints that may have been taken during a phase hold its
// pages together, plus at most kSlack pages each that the program touches on its own (stack,
// libc data, the new mapping's page tables' neighbours); every later one holds at most kSlack.
TEST_P(Precision, incremental_checkpoints_hold_exactly_the_pages_written) {
  std::string tracker = GetParam();
  std::string why;
  if (!backendAvailable(tracker, why)) GTEST_SKIP() << "backend unavailable here: " << why;
  cryoPid_ = ProcessControl::spawnTarget(
      withStderrTo(err_, {CryoCli::binary().string(), "run", "--store", store_.string(),
                          "--every", "250ms", "--tracker", tracker, "--",
                          programPath("page_burst")}),
      out_, {"CRYO_TEST_GATE=" + gate_.string()});
  Window startup, burst, mapped;
  ASSERT_NO_FATAL_FAILURE(phase("", "touched", startup));
  ASSERT_NO_FATAL_FAILURE(phase(".burst", "burst", burst));
  ASSERT_NO_FATAL_FAILURE(phase(".map", "mapped", mapped));
  OutputCompare::writeFile(gate_.string() + ".end", "open\n");
  ExitStatus st = ProcessControl::waitForExit(cryoPid_, kWait);
  ASSERT_TRUE(st.exitedWith(0)) << st.describe() << "\n" << OutputCompare::readFile(err_);
  nlohmann::json list = listStore(store_);
  ASSERT_GT(list.size(), mapped.last) << list.dump();
  expectPhase(list, burst, 1000);
  expectPhase(list, mapped, 500);
  for (size_t k = startup.last + 1; k <= list.size(); ++k) {  // (the start-up work aside)
    if (burst.holds(k) || mapped.holds(k)) continue;
    EXPECT_LE(list[k - 1]["pages"].get<int64_t>(), kSlack) << "checkpoint " << k << " of "
                                                           << list.dump();
  }
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

// dirty_pages by hand: a reference run, and the run to checkpoint (tmp/out.txt), which waits
// before its last step until the test opens the gate (once the task is restored), however long
// the checkpoints took.
class ManualIncremental : public CheckpointFixture {
 protected:
  void SetUp() override {
    refPid_ = ProcessControl::spawnTarget({programPath("dirty_pages")}, ref_);
    task_ = ProcessControl::spawnTarget({programPath("dirty_pages")}, out_,
                                        {"CRYO_TEST_GATE=" + gate_.string()});
    ASSERT_GT(refPid_, 0);
    ASSERT_GT(task_, 0);
  }

  // Waits until the run to checkpoint has printed `steps` step lines (it prints 59 before the
  // gate).
  void waitForSteps(size_t steps) {
    ASSERT_TRUE(waitForLines(out_, "step ", steps, task_, kWait))
        << "fewer than " << steps << " steps:\n" << OutputCompare::readFile(out_);
  }

  void openGate() { OutputCompare::writeFile(gate_, "open\n"); }

  std::filesystem::path ref_ = tmp_ / "ref.txt", out_ = tmp_ / "out.txt", gate_ = tmp_ / "gate";
  pid_t refPid_ = -1, task_ = -1;
};

// `cryo dump --parent` by hand, each a random number of steps after the one before: full,
// incremental, incremental (killing): the restore from the last one, resolved through its
// parents, finishes like an uninterrupted run.
TEST_F(ManualIncremental, dump_parent_chain_restores_like_uninterrupted_run) {
  std::string prev;
  size_t steps = 0;
  for (int i = 0; i < 3; ++i) {
    steps += static_cast<size_t>(delay_.between(5, 15, "steps before the next checkpoint"));
    ASSERT_NO_FATAL_FAILURE(waitForSteps(steps));
    std::string dir = (tmp_ / ("img" + std::to_string(i))).string();
    std::vector<std::string> argv = {CryoCli::binary().string(), "dump", "--pid",
                                     std::to_string(task_), "--images", dir};
    if (i < 2) argv.push_back("--leave-running");
    if (!prev.empty()) {
      argv.push_back("--parent");
      argv.push_back(prev);
    }
    CommandResult r = CommandRunner::run(argv, {}, kWait);
    ASSERT_TRUE(r.succeeded()) << r.describe();
    prev = dir;
  }
  ExitStatus killed = ProcessControl::waitForExit(task_, kWait);
  ASSERT_TRUE(killed.killedBy(SIGKILL)) << killed.describe();
  CommandResult shown = CryoCli::show(prev, true);
  ASSERT_TRUE(shown.succeeded()) << shown.describe();
  EXPECT_FALSE(nlohmann::json::parse(shown.out)["parent"].is_null());
  ASSERT_NO_FATAL_FAILURE(restoreAs(prev, task_));
  openGate();
  ExitStatus st = ProcessControl::waitForExit(task_, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe();
  ASSERT_TRUE(ProcessControl::waitForExit(refPid_, kWait).exitedWith(0));
  EXPECT_TRUE(OutputCompare::sameContents(ref_, out_));
}

// `cryo checkpoint` by hand, every five steps, adds incremental checkpoints to a store;
// `--keep 2` merges the older ones away and the store still restores.
TEST_F(ManualIncremental, checkpoint_command_builds_a_store_that_restores) {
  auto store = tmp_ / "store";
  for (int i = 0; i < 4; ++i) {
    ASSERT_NO_FATAL_FAILURE(waitForSteps(5 * (i + 1)));
    CommandResult r = CommandRunner::run(
        {CryoCli::binary().string(), "checkpoint", "--pid", std::to_string(task_), "--store",
         store.string(), "--keep", "2"},
        {}, kWait);
    ASSERT_TRUE(r.succeeded()) << r.describe();
  }
  nlohmann::json list = listStore(store);
  ASSERT_EQ(list.size(), 2u) << list.dump();
  EXPECT_TRUE(list[0]["parent"].is_null()) << list.dump();
  EXPECT_EQ(list[1]["parent"], list[0]["id"]) << list.dump();
  ::kill(task_, SIGKILL);
  ProcessControl::waitForExit(task_, kWait);
  CommandResult r = CommandRunner::run(
      {CryoCli::binary().string(), "restore", "--store", store.string()}, {}, kWait);
  ASSERT_TRUE(r.succeeded()) << r.describe();
  openGate();
  ExitStatus st = ProcessControl::waitForExit(task_, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe();
  ASSERT_TRUE(ProcessControl::waitForExit(refPid_, kWait).exitedWith(0));
  EXPECT_TRUE(OutputCompare::sameContents(ref_, out_));
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
