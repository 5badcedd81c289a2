// BadInputTest: cryo refuses damaged or impossible input (missing pid, corrupt, truncated or foreign-version images, a pid in use, a kind of fd it cannot checkpoint) with a clear message and leaves no process behind.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "CheckpointFixture.h"
#include "OutputCompare.h"
#include "StoreRun.h"

namespace fs = std::filesystem;

namespace cryo::test {
namespace {

// A fresh image of compute_mem, taken by a killing dump: the image's pid is free again.
class BadImage : public CheckpointFixture {
 protected:
  void SetUp() override {
    const TargetProgram& p = TargetProgram::byName("compute_mem");
    TargetRun run = p.start(tmp_ / "run");
    ASSERT_GT(run.pid, 0);
    pid_ = run.pid;
    delay_.sleepFractionOf(p.nominalRunTime(), 0.1, 0.3, "run before the dump");
    images_ = tmp_ / "img";
    ASSERT_NO_FATAL_FAILURE(dumpKilling(pid_, images_));
  }

  static void flipByteInMiddle(const fs::path& file) {
    std::string data = OutputCompare::readFile(file);
    ASSERT_FALSE(data.empty()) << file << " is empty";
    size_t at = data.size() / 2;
    data[at] = static_cast<char>(data[at] ^ 0x5A);
    OutputCompare::writeFile(file, data);
    std::cout << "[corrupt] flipped byte " << at << " of " << file.string() << "\n";
  }

  static void truncateToHalf(const fs::path& file) {
    auto size = fs::file_size(file);
    fs::resize_file(file, size / 2);
    std::cout << "[corrupt] truncated " << file.string() << " from " << size << " to "
              << size / 2 << " bytes\n";
  }

  // Restore must fail with stderr matching every pattern, and leave nothing running.
  void expectRestoreRefused(std::initializer_list<const char*> patterns) {
    CommandResult r = CryoCli::restore(images_);
    expectFailure(r, patterns);
    EXPECT_TRUE(ProcessControl::waitUntilGone(pid_, std::chrono::seconds(5)))
        << "a process holds the image's pid " << pid_ << " after the failed restore";
    ProcessControl::reapIfZombie(pid_);
    EXPECT_EQ(strayChildren({}), std::set<pid_t>{}) << "processes left behind";
  }

  pid_t pid_ = -1;
  fs::path images_;
};

TEST_F(BadImage, restore_rejects_flipped_byte_in_pages) {
  flipByteInMiddle(images_ / "pages.img");
  expectRestoreRefused({"checksum|corrupt|mismatch", "page"});
}

TEST_F(BadImage, restore_rejects_flipped_byte_in_tree) {
  flipByteInMiddle(images_ / "tree.pb");
  expectRestoreRefused({"checksum|corrupt|mismatch", "tree\\.pb"});
}

TEST_F(BadImage, restore_rejects_truncated_pages) {
  truncateToHalf(images_ / "pages.img");
  expectRestoreRefused({"truncat|too short|size", "pages\\.img"});
}

TEST_F(BadImage, restore_rejects_truncated_manifest) {
  truncateToHalf(images_ / "manifest");
  expectRestoreRefused({"truncat|too short|corrupt", "manifest"});
}

TEST_F(BadImage, restore_rejects_unknown_format_version) {
  std::string m = OutputCompare::readFile(images_ / "manifest");
  ASSERT_GE(m.size(), 12u);
  ASSERT_EQ(m.substr(0, 8), std::string("CRYOIMG\n"));
  const char v99[4] = {99, 0, 0, 0};
  m.replace(8, 4, v99, 4);
  OutputCompare::writeFile(images_ / "manifest", m);
  expectRestoreRefused({"version", "\\b99\\b"});
}

TEST_F(BadImage, intact_image_restores_after_show) {
  // The image the other cases damage is itself good: show reads it and restore brings it back.
  CommandResult show = CryoCli::show(images_, false);
  ASSERT_TRUE(show.succeeded()) << show.describe();
  EXPECT_NE(show.out.find(std::to_string(pid_)), std::string::npos)
      << "cryo show does not mention pid " << pid_ << "\n" << show.out;
  ASSERT_NO_FATAL_FAILURE(restoreAs(images_, pid_));
  ExitStatus st = ProcessControl::waitForExit(pid_, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe() << "\n"
                                << OutputCompare::readFile(tmp_ / "run" / "output.txt");
}

class BadInput : public CheckpointFixture {};

TEST_F(BadInput, dump_of_nonexistent_pid_fails_cleanly) {
  pid_t pid = ProcessControl::unusedPid();
  fs::path images = tmp_ / "img";
  CommandResult r = CryoCli::dump(pid, images, false);
  expectFailure(r, {"no (such )?process|does not exist|not found|no longer exists",
                    ("\\b" + std::to_string(pid) + "\\b").c_str()});
  EXPECT_FALSE(fs::exists(images)) << "a failed dump created " << images;
  EXPECT_EQ(unexpectedEntries(tmp_.path(), {}), std::set<std::string>{})
      << "a failed dump left files behind";
  EXPECT_EQ(strayChildren({}), std::set<pid_t>{});
}

TEST_F(BadInput, restore_of_missing_image_fails_cleanly) {
  fs::path images = tmp_ / "no-such-image";
  CommandResult r = CryoCli::restore(images);
  expectFailure(r, {"does not exist|no such|not found|missing", "no-such-image"});
  EXPECT_EQ(strayChildren({}), std::set<pid_t>{});
}

TEST_F(BadInput, dump_refuses_to_replace_a_directory_that_is_not_an_image) {
  const TargetProgram& p = TargetProgram::byName("compute_mem");
  TargetRun run = p.start(tmp_ / "run");
  ASSERT_GT(run.pid, 0);
  fs::path images = tmp_ / "precious";
  fs::create_directories(images);
  OutputCompare::writeFile(images / "notes.txt", "not an image\n");

  CommandResult d = CryoCli::dump(run.pid, images, false);
  expectFailure(d, {"precious", "not .*image|refus|exists|not empty"});
  EXPECT_EQ(OutputCompare::readFile(images / "notes.txt"), "not an image\n");
  EXPECT_EQ(unexpectedEntries(images, {"notes.txt"}), std::set<std::string>{});
  EXPECT_EQ(unexpectedEntries(tmp_.path(), {"run", "precious"}), std::set<std::string>{});
  EXPECT_FALSE(ProcessControl::isGone(run.pid)) << "the task died with the refused dump";
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe();
}

TEST_F(BadInput, restore_fails_while_pid_is_in_use_and_original_is_unharmed) {
  const TargetProgram& p = TargetProgram::byName("compute_mem");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run));
  delay_.sleepFractionOf(p.nominalRunTime(), 0.2, 0.4, "run before the dump");
  fs::path images = tmp_ / "img";
  ASSERT_NO_FATAL_FAILURE(dumpLeavingRunning(run.pid, images));

