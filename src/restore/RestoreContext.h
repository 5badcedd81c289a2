// RestoreContext: what restorers share while one process is being rebuilt: its threads
// (held under ptrace), injected syscalls per thread, its memory, a scratch area, the image.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/PidFd.h"
#include "common/UniqueFd.h"
#include "image/ImageChain.h"
#include "inject/RemoteMemory.h"
#include "inject/RemoteScratch.h"
#include "inject/RemoteSyscalls.h"
#include "inject/Tracee.h"
#include "restore/TreeFiles.h"

namespace cryo {

struct RestoreOptions {
  // Every restored process is left stopped (as by SIGSTOP: SIGCONT resumes it) instead of
  // running on: its state can be inspected, or changed, before it runs.
  bool leaveStopped = false;
  // Before anything runs, compare what the kernel shows of every restored process with the
  // view the dump recorded (verify/RestoreVerifier); on a difference kill the tree and fail.
  bool verify = false;
  // --inherit-fd: the open file descriptions the task had that the restoring process gives it
  // instead of rebuilding them, by what they were (FileDescription.description: a path, or
  // "pipe:[INODE]", "socket:[INODE]"); each value is an fd of the restoring process.
  std::map<std::string, int> inheritFds;
  // Keys of inheritFds that no fd of the tree had are ignored instead of refused.
  bool inheritOptional = false;
};

class RestoreContext {
 public:
  RestoreContext(const ImageChain& chain, const img::Process& proc, const RestoreOptions& opts);
  RestoreContext(const RestoreContext&) = delete;
  RestoreContext& operator=(const RestoreContext&) = delete;
  ~RestoreContext();

  const ImageReader& image() const { return chain_.newest(); }
  const ImageChain& chain() const { return chain_; }
  const img::Process& process() const { return proc_; }
  const RestoreOptions& options() const { return opts_; }
  pid_t pid() const { return proc_.pid(); }

  // --- set up by the builder -------------------------------------------------------------
  void adoptLeader(std::unique_ptr<Tracee> leader);
  void addThread(std::unique_ptr<Tracee> t);
  Tracee& thread(pid_t tid);
  std::vector<std::unique_ptr<Tracee>>& threads() { return threads_; }
  RemoteMemory& memory() { return *mem_; }

  // Where injected syscalls execute: first the stub's own vdso, later a code page of cryo's,
  // finally the restored [vdso]. Changing it updates every thread's RemoteSyscalls.
  void setSyscallSite(uint64_t site);
  uint64_t syscallSite() const { return site_; }
  RemoteSyscalls& syscalls(pid_t tid);
  RemoteSyscalls& leaderSyscalls() { return syscalls(pid()); }
  void setScratch(std::unique_ptr<RemoteScratch> s) { scratch_ = std::move(s); }
  RemoteScratch& scratch();
  bool hasScratch() const { return scratch_ != nullptr; }
  std::unique_ptr<RemoteScratch> takeScratch() { return std::move(scratch_); }

  // Opens `path` inside the process (leader thread); returns the fd number there, placed at or
  // above highFd() so it never collides with the fds being restored.
  int openInProcess(const std::string& path, int flags, int mode = 0);
  void closeInProcess(int fd);
  // Moves the process's fd `fd` to a number at or above highFd(); returns the new number.
  int moveHigh(int fd);
  // The lowest fd number that restored fds never use (temporary fds live above it).
  int highFd() const { return highFd_; }
  void setHighFd(int fd) { highFd_ = fd; }
  // The fd in the process that holds cryo's own standard stream n (0..2), or -1: used for
  // INHERITED descriptions. Set by the builder; the files restorer closes them when done.
  int inheritedStdio(int n) const { return (n >= 0 && n < 3) ? stdio_[n] : -1; }
  void setInheritedStdio(int n, int fd) { stdio_[n] = fd; }
  // A copy, in cryo, of the process's fd `fd` (pidfd_getfd).
  UniqueFd takeFd(int fd);
  // The opposite: installs in the process a copy of cryo's fd `cryoFd` (the same open file:
  // the process calls pidfd_getfd on cryo); returns its number there, at or above highFd().
  int receiveFd(int cryoFd, const std::string& what);
  // Closes the pidfd of cryo that receiveFd() left in the process (before the process runs).
  void closeCryoPidfd();

  // A new memfd in the process (name, size; sealing allowed), kept in treeFiles() as shared
  // memory object `ino` for the other processes; returns its fd there (above highFd()).
  int createSharedMemfd(uint64_t ino, const std::string& name, uint64_t size);

  // Objects shared with the other processes of the tree being restored (see TreeFiles).
  TreeFiles& treeFiles() { return *tree_; }
  void setTreeFiles(TreeFiles* t) { tree_ = t; }
  // Whether the tree being restored has other processes (shared objects are then kept).
  bool inTree() const { return treeSize_ > 1; }
  void setTreeSize(int n) { treeSize_ = n; }
  // Whether the process's parent is restored with it (false for the root of the tree).
  bool parentRestored() const { return parentRestored_; }
  void setParentRestored(bool b) { parentRestored_ = b; }
  // Whether the process was created sharing its parent's fd table (CLONE_FILES) or cwd, root
  // and umask (CLONE_FS): the parent restores what they share, once.
  bool sharesFdTable() const { return sharesFiles_; }
  bool sharesFs() const { return sharesFs_; }
  void setShares(bool files, bool fs) {
    sharesFiles_ = files;
    sharesFs_ = fs;
  }
  // Whether this process sets the cwd, root and umask: of the processes sharing them, the last
  // restored (its paths are opened before any chroot).
  bool restoresFs() const { return restoresFs_; }
  void setRestoresFs(bool b) { restoresFs_ = b; }

  // Final register state and mask per thread, applied by the driver just before detaching.
  void forgetSyscalls();  // drops RemoteSyscalls without touching thread state

 private:
  const ImageChain& chain_;
  const img::Process& proc_;
  RestoreOptions opts_;
  std::vector<std::unique_ptr<Tracee>> threads_;
  std::unique_ptr<RemoteMemory> mem_;
  uint64_t site_ = 0;
  std::map<pid_t, std::unique_ptr<RemoteSyscalls>> syscalls_;
  std::unique_ptr<RemoteScratch> scratch_;
  int highFd_ = 1024;
  int stdio_[3] = {-1, -1, -1};
  std::unique_ptr<PidFd> pidfd_;
  int cryoPidfd_ = -1;  // in the process
  TreeFiles ownTree_;
  TreeFiles* tree_ = &ownTree_;
  int treeSize_ = 1;
  bool parentRestored_ = false;
  bool sharesFiles_ = false;
  bool sharesFs_ = false;
  bool restoresFs_ = true;
};

}  // namespace cryo
