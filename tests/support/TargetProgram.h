// TargetProgram: the catalogue of test programs a checkpoint is taken of, and how to start one in its own work directory.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "TargetRun.h"

namespace cryo::test {

class TargetProgram {
 public:
  static const std::vector<TargetProgram>& all();
  static const TargetProgram& byName(const std::string& name);

  const std::string& name() const { return name_; }
  // How long an uninterrupted run takes, roughly: the sum of its sleeps.
  std::chrono::milliseconds nominalRunTime() const { return runTime_; }
  // Threads the program has in the middle of its run.
  int threadsMidRun() const { return threads_; }
  // Files in the work directory, besides output.txt, that must match the reference run.
  const std::vector<std::string>& extraOutputs() const { return extraOutputs_; }
  // Files in the work directory the program writes through an O_APPEND fd.
  const std::vector<std::string>& appendedFiles() const { return appendedFiles_; }

  // False (with the reason) when something the program needs is missing on this machine.
  bool available(std::string* why) const;

  // Creates `workdir` with the program's input, then starts the program with stdin from
  // /dev/null and stdout+stderr to workdir/output.txt. With a `gate`, the program waits before
  // its last step until that file exists (CRYO_TEST_GATE: a program without prog_gate, or one
  // not of this project, runs on). Records a test failure (pid -1) if it cannot start.
  TargetRun start(const std::filesystem::path& workdir,
                  const std::filesystem::path& gate = {}) const;
  // The command line that runs the program in `workdir` (which start() prepares).
  std::vector<std::string> argv(const std::filesystem::path& workdir) const;

 private:
  enum class Kind { Native, SystemPython, Shell, Debian };
  TargetProgram(std::string name, Kind kind, std::chrono::milliseconds runTime, int threads,
                std::vector<std::string> extraOutputs, std::vector<std::string> appendedFiles);

  std::string name_;
  Kind kind_;
  std::chrono::milliseconds runTime_;
  int threads_;
  std::vector<std::string> extraOutputs_;
  std::vector<std::string> appendedFiles_;
};

}  // namespace cryo::test
