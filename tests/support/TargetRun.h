// TargetRun: one started run of a target program: its pid, the work directory holding its output, and the gate file it waits for before its last step.
#pragma once

#include <sys/types.h>

#include <filesystem>

namespace cryo::test {

struct TargetRun {
  pid_t pid = -1;
  std::filesystem::path workdir;  // holds output.txt and the program's own files
  // The file the program waits for before its last step (CRYO_TEST_GATE); empty: none.
  std::filesystem::path gate;
  std::filesystem::path output() const { return workdir / "output.txt"; }
};

}  // namespace cryo::test
