// SharedTablesTest: processes that shared an fd table or cwd, root and umask with their parent
// (clone with CLONE_FILES, CLONE_FS) share them again after a restore (the program
// shared_tables proves it by what each sees of the others: RoundTrip, Fidelity and
// VerifyPrograms run it); and a restore made to create them apart fails `--verify` naming
// the process and what it no longer shares, leaving nothing running.
#include <filesystem>
#include <set>

#include "CheckpointFixture.h"
#include "OutputCompare.h"

namespace fs = std::filesystem;

namespace cryo::test {

namespace {

struct Skipped {
  const char* fault;    // the CRYO_FAULT skip that creates the child apart
  const char* pattern;  // what --verify must name
};

void PrintTo(const Skipped& s, std::ostream* os) { *os << s.fault; }

class SharedTables : public CheckpointFixture, public ::testing::WithParamInterface<Skipped> {};

TEST_P(SharedTables, verify_names_a_table_restored_apart_and_leaves_nothing_running) {
  const TargetProgram& p = TargetProgram::byName("shared_tables");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run, true));
  ASSERT_TRUE(waitForFile(run.gate.string() + ".reached", run.pid))
      << "the program never reached its gate";
  std::set<pid_t> tree = ProcessControl::descendants(run.pid);
  tree.insert(run.pid);
  ASSERT_NO_FATAL_FAILURE(dumpKilling(run.pid, tmp_ / "img", {"--verify-data"}));
  auto restore = [&](const std::map<std::string, std::string>& env) {
    return CommandRunner::run({CryoCli::binary().string(), "restore", "--images",
                               (tmp_ / "img").string(), "--verify"},
                              env, CryoCli::kTimeout);
  };
  CommandResult bad = restore({{"CRYO_FAULT", std::string("skip:") + GetParam().fault}});
  expectFailure(bad, {"restore --verify", GetParam().pattern, "killed"});
  // (Its children, orphaned when the restored tree is killed, end as zombies of the test.)
  EXPECT_TRUE(ProcessControl::reapAll(tree, kWait))
      << "a process holds one of the image's pids after the failed restore";
  EXPECT_EQ(strayChildren({ref.pid}), std::set<pid_t>{}) << "processes left behind";
  // The refused restore changed nothing: the image restores, shared, and runs on.
  CommandResult good = restore({});
  ASSERT_TRUE(good.succeeded()) << good.describe();
  openGate(run);
  expectMatchesReference(p, ref, run, ProcessControl::waitForExit(run.pid, kWait));
}

INSTANTIATE_TEST_SUITE_P(
    Faults, SharedTables,
    ::testing::Values(
        Skipped{"restore-shared-fd-table", "shared with parent: 'files fs' != 'fs'"},
        Skipped{"restore-shared-fs", "shared with parent: 'files fs' != 'files'"}),
    [](const auto& info) {
      std::string n = info.param.fault;
      for (char& c : n)
        if (c == '-') c = '_';
      return n;
    });

}  // namespace

}  // namespace cryo::test
