// ProcessBuilder: creates the empty shell of a process to restore: a child of cryo with the
// saved PID (clone3 set_tid), held under ptrace (dies with cryo), stripped of cryo's memory and
// fds, with a code page and scratch area from which the restorers work.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "restore/RestoreContext.h"

namespace cryo {

// Kills and reaps the processes being built unless disarmed (a failed restore leaves nothing).
class ShellGuard {
 public:
  ShellGuard() = default;
  ShellGuard(const ShellGuard&) = delete;
  ShellGuard& operator=(const ShellGuard&) = delete;
  ~ShellGuard();
  void arm(pid_t pid) { pids_.push_back(pid); }
  void disarm() { pids_.clear(); }

 private:
  std::vector<pid_t> pids_;
};

class ProcessBuilder {
 public:
  // Creates the shell for ctx.process(), the root of `tree`, and installs its leader, syscall
  // site and scratch area in ctx. Throws (with a clear message if the PID is taken) on failure.
  static void createShell(RestoreContext& ctx, ShellGuard& guard, const img::Tree& tree);
  // Sets every signal the new shell catches or ignores (as cryo did) back to the default.
  static void resetDispositions(RestoreContext& ctx);
  // Creates the shell of a child process from its parent's shell (an injected clone3 with the
  // saved PID), so that it is the parent's child; it shares the parent's code page and
  // scratch addresses. A child that shared its parent's fd table or fs info (files_shared_with,
  // fs_shared_with) is created sharing them (CLONE_FILES, CLONE_FS). Then gives it the saved
  // session and process group where they are its own (setsid, setpgid); those of others are
  // joined by joinProcessGroup().
  static void createChildShell(RestoreContext& ctx, RestoreContext& parent, ShellGuard& guard);
  // Makes the process a session leader and/or process group leader as saved.
  static void leadSessionAndGroup(RestoreContext& ctx);
  // Joins the saved process group when another process leads it: one of the tree (`ledInTree`,
  // a failure is an error) or one outside it (joined if it exists in cryo's session).
  static void joinProcessGroup(RestoreContext& ctx, bool ledInTree);
  // Ends a zombie's shell with its saved exit status; its parent keeps it unreaped, and the
  // SIGCHLD this sends the parent is taken back (the image holds the parent's pending ones).
  static void becomeZombie(RestoreContext& ctx, RestoreContext& parent);
  // An injected clone3 in `from`'s leader with `flags` and set_tid `want` (a thread with
  // CLONE_THREAD, else a child process, which `guard` then kills on failure); returns the new
  // task, traced and held at its first stop. `what` ("thread", "child") names it in errors.
  static std::unique_ptr<Tracee> cloneFrom(RestoreContext& from, uint64_t flags, int exitSignal,
                                           pid_t want, const std::string& what,
                                           ShellGuard* guard);
  // Removes cryo's code page and scratch area (run last, before the final registers are set).
  static void removeScaffolding(RestoreContext& ctx);
  // Chooses an address range of `size` bytes free in both lists of [start,end) ranges.
  static uint64_t findHole(const std::vector<std::pair<uint64_t, uint64_t>>& used, uint64_t size);

  static constexpr uint64_t kScratchSize = 256 * 1024;

 private:
  // Raises RLIMIT_NOFILE, keeps copies of the standard streams (now at stdio[0..2] in the
  // shell) above the image's fds and closes every other fd.
  static void setupFds(RestoreContext& ctx, const int stdio[3]);
  // Raises RLIMIT_NOFILE to its hard limit (checked to leave room above fd `maxFd`).
  static void raiseFdLimit(RestoreContext& ctx, int maxFd);
};

}  // namespace cryo
