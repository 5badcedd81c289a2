// CowSharingTest: memory a parent and its forked descendants still share copy-on-write is
// shared again after a restore (the program cow_tree counts it from its own smaps; RoundTrip,
// Fidelity and VerifyPrograms run it); a restore made to give each process copies of its own
// shows in that count, so the count is what proves the sharing.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "CheckpointFixture.h"
#include "OutputCompare.h"

namespace fs = std::filesystem;

namespace cryo::test {

namespace {

class CowSharing : public CheckpointFixture {};

TEST_F(CowSharing, a_restore_that_copies_each_page_shows_in_the_task_s_own_count) {
  const TargetProgram& p = TargetProgram::byName("cow_tree");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run, true));
  ASSERT_TRUE(waitForFile(run.gate.string() + ".reached", run.pid))
      << "the program never reached its gate";
  ASSERT_NO_FATAL_FAILURE(dumpKilling(run.pid, tmp_ / "img"));
  CommandResult r = CommandRunner::run(
      {CryoCli::binary().string(), "restore", "--images", (tmp_ / "img").string()},
      {{"CRYO_FAULT", "skip:restore-cow-sharing"}}, CryoCli::kTimeout);
  ASSERT_TRUE(r.succeeded()) << r.describe();
  openGate(run);
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  ASSERT_TRUE(st.exitedWith(0)) << st.describe();
  ASSERT_TRUE(ProcessControl::waitForExit(ref.pid, kWait).exitedWith(0));
  std::ifstream in(run.output());
  std::stringstream got;
  got << in.rdbuf();
  // Each page copied: the main process shares none of its buffer any more.
  EXPECT_NE(got.str().find("main: 0 of 256 pages shared"), std::string::npos) << got.str();
  EXPECT_FALSE(OutputCompare::sameContents(ref.output(), run.output()))
      << "the uninterrupted run shows no sharing either: the count proves nothing";
}

}  // namespace

}  // namespace cryo::test
