// KernelView: what the kernel shows of a process tree, field by field (identity, credentials,
// signals, limits, directories, mappings with their VmFlags, fds with their fdinfo flags,
// positions and locks, threads), captured while the tree holds still, to compare a restored
// tree with the one that was checkpointed: a difference names the process and the field.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace cryo::test {

class KernelView {
 public:
  // The tree rooted at `root` (every descendant, zombies included), as /proc shows it now.
  static KernelView capture(pid_t root);
  // Every field that differs ("pid 42: fd 3 flags: 0100002 != 02"); empty when none does.
  std::vector<std::string> differences(const KernelView& restored) const;

  // A value that compares equal to any other.
  static constexpr const char* kAny = "(any)";
  // field name -> value, per process (pids are kept on restore).
  std::map<pid_t, std::map<std::string, std::string>> processes;

 private:
  static std::map<std::string, std::string> fieldsOf(pid_t pid);
};

}  // namespace cryo::test
