// TargetRun: one started run of a target program: its pid and the work directory holding its output.
#pragma once

#include <sys/types.h>

#include <filesystem>

namespace cryo::test {

struct TargetRun {
  pid_t pid = -1;
  std::filesystem::path workdir;  // holds output.txt and the program's own files
  std::filesystem::path output() const { return workdir / "output.txt"; }
};

}  // namespace cryo::test
