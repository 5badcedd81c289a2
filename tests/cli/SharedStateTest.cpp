// SharedStateTest: state a restore could not give back as it was is refused by name, and the
// task runs on unharmed: a file lease, a flock lock on a description a process outside the
// tree shares or that only a mapping holds, processes sharing signal handlers (clone without
// CLONE_THREAD), and an fd table shared by two processes but not with their parent. (File
// locks themselves are restored: FileLockTest; tables shared from parent to child:
// SharedTablesTest.)
#include <filesystem>
#include <fstream>

#include "CheckpointFixture.h"
#include "OutputCompare.h"
#include "StoreRun.h"

namespace fs = std::filesystem;

namespace cryo::test {

namespace {

struct Refused {
  std::string mode;
  const char* pattern;  // what the dump's error must say
};

void PrintTo(const Refused& r, std::ostream* os) { *os << r.mode; }

class SharedState : public CheckpointFixture, public ::testing::WithParamInterface<Refused> {};

TEST_P(SharedState, dump_is_refused_naming_it_and_the_task_runs_on) {
  const Refused& r = GetParam();
  fs::path refDir = tmp_ / "ref", runDir = tmp_ / "run", gate = tmp_ / "gate";
  fs::create_directories(refDir);
  fs::create_directories(runDir);
  // Started in its own directory (its lock file lives there).
  auto start = [&](const fs::path& dir, const std::vector<std::string>& env) {
    return ProcessControl::spawnTarget({"/bin/sh", "-c", "cd \"$0\" && exec \"$1\" \"$2\"",
                                        dir.string(), programPath("shared_state"), r.mode},
                                       dir / "output.txt", env);
  };
  pid_t refPid = start(refDir, {});
  pid_t pid = start(runDir, {"CRYO_TEST_GATE=" + gate.string()});
  ASSERT_TRUE(waitForLines(runDir / "output.txt", "ready", 1, pid, kWait));
  CommandResult d = CryoCli::dump(pid, tmp_ / "img", true);
  expectFailure(d, {r.pattern, "not supported"});
  EXPECT_FALSE(fs::exists(tmp_ / "img"));
  std::ofstream(gate.string()).put('\n');
  ExitStatus st = ProcessControl::waitForExit(pid, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe();
  ASSERT_TRUE(ProcessControl::waitForExit(refPid, kWait).exitedWith(0));
  EXPECT_TRUE(OutputCompare::sameContents(refDir / "output.txt", runDir / "output.txt"));
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, SharedState,
    ::testing::Values(Refused{"lease", "holds a file lease .*LEASE.*F_SETLEASE"},
                      Refused{"flock_outside",
                              "holds a flock LOCK_EX lock .*FLOCK.*outside the dumped tree"},
                      Refused{"flock_mapped", "flock lock .*no fd .*mapped.bin.*mapping"},
                      Refused{"files_siblings",
                              "share one fd table .*does not share it with its parent"},
                      Refused{"clone_sighand", "share one (signal handlers|address space)"}),
    [](const auto& info) { return info.param.mode; });

}  // namespace

}  // namespace cryo::test
