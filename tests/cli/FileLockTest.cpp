// FileLockTest: file locks come back held by their owners: POSIX record locks by the process
// that took them, OFD and flock locks by their open file descriptions (shared by a parent and
// its child), a flock lock whose taker has exited showing that taker's pid; a program that
// probes every range and lets the locks go owner by owner prints after the restore what an
// uninterrupted run prints. A lock another process took meanwhile fails the restore naming
// the lock; once it is gone the image restores. restore --verify names a lock a restore left
// out. (Refusals: SharedStateTest; the lock lines compared field by field: FidelityTest.)
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "CheckpointFixture.h"
#include "OutputCompare.h"

namespace fs = std::filesystem;

namespace cryo::test {

namespace {

class FileLocks : public CheckpointFixture {
 protected:
  void dumpAtGate(TargetRun& ref, TargetRun& run) {
    ASSERT_NO_FATAL_FAILURE(startPair(TargetProgram::byName("file_locks"), ref, run, true));
    ASSERT_TRUE(waitForGateReached(run)) << OutputCompare::readFile(run.output());
    tree_ = ProcessControl::descendants(run.pid);
    tree_.insert(run.pid);
    ASSERT_NO_FATAL_FAILURE(dumpKilling(run.pid, tmp_ / "img"));
  }

  void expectRunsOnAsTheReference(const TargetRun& ref, const TargetRun& run) {
    openGate(run);
    ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
    expectMatchesReference(TargetProgram::byName("file_locks"), ref, run, st);
  }

  std::set<pid_t> tree_;  // the pids of the dumped tree
};

TEST_F(FileLocks, every_kind_of_lock_is_held_again_by_its_owner_on_its_range) {
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(dumpAtGate(ref, run));
  ASSERT_NO_FATAL_FAILURE(restoreAs(tmp_ / "img", run.pid));
  expectRunsOnAsTheReference(ref, run);
}

// restore --verify compares the lock lines of fdinfo: a restore made to leave the locks out
// fails naming the process, the fd and the lock, and builds nothing that stays.
TEST_F(FileLocks, restore_verify_names_a_lock_left_out) {
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(TargetProgram::byName("file_locks"), ref, run, true));
  ASSERT_TRUE(waitForGateReached(run)) << OutputCompare::readFile(run.output());
  tree_ = ProcessControl::descendants(run.pid);
  tree_.insert(run.pid);
  ASSERT_NO_FATAL_FAILURE(dumpKilling(run.pid, tmp_ / "img", {"--verify-data"}));
  CommandResult bad = CommandRunner::run({CryoCli::binary().string(), "restore", "--images",
                                          (tmp_ / "img").string(), "--verify"},
                                         {{"CRYO_FAULT", "skip:restore-file-locks"}},
                                         CryoCli::kTimeout);
  std::string named = "pid " + std::to_string(run.pid) +
                      ": fd 3 lock: '[^']*POSIX ADVISORY WRITE " + std::to_string(run.pid) +
                      " 0 99[^']*' is gone";
  expectFailure(bad, {"restore --verify", named.c_str()});
  EXPECT_TRUE(ProcessControl::reapAll(tree_, kWait)) << "a failed restore left processes behind";
  ASSERT_NO_FATAL_FAILURE(restoreAs(tmp_ / "img", run.pid));
  expectRunsOnAsTheReference(ref, run);
}

TEST_F(FileLocks, a_conflicting_lock_taken_meanwhile_fails_the_restore_naming_the_lock) {
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(dumpAtGate(ref, run));
  // While the task is gone, another open file description write-locks the bytes its first
  // POSIX lock held.
  int fd = ::open((run.workdir / "locks.bin").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 10;
  fl.l_len = 1;
  ASSERT_EQ(::fcntl(fd, F_OFD_SETLK, &fl), 0);
  expectFailure(CryoCli::restore(tmp_ / "img"),
                {"pid [0-9]+: fd 3 \\(.*locks.bin\\): cannot take back its POSIX WRITE lock on "
                 "bytes 0-99",
                 "an OFD lock of another open file description conflicts"});
  // The processes the failed restore had built are gone (the child, orphaned, is reaped
  // here, its pid free again).
  EXPECT_TRUE(ProcessControl::reapAll(tree_, kWait)) << "a failed restore left processes behind";
  EXPECT_EQ(strayChildren({ref.pid}), std::set<pid_t>{}) << "processes left behind";
  ::close(fd);
  ASSERT_NO_FATAL_FAILURE(restoreAs(tmp_ / "img", run.pid));
  expectRunsOnAsTheReference(ref, run);
}

}  // namespace

}  // namespace cryo::test
