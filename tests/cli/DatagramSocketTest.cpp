// DatagramSocketTest: UNIX datagram sockets (unbound and unconnected; bound to a relative path
// with datagrams queued from an unbound, a connected and a named sender; bound and connected),
// and stream and seqpacket sockets neither connected nor listening (bound or not: their dump
// failed on their queue), come back showing the kernel what they did, deliver the same
// datagrams with the same senders, a bound stream socket listens again, and a task blocked in recv() on one, checkpointed there, dies of SIGTERM as the
// original does.
#include <signal.h>

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

class DatagramSocket : public CheckpointFixture {
 protected:
  pid_t startAtGate(const fs::path& dir) { return startInDirAtGate("dgram_sockets", dir); }
  // Past its gate, the program says "waiting" before it blocks in recv(); SIGTERM ends it.
  ExitStatus terminateWhenWaiting(pid_t pid, const fs::path& dir) {
    EXPECT_TRUE(waitForLines(dir / "output.txt", "waiting", 1, pid, kWait))
        << OutputCompare::readFile(dir / "output.txt");
    EXPECT_EQ(::kill(pid, SIGTERM), 0);
    return ProcessControl::waitForExit(pid, kWait);
  }
};

TEST_F(DatagramSocket, restored_sockets_deliver_the_same_datagrams_and_sigterm_ends_the_task) {
  fs::path refDir = tmp_ / "ref", dir = tmp_ / "run";
  pid_t refPid = startAtGate(refDir);
  openGateIn(refDir);
  ExitStatus refSt = terminateWhenWaiting(refPid, refDir);
  EXPECT_TRUE(refSt.killedBy(SIGTERM)) << refSt.describe();

  pid_t pid = startAtGate(dir);
  KernelView before = KernelView::capture(pid);
  dumpKilling(pid, tmp_ / "img1");
  restoreAs(tmp_ / "img1", pid, true);
  KernelView after = KernelView::capture(pid);
  std::string diffs;
  for (const std::string& d : before.differences(after)) diffs += d + "\n";
  EXPECT_TRUE(diffs.empty()) << "the restored task differs:\n" << diffs;
  resumeTree(pid);
  openGateIn(dir);
  // Checkpointed again while it waits in recv(): restored, SIGTERM still ends it.
  ASSERT_TRUE(waitForLines(dir / "output.txt", "waiting", 1, pid, kWait))
      << OutputCompare::readFile(dir / "output.txt");
  dumpKilling(pid, tmp_ / "img2");
  restoreAs(tmp_ / "img2", pid);
  EXPECT_EQ(::kill(pid, SIGTERM), 0);
  ExitStatus st = ProcessControl::waitForExit(pid, kWait);
  EXPECT_EQ(st, refSt) << OutputCompare::readFile(dir / "output.txt");
  EXPECT_TRUE(OutputCompare::sameContents(refDir / "output.txt", dir / "output.txt"));
}

}  // namespace

}  // namespace cryo::test