  // The original still holds the pid.
  CommandResult r = CryoCli::restore(images);
  std::string pidRe = "\\b" + std::to_string(run.pid) + "\\b";
  expectFailure(r, {pidRe.c_str(), "in use|held|taken|exists|busy|already|occupied"});
  EXPECT_EQ(strayChildren({ref.pid, run.pid}), std::set<pid_t>{}) << "processes left behind";

  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(p, ref, run, st);
}

TEST_F(BadInput, dump_refuses_an_inotify_fd_naming_it_and_the_task_runs_on_unharmed) {
  const TargetProgram& p = TargetProgram::byName("inotify_watch");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run));
  delay_.sleepFractionOf(p.nominalRunTime(), 0.2, 0.5, "run before the dump");
  fs::path images = tmp_ / "img";
  CommandResult d = CryoCli::dump(run.pid, images, false);
  expectFailure(d, {"\\bfd 7\\b", "inotify", "not supported"});
  EXPECT_FALSE(fs::exists(images)) << "a refused dump created " << images;
  EXPECT_EQ(unexpectedEntries(tmp_.path(), {"ref", "run"}), std::set<std::string>{})
      << "a refused dump left files behind";
  EXPECT_FALSE(ProcessControl::isGone(run.pid)) << "the task died with the refused dump";
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(p, ref, run, st);
}

TEST_F(BadInput, dump_refuses_an_epoll_entry_whose_file_only_another_process_holds_and_the_task_runs_on) {
  const TargetProgram& p = TargetProgram::byName("epoll_stale_child");
  TargetRun ref, run;
  ASSERT_NO_FATAL_FAILURE(startPair(p, ref, run, true));
  delay_.sleepFractionOf(p.nominalRunTime(), 0.2, 0.5, "run before the dump");
  fs::path images = tmp_ / "img";
  CommandResult d = CryoCli::dump(run.pid, images, true);
  expectFailure(d, {"\\bfd 8\\b", "epoll", "no longer at fd 5", "another process"});
  EXPECT_FALSE(fs::exists(images)) << "a refused dump created " << images;
  EXPECT_FALSE(ProcessControl::isGone(run.pid)) << "the task died with the refused dump";
  openGate(run);
  ExitStatus st = ProcessControl::waitForExit(run.pid, kWait);
  expectMatchesReference(p, ref, run, st);
}

TEST_F(BadInput, dump_refuses_a_task_in_another_namespace_naming_it_and_the_task_runs_on) {
  if (::access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "/usr/bin/unshare is not installed";
  auto out = tmp_ / "out.txt";
  // unshare(1) execs the program in a new UTS namespace: same pid.
  pid_t pid = ProcessControl::spawnTarget({"/usr/bin/unshare", "--uts", programPath("compute_mem")},
                                          out);
  ASSERT_GT(pid, 0);
  auto ref = tmp_ / "ref.txt";
  pid_t refPid = ProcessControl::spawnTarget({programPath("compute_mem")}, ref);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  fs::path images = tmp_ / "img";
  CommandResult d = CryoCli::dump(pid, images, false);
  expectFailure(d, {"pid [0-9]+", "uts namespace", "not supported"});
  EXPECT_FALSE(fs::exists(images)) << "a refused dump created " << images;
  EXPECT_FALSE(ProcessControl::isGone(pid)) << "the task died with the refused dump";
  EXPECT_TRUE(ProcessControl::waitForExit(pid, kWait).exitedWith(0));
  EXPECT_TRUE(ProcessControl::waitForExit(refPid, kWait).exitedWith(0));
  EXPECT_TRUE(OutputCompare::sameContents(ref, out));
}

}  // namespace
}  // namespace cryo::test
