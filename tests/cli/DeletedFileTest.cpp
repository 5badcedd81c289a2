// DeletedFileTest: files deleted while open or mapped come back as they were: a write-only
// file at its offset, an 80 MiB sparse file (stored without its holes: the image stays small)
// and a dense one, a file mapped MAP_SHARED whose fd and mappings are one inode again (writes
// through either seen by the other), a MAP_PRIVATE mapping with its private page, a FIFO with
// its bytes, a child's own description of the shared file (one file for the whole tree);
// /proc shows each under its old name " (deleted)" (restore --verify agrees), and
// the program prints after the restore what an uninterrupted run prints. A restore that fails
// while a deleted file has its name again leaves no name behind.
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "CheckpointFixture.h"
#include "OutputCompare.h"

namespace fs = std::filesystem;

namespace cryo::test {

namespace {

const char* const kProgram = "deleted_files";

class DeletedFiles : public CheckpointFixture {
 protected:
  void dumpAtGate(TargetRun& ref, TargetRun& run) {
    ASSERT_NO_FATAL_FAILURE(startPair(TargetProgram::byName(kProgram), ref, run, true));
    ASSERT_TRUE(waitForGateReached(run)) << OutputCompare::readFile(run.output());
    ASSERT_NO_FATAL_FAILURE(dumpKilling(run.pid, tmp_ / "img", {"--verify-data"}));
  }

  CommandResult restore(const std::map<std::string, std::string>& env = {}) {
    return CommandRunner::run({CryoCli::binary().string(), "restore", "--images",
                               (tmp_ / "img").string(), "--verify"},
                              env, CryoCli::kTimeout);
  }

  void expectRestoredAsTheReference(const TargetRun& ref, const TargetRun& run) {
    CommandResult r = restore();
    ASSERT_TRUE(r.succeeded()) << r.describe();
    ASSERT_EQ(CryoCli::restoredPid(r), run.pid) << r.describe();
    openGate(run);
    ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
    expectMatchesReference(TargetProgram::byName(kProgram), ref, run, st);
  }

  static std::set<std::string> names(const fs::path& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
    return out;
  }
};

TEST_F(DeletedFiles, come_back_with_their_bytes_offsets_names_and_shared_inodes) {
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(dumpAtGate(ref, run));
  // The 80 MiB sparse file is stored where it has data only.
  EXPECT_LT(fs::file_size(tmp_ / "img" / "pages.img"), 16u << 20);
  ASSERT_NO_FATAL_FAILURE(expectRestoredAsTheReference(ref, run));
  // The names the files had again while cryo opened them are gone.
  EXPECT_EQ(names(run.workdir), names(ref.workdir));
}

TEST_F(DeletedFiles, a_restore_failing_while_a_deleted_file_has_its_name_leaves_no_name) {
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(dumpAtGate(ref, run));
  std::set<std::string> before = names(run.workdir);
  expectFailure(restore({{"CRYO_FAULT", "restore-deleted-file-named"}}),
                {"injected fault at restore-deleted-file-named"});
  EXPECT_TRUE(ProcessControl::reapAll({run.pid}, kWait)) << "a failed restore left it behind";
  EXPECT_EQ(names(run.workdir), before);
  ASSERT_NO_FATAL_FAILURE(expectRestoredAsTheReference(ref, run));
  EXPECT_EQ(names(run.workdir), names(ref.workdir));
}

}  // namespace

}  // namespace cryo::test
