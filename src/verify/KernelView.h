// KernelView: what the kernel shows of a process tree, field by field (identity, credentials,
// signals, what it shares with its parent, limits, directories, mappings with their VmFlags, fds with their fdinfo flags,
// positions and locks, threads), to compare a restored tree with the one that was
// checkpointed: a difference names the process, the object and the field. The dump records
// each process's view in the image; `cryo restore --verify` and the tests compare with it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/ProcFs.h"

namespace cryo {

class KernelView {
 public:
  using Fields = std::map<std::string, std::string>;  // field name -> value

  // Changes whenever a field's name or form changes: a view recorded by another version is
  // not compared.
  // 2: lock lines without list position and inode; 3: what a process shares with its parent;
  // 4: which fds and mappings of deleted files are one file.
  static constexpr uint32_t kVersion = 4;
  // A value that compares equal to any other (a field the kernel shows differently while a
  // thread sits in certain system calls).
  static constexpr const char* kAny = "(any)";

  // The tree rooted at `root` (every descendant, zombies included), as /proc shows it now.
  static KernelView capture(pid_t root);
  // One process, as /proc shows it now (smaps read for the mappings' VmFlags).
  static Fields ofProcess(pid_t pid);
  // One process whose mappings, with their VmFlags, were read already (a frozen dump has).
  // Without `threadState`, each thread shows only its name: the caller sets its mask and CPUs.
  static Fields ofProcess(pid_t pid, const std::vector<MapsEntry>& maps, bool threadState = true);

  // Every field that differs ("pid 42: fd 3 flags: '0100002' != '02'"); empty when none does.
  // Pids are compared as they are: a restore gives every process and thread its pid back.
  std::vector<std::string> differences(const KernelView& restored) const;
  static std::vector<std::string> differences(pid_t pid, const Fields& recorded,
                                              const Fields& restored);

  std::map<pid_t, Fields> processes;

 private:
  static void identityFields(pid_t pid, Fields& out);
  static void statusFields(const std::string& prefix, const std::string& text, Fields& out,
                           bool thread);
  static void sharingFields(pid_t pid, pid_t ppid, Fields& out);
  static void limitFields(pid_t pid, Fields& out);
  static void mapFields(const std::vector<MapsEntry>& maps, Fields& out);
  static void fdFields(pid_t pid, Fields& out);
  static void deletedFileFields(pid_t pid, const std::vector<MapsEntry>& maps, Fields& out);
  static void threadFields(pid_t pid, Fields& out, bool state);
};

}  // namespace cryo
