// OutsidePipeTest: pipe ends whose other ends are held outside the dumped tree (a supervisor's
// pipes, or fds leaked by whatever started the task) are checkpointed, and come back with the
// outside end closed: the bytes that waited in a read end, then end of file; EPIPE on a write end.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "CheckpointFixture.h"
#include "OutputCompare.h"
#include "StoreRun.h"

namespace cryo::test {

namespace {

class OutsidePipe : public CheckpointFixture {
 protected:
  // Starts outside_pipe with fd 3 the read end of a pipe holding "hello" and fd 4 the write end
  // of another; stdout and stderr to `out`. The ends this side keeps are in `keep`.
  pid_t start(const std::filesystem::path& out, int keep[2], const std::string& gate) {
    int a[2], b[2];
    EXPECT_EQ(::pipe2(a, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(b, O_CLOEXEC), 0);
    EXPECT_EQ(::write(a[1], "hello", 5), 5);
    std::string prog = programPath("outside_pipe");
    std::string gateVar = "CRYO_TEST_GATE=" + gate;
    pid_t pid = ::fork();
    if (pid == 0) {
      // Out of the way first (the ends may sit at 3 or 4, close-on-exec), then in place.
      int r = ::fcntl(a[0], F_DUPFD, 100), w = ::fcntl(b[1], F_DUPFD, 100);
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int n = ::open("/dev/null", O_RDONLY);
      if (r < 0 || w < 0 || o < 0 || n < 0 || ::dup2(n, 0) < 0 || ::dup2(o, 1) < 0 ||
          ::dup2(o, 2) < 0 || ::dup2(r, 3) < 0 || ::dup2(w, 4) < 0)
        ::_exit(120);
      ::close_range(5, ~0U, 0);
      char* env[] = {gateVar.data(), nullptr};
      char* argv[] = {prog.data(), nullptr};
      ::execve(argv[0], argv, env);
      ::_exit(121);
    }
    ::close(a[0]);
    ::close(b[1]);
    keep[0] = a[1];
    keep[1] = b[0];
    return pid;
  }
};

TEST_F(OutsidePipe, restored_with_the_outside_ends_closed) {
  auto ref = tmp_ / "ref.txt", out = tmp_ / "out.txt", images = tmp_ / "img";
  auto gate = tmp_ / "gate";
  int refEnds[2], ends[2];
  pid_t refPid = start(ref, refEnds, "");
  ::close(refEnds[0]);  // the reference run sees its outside ends closed from the start
  ::close(refEnds[1]);
  pid_t pid = start(out, ends, gate.string());
  ASSERT_TRUE(waitForLines(out, "step", 5, pid, kWait)) << OutputCompare::readFile(out);
  dumpKilling(pid, images);
  ::close(ends[0]);
  ::close(ends[1]);
  restoreAs(images, pid);
  // Only now that cryo is gone (and its copies of the pipes with it) may the task use them.
  std::ofstream(gate.string()).put('\n');
  ExitStatus st = ProcessControl::waitForExit(pid, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe() << "\n" << OutputCompare::readFile(out);
  ASSERT_TRUE(ProcessControl::waitForExit(refPid, kWait).exitedWith(0));
  std::string got = OutputCompare::readFile(out);
  EXPECT_EQ(got, OutputCompare::readFile(ref));
  EXPECT_NE(got.find("fd 3 gave 5 bytes then end of file: hello"), std::string::npos) << got;
  EXPECT_NE(got.find("write to fd 4: EPIPE"), std::string::npos) << got;
}

}  // namespace

}  // namespace cryo::test
