// FidelityTest: a restored tree is the checkpointed tree as the kernel shows it: every process's
// identity, credentials, signal dispositions and masks, limits, directories, mappings with their
// VmFlags, fds with their flags, positions and locks, and threads are compared field by field
// between the tree held at its gate before the dump and the tree restored stopped.
#include <filesystem>
#include <thread>

#include "CheckpointFixture.h"
#include "verify/KernelView.h"
#include "OutputCompare.h"
#include "StoreRun.h"

namespace fs = std::filesystem;

namespace cryo::test {

namespace {

class Fidelity : public CheckpointFixture, public ::testing::WithParamInterface<std::string> {};

TEST_P(Fidelity, restored_tree_shows_the_kernel_what_the_checkpointed_tree_did) {
  const TargetProgram& p = TargetProgram::byName(GetParam());
  std::string why;
  if (!p.available(&why)) GTEST_SKIP() << why;
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run, true));
  // Held at its gate, the tree holds still: what it shows now is what the dump takes.
  fs::path reached = run.gate.string() + ".reached";
  ASSERT_TRUE(waitForFile(reached, run.pid)) << "the program never reached its gate";
  KernelView before = KernelView::capture(run.pid);
  fs::path images = tmp_ / "img";
  dumpKilling(run.pid, images);
  restoreAs(images, run.pid, true);
  KernelView after = KernelView::capture(run.pid);
  std::string diffs;
  for (const std::string& d : before.differences(after)) diffs += d + "\n";
  EXPECT_TRUE(diffs.empty()) << "the restored tree differs:\n" << diffs;
  resumeTree(run.pid);
  openGate(run);
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(p, ref, run, st);
}

// The gated programs that hold still at their gate (posix_timers does not: its periodic timers
// run its handler, with their signals blocked, while it waits).
INSTANTIATE_TEST_SUITE_P(Programs, Fidelity,
                         ::testing::Values("anon_fds", "proc_tree", "shm_tree", "shell_pipeline",
                                           "unix_sockets", "unix_server", "file_locks",
                                           "shared_tables", "cow_tree", "unix_backlog_rights"));

}  // namespace

}  // namespace cryo::test
