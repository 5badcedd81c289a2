// RoundTripTest: for every target program, a checkpoint taken mid-run and restored (after a kill, after a crash, twice in a row, or not at all) ends exactly like an uninterrupted run. The run checkpointed (a program with a gate) waits before its last step until the test has taken its last checkpoint and looked at the restored task, however slow the machine.
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "CheckpointFixture.h"
#include "OutputCompare.h"

namespace fs = std::filesystem;

namespace cryo::test {
namespace {

class RoundTrip : public CheckpointFixture, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    prog_ = &TargetProgram::byName(GetParam());
    std::string why;
    if (!prog_->available(&why)) GTEST_SKIP() << why;
  }

  // After a crash the files the task appended to hold what the dead original appended after the
  // checkpoint; a crash-consistent restore starts from the files as they were at the checkpoint,
  // so they are cut back to the size the image recorded (the position of the O_APPEND fd).
  void rollBackAppendedFiles(const TargetRun& run, const fs::path& images) {
    if (prog_->appendedFiles().empty()) return;
    CommandResult show = CryoCli::show(images, true);
    ASSERT_TRUE(show.succeeded()) << show.describe();
    nlohmann::json j = nlohmann::json::parse(show.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "cryo show --json printed no JSON\n" << show.describe();
    ASSERT_TRUE(j.contains("fds") && j["fds"].is_array()) << show.out;
    for (const auto& name : prog_->appendedFiles()) {
      fs::path file = run.workdir / name;
      bool found = false;
      for (const auto& fd : j["fds"]) {
        if (!fd.contains("path") || !fd["path"].is_string()) continue;
        if (fs::path(fd["path"].get<std::string>()) != file) continue;
        ASSERT_TRUE(fd.contains("pos") && fd["pos"].is_number_unsigned())
            << "the image shows no position for the fd of " << file << ": " << fd.dump();
        uint64_t pos = fd["pos"].get<uint64_t>();
        std::cout << "[crash] cutting " << file.string() << " back from "
                  << fs::file_size(file) << " to " << pos << " bytes\n";
        fs::resize_file(file, pos);
        found = true;
      }
      ASSERT_TRUE(found) << "the image shows no fd for " << file << "\n" << show.out;
    }
  }

  // The fd numbers the image recorded (`cryo show --json`).
  static std::set<int> imageFdNumbers(const fs::path& images) {
    std::set<int> out;
    CommandResult show = CryoCli::show(images, true);
    EXPECT_TRUE(show.succeeded()) << show.describe();
    nlohmann::json j = nlohmann::json::parse(show.out, nullptr, false);
    EXPECT_TRUE(!j.is_discarded() && j.contains("fds") && j["fds"].is_array()) << show.out;
    if (j.is_discarded() || !j.contains("fds")) return out;
    for (const auto& fd : j["fds"]) out.insert(fd["fd"].get<int>());
    return out;
  }

  const TargetProgram* prog_ = nullptr;
};

TEST_P(RoundTrip, restore_after_kill_matches_uninterrupted_run) {
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(*prog_, ref, run, true));
  delay_.sleepFractionOf(prog_->nominalRunTime(), 0.2, 0.7, "run before the dump");
  auto threads = ProcessControl::threadNames(run.pid);
  auto fds = ProcessControl::fdTargets(run.pid);
  EXPECT_EQ(threads.size(), static_cast<size_t>(prog_->threadsMidRun()));

  fs::path images = tmp_ / "img";
  ASSERT_NO_FATAL_FAILURE(dumpKilling(run.pid, images));
  // Left stopped, so that its threads and fds are looked at before it runs on (it may open or
  // close an fd at any time).
  ASSERT_NO_FATAL_FAILURE(restoreAs(images, run.pid, true));
  EXPECT_EQ(ProcessControl::threadNames(run.pid), threads)
      << "thread ids or names differ after restore";
  // The restored task holds exactly the fds of the image, and each one it already held when it
  // was listed before the dump is the same kind of file again (the task may open or close an
  // fd between that listing and the dump: the image is what counts).
  std::map<int, std::string> restored = ProcessControl::fdTargets(run.pid);
  ASSERT_NO_FATAL_FAILURE(resumeTree(run.pid));
  std::set<int> numbers;
  for (const auto& [fd, target] : restored) numbers.insert(fd);
  EXPECT_EQ(numbers, imageFdNumbers(images)) << "open fds differ from the image's after restore";
  for (const auto& [fd, target] : fds) {
    if (restored.count(fd)) {
      EXPECT_EQ(restored[fd], target) << "fd " << fd << " is another file after restore";
    }
  }

  openGate(run);
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(*prog_, ref, run, st);
}

TEST_P(RoundTrip, restore_after_crash_matches_uninterrupted_run) {
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(*prog_, ref, run, true));
  delay_.sleepFractionOf(prog_->nominalRunTime(), 0.2, 0.6, "run before the dump");

  fs::path images = tmp_ / "img";
  ASSERT_NO_FATAL_FAILURE(dumpLeavingRunning(run.pid, images));
  // The task runs on past the checkpoint and then crashes.
  delay_.sleepFractionOf(prog_->nominalRunTime(), 0.0, 0.1, "run on after the dump");
  ProcessControl::killTree(run.pid, kWait);  // the task crashes, children and all
  ExitStatus crashed = ProcessControl::waitForExit(run.pid, kWait);
  ASSERT_TRUE(crashed.killedBy(SIGKILL)) << crashed.describe();

  ASSERT_NO_FATAL_FAILURE(rollBackAppendedFiles(run, images));
  ASSERT_NO_FATAL_FAILURE(restoreAs(images, run.pid));
  openGate(run);
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(*prog_, ref, run, st);
}

TEST_P(RoundTrip, dump_with_leave_running_does_not_change_output) {
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(*prog_, ref, run, true));
  delay_.sleepFractionOf(prog_->nominalRunTime(), 0.2, 0.7, "run before the dump");
  ASSERT_NO_FATAL_FAILURE(dumpLeavingRunning(run.pid, tmp_ / "img"));
  openGate(run);
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(*prog_, ref, run, st);
}

TEST_P(RoundTrip, second_checkpoint_of_restored_task_matches_uninterrupted_run) {
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(*prog_, ref, run, true));
  delay_.sleepFractionOf(prog_->nominalRunTime(), 0.15, 0.3, "run before the first dump");
  ASSERT_NO_FATAL_FAILURE(dumpKilling(run.pid, tmp_ / "img1"));
  ASSERT_NO_FATAL_FAILURE(restoreAs(tmp_ / "img1", run.pid));

  delay_.sleepFractionOf(prog_->nominalRunTime(), 0.15, 0.3, "restored task runs before the second dump");
  // The restored task is a child of the test process (subreaper), so it is reaped here.
  ASSERT_NO_FATAL_FAILURE(dumpKilling(run.pid, tmp_ / "img2"));
  ASSERT_NO_FATAL_FAILURE(restoreAs(tmp_ / "img2", run.pid));

  openGate(run);
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(*prog_, ref, run, st);
}

INSTANTIATE_TEST_SUITE_P(Programs, RoundTrip,
                         ::testing::Values("compute_mem", "file_pipe", "signals", "threads",
                                           "static_compute", "py_compute", "anon_fds",
                                           "posix_timers", "proc_tree", "shm_tree", "shell_pipeline",
                                           "xz_threads", "unix_sockets", "unix_server", "vm_flags",
                                           "epoll_stale", "shared_tables", "cow_tree",
                                           "unix_backlog_rights"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace cryo::test
