// InotifyTest: inotify instances come back with every watch on its path, with its mask and
// under its wd (a hole left by a removed watch kept: the next watch added gets the wd it would
// have had), showing the kernel the same watches; past the checkpoint they report the same
// events as an uninterrupted run.
#include <filesystem>
#include <fstream>
#include <thread>

#include "CheckpointFixture.h"
#include "KernelView.h"
#include "OutputCompare.h"
#include "StoreRun.h"

namespace fs = std::filesystem;

namespace cryo::test {

namespace {

class Inotify : public CheckpointFixture {
 protected:
  pid_t startAtGate(const fs::path& dir) { return startInDirAtGate("inotify_watches", dir); }
};

TEST_F(Inotify, watches_come_back_with_their_wds_and_report_the_same_events) {
  fs::path refDir = tmp_ / "ref", dir = tmp_ / "run", images = tmp_ / "img";
  pid_t refPid = startAtGate(refDir);
  openGateIn(refDir);
  pid_t pid = startAtGate(dir);
  KernelView before = KernelView::capture(pid);
  ASSERT_TRUE(before.processes[pid].count("fd 7 inotify wd")) << "fdinfo shows no watch";
  dumpKilling(pid, images);
  restoreAs(images, pid, true);
  KernelView after = KernelView::capture(pid);
  std::string diffs;
  for (const std::string& d : before.differences(after)) diffs += d + "\n";
  EXPECT_TRUE(diffs.empty()) << "the restored task differs:\n" << diffs;
  resumeTree(pid);
  openGateIn(dir);
  ExitStatus st = ProcessControl::waitForExit(pid, kWait);
  ExitStatus refSt = ProcessControl::waitForExit(refPid, kWait);
  EXPECT_TRUE(refSt.exitedWith(0)) << refSt.describe() << OutputCompare::readFile(refDir / "output.txt");
  EXPECT_EQ(st, refSt) << OutputCompare::readFile(dir / "output.txt");
  EXPECT_TRUE(OutputCompare::sameContents(refDir / "output.txt", dir / "output.txt"));
}

}  // namespace

}  // namespace cryo::test
