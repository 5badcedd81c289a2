// CheckpointFixture: the base of the checkpoint tests: a temp dir, a seeded delay, reference runs, runs held at a gate until the test lets them end, and the dump/restore/compare steps every test repeats.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "CommandRunner.h"
#include "CryoCli.h"
#include "ExitStatus.h"
#include "ProcessControl.h"
#include "RandomDelay.h"
#include "TargetProgram.h"
#include "TempDir.h"

namespace cryo::test {

class CheckpointFixture : public ::testing::Test {
 protected:
  static constexpr std::chrono::milliseconds kWait{30000};

  void TearDown() override;

  // Starts `p` twice at once: the reference run in tmp/ref and the run to checkpoint in tmp/run.
  // `gated`: the run to checkpoint waits before its last step until openGate(run), so that a
  // checkpoint taken however late, and the restore that follows, still find it running (the
  // reference run never waits).
  void startPair(const TargetProgram& p, TargetRun& ref, TargetRun& run, bool gated = false);
  // Lets a gated run (and a task restored from it) go on past its gate; nothing if it has none.
  static void openGate(const TargetRun& run);
  // Waits until `file` exists (e.g. GATE.reached, made by a program waiting at its gate).
  // False if `pid` ended first (or after kWait, a hang guard only).
  static bool waitForFile(const std::filesystem::path& file, pid_t pid);
  // Waits until a gated run is waiting at its gate (holding still).
  static bool waitForGateReached(const TargetRun& run);
  // Starts `program` in `dir`/cwd, output to `dir`/output.txt, held at `dir`/gate, and waits
  // until it waits there (a failure is added if it never does).
  static pid_t startInDirAtGate(const std::string& program, const std::filesystem::path& dir);
  static void openGateIn(const std::filesystem::path& dir);

  // `cryo dump` without --leave-running: must succeed, and the task must die by SIGKILL (it is
  // reaped here, so its pid is free for the restore).
  void dumpKilling(pid_t pid, const std::filesystem::path& images,
                   const std::vector<std::string>& flags = {});

  // `cryo dump --leave-running`: must succeed and leave the task running.
  void dumpLeavingRunning(pid_t pid, const std::filesystem::path& images);

  // The image directory is private to its owner (mode 0700): it holds the task's memory.
  static void expectPrivateImageDir(const std::filesystem::path& images);

  // `cryo restore`: must succeed and print `expectedPid`, which must then be running.
  // With `leaveStopped`, the restored task must be stopped (SIGCONT resumes it).
  void restoreAs(const std::filesystem::path& images, pid_t expectedPid, bool leaveStopped = false);
  // SIGCONT to `root` and every descendant (a tree restored with --leave-stopped).
  static void resumeTree(pid_t root);

  // Waits for the reference run (which must exit 0) and checks that `status` and every output
  // of `run` equal the reference's.
  void expectMatchesReference(const TargetProgram& p, const TargetRun& ref, const TargetRun& run,
                              const ExitStatus& status);

  // A command that must fail: non-zero exit (not a crash or a hang), and stderr must match every
  // regex (case-insensitive).
  void expectFailure(const CommandResult& r, std::initializer_list<const char*> stderrPatterns);

  // Children of the test process still alive, besides `allowed`.
  static std::set<pid_t> strayChildren(const std::set<pid_t>& allowed);

  // Names in `dir` other than `allowed` (to spot half-written images or temp dirs).
  static std::set<std::string> unexpectedEntries(const std::filesystem::path& dir,
                                                 const std::set<std::string>& allowed);

  TempDir tmp_;
  RandomDelay delay_;
};

}  // namespace cryo::test
