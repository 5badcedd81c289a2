// VerifyTest: `cryo restore --verify` compares what the kernel shows of every restored process,
// before it runs, with the view the dump recorded: a faithful restore of each program passes
// and runs on like an uninterrupted run; a restore made to skip one kind of state
// (CRYO_FAULT=skip:restore-madvise) fails naming the process, the mapping and the field, and
// leaves nothing running (a plain restore of the same image then succeeds).
#include <signal.h>

#include <filesystem>
#include <thread>

#include "CheckpointFixture.h"
#include "OutputCompare.h"
#include "StoreRun.h"

namespace fs = std::filesystem;

namespace cryo::test {

namespace {

class Verify : public CheckpointFixture {
 protected:
  static CommandResult restoreVerify(const fs::path& images,
                                     const std::map<std::string, std::string>& env = {}) {
    return CommandRunner::run(
        {CryoCli::binary().string(), "restore", "--images", images.string(), "--verify"}, env,
        CryoCli::kTimeout);
  }

  // Starts `name` (reference and gated run), dumps the run at its gate (killing it).
  void dumpAtGate(const std::string& name, TargetRun& ref, TargetRun& run) {
    const TargetProgram& p = TargetProgram::byName(name);
    ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run, true));
    ASSERT_TRUE(waitForFile(run.gate.string() + ".reached", run.pid))
        << "the program never reached its gate";
    dumpKilling(run.pid, tmp_ / "img", {"--verify-data"});
  }
};

// An image taken without --verify-data holds no view: --verify refuses it before building.
TEST_F(Verify, an_image_without_verify_data_is_refused_before_anything_is_built) {
  const TargetProgram& p = TargetProgram::byName("compute_mem");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run, true));
  ASSERT_NO_FATAL_FAILURE(dumpKilling(run.pid, tmp_ / "img"));
  expectFailure(restoreVerify(tmp_ / "img"), {"no kernel view", "--verify-data"});
  EXPECT_TRUE(ProcessControl::isGone(run.pid)) << "a task was built from the image";
  ASSERT_NO_FATAL_FAILURE(restoreAs(tmp_ / "img", run.pid));
  openGate(run);
  expectMatchesReference(p, ref, run, ProcessControl::waitForExit(run.pid, kWait));
}

class VerifyPrograms : public Verify, public ::testing::WithParamInterface<std::string> {};

TEST_P(VerifyPrograms, a_faithful_restore_passes_and_runs_on) {
  const TargetProgram& p = TargetProgram::byName(GetParam());
  std::string why;
  if (!p.available(&why)) GTEST_SKIP() << why;
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(dumpAtGate(GetParam(), ref, run));
  CommandResult r = restoreVerify(tmp_ / "img");
  ASSERT_TRUE(r.succeeded()) << r.describe();
  ASSERT_EQ(CryoCli::restoredPid(r), std::optional<pid_t>(run.pid)) << r.describe();
  openGate(run);
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(p, ref, run, st);
}

INSTANTIATE_TEST_SUITE_P(Programs, VerifyPrograms,
                         // (shm_tree: a memfd shared by the tree, whose offset the dump's
                         // SEEK_DATA once moved, and --verify caught.)
                         ::testing::Values("vm_flags", "anon_fds", "proc_tree", "shm_tree",
                                           "signals", "threads", "unix_sockets", "unix_server",
                                           "epoll_stale",
                                           "file_locks", "shared_tables", "cow_tree",
                                           "unix_backlog_rights"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST_F(Verify, a_restore_that_skipped_state_fails_naming_it_and_leaves_nothing_running) {
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(dumpAtGate("vm_flags", ref, run));
  CommandResult bad = restoreVerify(tmp_ / "img", {{"CRYO_FAULT", "skip:restore-madvise"}});
  // The random-read advice is one of those skipped: its mapping is named with its flags.
  // (Without their advice, neighbouring mappings may also merge: "is gone", "is new".)
  std::string named = "pid " + std::to_string(run.pid) +
                      ": map [0-9a-f]+-[0-9a-f]+: '[^']* rr[^']*' (!=|is gone)";
  expectFailure(bad, {"restore --verify", named.c_str(), "killed"});
  EXPECT_TRUE(ProcessControl::waitUntilGone(run.pid, std::chrono::seconds(5)))
      << "a process holds the image's pid " << run.pid << " after the failed restore";
  ProcessControl::reapIfZombie(run.pid);
  EXPECT_EQ(strayChildren({ref.pid}), std::set<pid_t>{}) << "processes left behind";
  // Nothing was changed by the refused restore: the image restores (and verifies) again.
  CommandResult good = restoreVerify(tmp_ / "img");
  ASSERT_TRUE(good.succeeded()) << good.describe();
  openGate(run);
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(TargetProgram::byName("vm_flags"), ref, run, st);
}

}  // namespace

}  // namespace cryo::test
