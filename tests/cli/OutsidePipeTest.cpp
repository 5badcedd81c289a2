// OutsidePipeTest: pipe ends whose other ends are held outside the dumped tree (a supervisor's
// pipes, or fds leaked by whatever started the task) are checkpointed, and come back with the
// outside end closed: the bytes that waited in a read end, then end of file; EPIPE on a write end;
// or, with `restore --inherit-fd`, connected to files the restoring process gives.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "CommandRunner.h"
#include "CryoCli.h"

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

// "pipe:[INODE]": the key `restore --inherit-fd` takes for a pipe end like `fd`.
std::string pipeKey(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return "pipe:[" + std::to_string(st.st_ino) + "]";
}

// `cryo restore --images IMAGES ARGS...` run from a shell that first opens `fifoIn` as its fd 7
// (for reading) and `fifoOut` as its fd 8 (for writing): the fds that --inherit-fd passes on.
CommandResult restoreWithFifos(const std::filesystem::path& images, const std::filesystem::path& fifoIn,
                               const std::filesystem::path& fifoOut,
                               const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/bin/sh", "-c", "exec 7<\"$1\" 8>\"$2\"; shift 2; exec \"$@\"",
                                   "sh", fifoIn.string(), fifoOut.string(),
                                   CryoCli::binary().string(), "restore", "--images",
                                   images.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return CommandRunner::run(argv, {}, CryoCli::kTimeout);
}

TEST_F(OutsidePipe, inherit_fd_connects_the_outside_ends_to_files_the_restorer_gives) {
  auto ref = tmp_ / "ref.txt", out = tmp_ / "out.txt", images = tmp_ / "img";
  auto gate = tmp_ / "gate", fifoIn = tmp_ / "in.fifo", fifoOut = tmp_ / "out.fifo";
  int refEnds[2], ends[2];
  pid_t refPid = start(ref, refEnds, "");
  ::close(refEnds[0]);
  ::close(refEnds[1]);
  pid_t pid = start(out, ends, gate.string());
  ASSERT_TRUE(waitForLines(out, "step", 5, pid, kWait)) << OutputCompare::readFile(out);
  std::string readKey = pipeKey(ends[0]), writeKey = pipeKey(ends[1]);
  dumpKilling(pid, images);
  ::close(ends[0]);
  ::close(ends[1]);

  CommandResult shown = CryoCli::show(images, false);
  ASSERT_TRUE(shown.succeeded()) << shown.describe();
  EXPECT_NE(shown.out.find("--inherit-fd fd[N]:" + readKey), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("--inherit-fd fd[N]:" + writeKey), std::string::npos) << shown.out;

  // The new "outside": two FIFOs held open here, "again" waiting in the one the task reads.
  ASSERT_EQ(::mkfifo(fifoIn.c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo(fifoOut.c_str(), 0600), 0);
  int inRw = ::open(fifoIn.c_str(), O_RDWR | O_CLOEXEC);
  int outRd = ::open(fifoOut.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(inRw, 0);
  ASSERT_GE(outRd, 0);
  ASSERT_EQ(::write(inRw, "again", 5), 5);
  CommandResult r = restoreWithFifos(images, fifoIn, fifoOut,
                                     {"--inherit-fd", "fd[7]:" + readKey, "--inherit-fd",
                                      "fd[8]:" + writeKey});
  ASSERT_TRUE(r.succeeded()) << r.describe();
  ASSERT_EQ(CryoCli::restoredPid(r), pid) << r.describe();
  ::close(inRw);  // the task's fd 3 is now the FIFO's only end: "again", then end of file
  std::ofstream(gate.string()).put('\n');
  ExitStatus st = ProcessControl::waitForExit(pid, kWait);
  EXPECT_TRUE(st.exitedWith(0)) << st.describe() << "\n" << OutputCompare::readFile(out);
  char c = 0;
  EXPECT_EQ(::read(outRd, &c, 1), 1);
  EXPECT_EQ(c, 'x');
  ::close(outRd);

  // The reference closed its outside ends, so it read "hello" and got EPIPE; the restored task
  // read what the new outside gave and wrote into it.
  ASSERT_TRUE(ProcessControl::waitForExit(refPid, kWait).exitedWith(0));
  std::string want = OutputCompare::readFile(ref);
  auto replace = [&](const std::string& from, const std::string& to) {
    size_t at = want.find(from);
    ASSERT_NE(at, std::string::npos) << want;
    want.replace(at, from.size(), to);
  };
  replace("end of file: hello", "end of file: again");
  replace("write to fd 4: EPIPE", "write to fd 4: something else");
  EXPECT_EQ(OutputCompare::readFile(out), want);
}

TEST_F(OutsidePipe, inherit_fd_naming_no_file_of_the_task_is_refused_before_anything_runs) {
  auto out = tmp_ / "out.txt", images = tmp_ / "img", gate = tmp_ / "gate";
  int ends[2];
  pid_t pid = start(out, ends, gate.string());
  ASSERT_TRUE(waitForLines(out, "step", 5, pid, kWait)) << OutputCompare::readFile(out);
  std::string readKey = pipeKey(ends[0]);
  dumpKilling(pid, images);
  ::close(ends[0]);
  ::close(ends[1]);
  CommandResult r = CommandRunner::run({CryoCli::binary().string(), "restore", "--images",
                                        images.string(), "--inherit-fd", "fd[1]:pipe:[1]"},
                                       {}, CryoCli::kTimeout);
  expectFailure(r, {"inherit-fd fd\\[1\\]:pipe:\\[1\\]", "no process of the image had",
                    readKey.substr(6, readKey.size() - 7).c_str()});
  EXPECT_TRUE(ProcessControl::isGone(pid)) << "a refused restore left pid " << pid;
  CommandResult bad = CommandRunner::run({CryoCli::binary().string(), "restore", "--images",
                                          images.string(), "--inherit-fd", "3:" + readKey},
                                         {}, CryoCli::kTimeout);
  expectFailure(bad, {"expected fd\\[N\\]:KEY"});
  // The image is untouched by the refusals: a plain restore still works.
  restoreAs(images, pid);
  std::ofstream(gate.string()).put('\n');
  EXPECT_TRUE(ProcessControl::waitForExit(pid, kWait).exitedWith(0));
}

}  // namespace

}  // namespace cryo::test
