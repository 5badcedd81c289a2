// MappingFlagsTest: every mapping flag cryo restores comes back exactly (vm_flags: droppable,
// random and sequential advice, KSM-mergeable, locked, locked on fault, sealed, guard pages and
// the older advice, each on a mapping holding data): the kernel shows the restored task's
// mappings as it showed the checkpointed ones, and the run ends like an uninterrupted one. One
// the kernel gives no way to restore (a process made all mergeable by PR_SET_MEMORY_MERGE) makes
// the dump fail naming the process and the mapping, and the task runs on.
#include <filesystem>
#include <fstream>
#include <thread>

#include "CheckpointFixture.h"
#include "OutputCompare.h"
#include "StoreRun.h"
#include "verify/KernelView.h"

namespace fs = std::filesystem;

namespace cryo::test {

namespace {

class MappingFlags : public CheckpointFixture {
 protected:

  // The VmFlags of every mapping of `view`'s process `pid`, as one string.
  static std::string allMapFlags(const KernelView& view, pid_t pid) {
    std::string out;
    for (const auto& [k, v] : view.processes.at(pid))
      if (k.rfind("map ", 0) == 0) out += v.substr(v.find(" flags ")) + "\n";
    return out;
  }
};

TEST_F(MappingFlags, every_flag_comes_back_and_the_run_ends_like_an_uninterrupted_one) {
  const TargetProgram& p = TargetProgram::byName("vm_flags");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run, true));
  ASSERT_TRUE(waitForFile(run.gate.string() + ".reached", run.pid))
      << "the program never reached its gate";
  KernelView before = KernelView::capture(run.pid);
  std::string flags = allMapFlags(before, run.pid);
  for (const char* f : {" dp", " rr", " sr", " mg", " lo", " lf", " sl", " hg", " nh", " dc",
                        " dd", " wf"})
    EXPECT_NE(flags.find(f), std::string::npos) << "the program set no mapping with" << f;
  dumpKilling(run.pid, tmp_ / "img");
  ASSERT_NO_FATAL_FAILURE(restoreAs(tmp_ / "img", run.pid, true));
  KernelView after = KernelView::capture(run.pid);
  std::string diffs;
  for (const std::string& d : before.differences(after)) diffs += d + "\n";
  EXPECT_TRUE(diffs.empty()) << "the restored task's mappings differ:\n" << diffs;
  resumeTree(run.pid);
  openGate(run);
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  // Its last step, after the restore, probes the guard pages and the seal.
  expectMatchesReference(p, ref, run, st);
}

TEST_F(MappingFlags, a_process_made_all_mergeable_is_refused_naming_the_mapping) {
  fs::path dir = tmp_ / "run", gate = tmp_ / "gate";
  fs::create_directories(dir);
  pid_t pid = ProcessControl::spawnTarget({programPath("vm_flags"), "ksm_all"},
                                          dir / "output.txt", {"CRYO_TEST_GATE=" + gate.string()});
  ASSERT_TRUE(waitForLines(dir / "output.txt", "ready", 1, pid, kWait));
  CommandResult d = CryoCli::dump(pid, tmp_ / "img", false);
  expectFailure(d, {"pid [0-9]+: mapping 0x[0-9a-f]+-0x[0-9a-f]+ .*PR_SET_MEMORY_MERGE",
                    "not supported"});
  EXPECT_FALSE(fs::exists(tmp_ / "img"));
  EXPECT_FALSE(ProcessControl::isGone(pid)) << "the refused dump killed the task";
  std::ofstream(gate.string()).put('\n');
  ExitStatus st = ProcessControl::waitForExit(pid, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe();
}

}  // namespace

}  // namespace cryo::test
