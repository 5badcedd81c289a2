// DumpModeTest: `cryo dump` copies the task's memory while it runs (pre-copy) by default, leaves
// nothing of its own in a task it lets run on, and still takes stop-and-copy dumps when asked.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "CheckpointFixture.h"
#include "image/ImageReader.h"

namespace cryo::test {

namespace fs = std::filesystem;

namespace {

class DumpMode : public CheckpointFixture {
 protected:
  // The task's mappings as /proc/PID/maps lists them (address range, protection, path).
  static std::vector<std::string> mappings(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
      std::istringstream f(line);
      std::string range, perms, off, dev, ino, path;
      f >> range >> perms >> off >> dev >> ino;
      std::getline(f, path);
      out.push_back(range + " " + perms + path);
    }
    return out;
  }

  static std::string modeOf(const fs::path& images) {
    return ImageReader(images).manifest().mode();
  }

  // A gated compute_mem run, checkpointed with `flags` and killed, restored, and compared with
  // its uninterrupted twin; returns the image's mode.
  std::string roundTrip(const std::vector<std::string>& flags) {
    const TargetProgram& prog = TargetProgram::byName("compute_mem");
    TargetRun ref, run;
    startPair(prog, ref, run, true);
    delay_.sleepFractionOf(prog.nominalRunTime(), 0.2, 0.7, "run before the dump");
    fs::path images = tmp_ / "img";
    CommandResult d = CryoCli::dumpWith(run.pid, images, flags);
    EXPECT_TRUE(d.succeeded()) << d.describe();
    ProcessControl::waitForExit(run.pid, kWait);
    restoreAs(images, run.pid);
    openGate(run);
    expectMatchesReference(prog, ref, run, ProcessControl::waitForExit(run.pid, kWait));
    return modeOf(images);
  }
};

TEST_F(DumpMode, dump_copies_memory_while_the_task_runs_by_default) {
  EXPECT_EQ(roundTrip({}), "precopy");
}

TEST_F(DumpMode, dump_freeze_mode_stop_copies_while_the_task_is_frozen) {
  EXPECT_EQ(roundTrip({"--freeze-mode", "stop"}), "stop");
}

TEST_F(DumpMode, a_task_left_running_keeps_its_mappings_and_fds_exactly) {
  const TargetProgram& prog = TargetProgram::byName("compute_mem");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(prog, ref, run, true));
  ASSERT_TRUE(waitForGateReached(run)) << "compute_mem never reached its gate";
  auto maps = mappings(run.pid);
  auto fds = ProcessControl::fdTargets(run.pid);
  ASSERT_NO_FATAL_FAILURE(dumpLeavingRunning(run.pid, tmp_ / "img"));
  EXPECT_EQ(modeOf(tmp_ / "img"), "precopy");
  // No injection area, no userfaultfd, nothing of cryo's left behind.
  EXPECT_EQ(mappings(run.pid), maps);
  EXPECT_EQ(ProcessControl::fdTargets(run.pid), fds);
  openGate(run);
  expectMatchesReference(prog, ref, run, ProcessControl::waitForExit(run.pid, kWait));
}

TEST_F(DumpMode, precopy_with_a_parent_image_is_refused) {
  const TargetProgram& prog = TargetProgram::byName("compute_mem");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(prog, ref, run, true));
  ASSERT_NO_FATAL_FAILURE(dumpLeavingRunning(run.pid, tmp_ / "full"));
  CommandResult r = CryoCli::dumpWith(
      run.pid, tmp_ / "inc",
      {"--leave-running", "--freeze-mode", "precopy", "--parent", (tmp_ / "full").string()});
  expectFailure(r, {"precopy", "--parent"});
  EXPECT_FALSE(fs::exists(tmp_ / "inc"));
  openGate(run);
  expectMatchesReference(prog, ref, run, ProcessControl::waitForExit(run.pid, kWait));
}

}  // namespace

}  // namespace cryo::test
