// CheckpointFixture: the base of the checkpoint tests: a temp dir, a seeded delay, reference runs, runs held at a gate until the test lets them end, and the dump/restore/compare steps every test repeats.
#include "CheckpointFixture.h"

#include <signal.h>

#include <fstream>
#include <thread>

#include "OutputCompare.h"
#include "StoreRun.h"

namespace fs = std::filesystem;

namespace cryo::test {

void CheckpointFixture::TearDown() {
  // A failed test may leave a target or a restored task behind: nothing outlives the test.
  ProcessControl::killAllChildren();
}

void CheckpointFixture::startPair(const TargetProgram& p, TargetRun& ref, TargetRun& run,
                                  bool gated) {
  ref = p.start(tmp_ / "ref");
  run = p.start(tmp_ / "run", gated ? tmp_ / "gate" : fs::path());
  ASSERT_GT(ref.pid, 0);
  ASSERT_GT(run.pid, 0);
}

void CheckpointFixture::openGate(const TargetRun& run) {
  if (!run.gate.empty()) OutputCompare::writeFile(run.gate, "open\n");
}

void CheckpointFixture::dumpKilling(pid_t pid, const fs::path& images,
                                    const std::vector<std::string>& flags) {
  std::set<pid_t> tree = ProcessControl::descendants(pid);
  CommandResult d = flags.empty() ? CryoCli::dump(pid, images, false)
                                  : CryoCli::dumpWith(pid, images, flags);
  ASSERT_TRUE(d.succeeded()) << d.describe();
  ExitStatus st = ProcessControl::waitForExit(pid, kWait);
  EXPECT_TRUE(st.killedBy(SIGKILL)) << "after cryo dump the task " << pid << " " << st.describe();
  // Its children were killed with it: reaped here (they are orphans of the test process now).
  EXPECT_TRUE(ProcessControl::reapAll(tree, kWait)) << "children of " << pid << " outlived the dump";
  ASSERT_TRUE(fs::exists(images / "manifest")) << "no manifest in " << images;
  expectPrivateImageDir(images);
}

bool CheckpointFixture::waitForFile(const fs::path& file, pid_t pid) {
  auto guard = std::chrono::steady_clock::now() + kWait;  // a hang guard only
  while (!fs::exists(file)) {
    if (ProcessControl::isGone(pid) || std::chrono::steady_clock::now() > guard) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

bool CheckpointFixture::waitForGateReached(const TargetRun& run) {
  return waitForFile(run.gate.string() + ".reached", run.pid);
}

pid_t CheckpointFixture::startInDirAtGate(const std::string& program, const fs::path& dir) {
  fs::create_directories(dir / "cwd");
  pid_t pid = ProcessControl::spawnTarget(
      {"/bin/sh", "-c", "cd \"$0\" && exec \"$1\"", (dir / "cwd").string(), programPath(program)},
      dir / "output.txt", {"CRYO_TEST_GATE=" + (dir / "gate").string()});
  if (!waitForFile(dir / "gate.reached", pid))
    ADD_FAILURE() << program << " never reached its gate\n"
                  << OutputCompare::readFile(dir / "output.txt");
  return pid;
}

void CheckpointFixture::openGateIn(const fs::path& dir) {
  std::ofstream((dir / "gate").string()).put('\n');
}

void CheckpointFixture::dumpLeavingRunning(pid_t pid, const fs::path& images) {
  CommandResult d = CryoCli::dump(pid, images, true);
  ASSERT_TRUE(d.succeeded()) << d.describe();
  ASSERT_TRUE(fs::exists(images / "manifest")) << "no manifest in " << images;
  expectPrivateImageDir(images);
  auto state = ProcessControl::state(pid);
  ASSERT_TRUE(state && *state != 'Z' && *state != 'X')
      << "task " << pid << " is not running after dump --leave-running (state "
      << (state ? *state : '-') << ")";
}

void CheckpointFixture::expectPrivateImageDir(const fs::path& images) {
  auto perms = fs::status(images).permissions() & fs::perms::all;
  EXPECT_EQ(perms, fs::perms::owner_all)
      << images << " has mode " << std::oct << static_cast<unsigned>(perms) << ", expected 0700";
}

void CheckpointFixture::restoreAs(const fs::path& images, pid_t expectedPid, bool leaveStopped) {
  CommandResult r = leaveStopped ? CryoCli::restoreStopped(images) : CryoCli::restore(images);
  ASSERT_TRUE(r.succeeded()) << r.describe();
  auto pid = CryoCli::restoredPid(r);
  ASSERT_TRUE(pid.has_value()) << "the last line of stdout is not a pid\n" << r.describe();
  ASSERT_EQ(*pid, expectedPid) << "restored under another pid\n" << r.describe();
  ASSERT_FALSE(ProcessControl::isGone(*pid)) << "restored pid " << *pid << " is not running";
  if (!leaveStopped) return;
  std::set<pid_t> tree = ProcessControl::descendants(*pid);
  tree.insert(*pid);
  for (pid_t p : tree) {
    if (ProcessControl::state(p) == 'Z') continue;  // a zombie of the image stays one
    for (pid_t tid : ProcessControl::threadIds(p))  // (/proc/TID: the thread's own state)
      ASSERT_EQ(ProcessControl::state(tid), 'T')
          << "thread " << tid << " of pid " << p << ", restored with --leave-stopped, is not stopped";
  }
}

void CheckpointFixture::resumeTree(pid_t root) {
  std::set<pid_t> tree = ProcessControl::descendants(root);
  tree.insert(root);
  for (pid_t p : tree) ASSERT_EQ(::kill(p, SIGCONT), 0) << "cannot resume pid " << p;
}

void CheckpointFixture::expectMatchesReference(const TargetProgram& p, const TargetRun& ref,
                                               const TargetRun& run, const ExitStatus& status) {
  ExitStatus refStatus = ProcessControl::waitForExit(ref.pid, kWait);
  EXPECT_TRUE(refStatus.exitedWith(0))
      << "the uninterrupted reference run " << refStatus.describe() << "; its output:\n"
      << OutputCompare::readFile(ref.output());
  EXPECT_EQ(status, refStatus) << "exit status differs from the uninterrupted run";
  EXPECT_TRUE(OutputCompare::sameContents(ref.output(), run.output()));
  for (const auto& f : p.extraOutputs())
    EXPECT_TRUE(OutputCompare::sameContents(ref.workdir / f, run.workdir / f));
}

void CheckpointFixture::expectFailure(const CommandResult& r,
                                      std::initializer_list<const char*> stderrPatterns) {
  EXPECT_TRUE(r.status.exited() && r.status.code() != 0)
      << "expected a clean failure (non-zero exit)\n" << r.describe();
  for (const char* pat : stderrPatterns) {
    std::regex re(pat, std::regex::ECMAScript | std::regex::icase);
    EXPECT_TRUE(std::regex_search(r.err, re))
        << "stderr does not match /" << pat << "/i\n" << r.describe();
  }
}

std::set<pid_t> CheckpointFixture::strayChildren(const std::set<pid_t>& allowed) {
  std::set<pid_t> out;
  for (pid_t p : ProcessControl::liveChildren())
    if (!allowed.count(p)) out.insert(p);
  return out;
}

std::set<std::string> CheckpointFixture::unexpectedEntries(const fs::path& dir,
                                                           const std::set<std::string>& allowed) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (!allowed.count(name)) out.insert(name);
  }
  return out;
}

}  // namespace cryo::test
