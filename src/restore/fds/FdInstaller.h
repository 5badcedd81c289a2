// FdInstaller: what fd restorers share while the files of one process are rebuilt: injected
// calls in the leader that name the description in errors, moving a new fd above the restored
// numbers, status flags, offsets, refilling data, and installing a description at its numbers.
#pragma once

#include <cstdint>
#include <string>

#include "cryo.pb.h"

namespace cryo {

class RemoteSyscalls;
class RestoreContext;

class FdInstaller {
 public:
  FdInstaller(RestoreContext& ctx, const img::Process& in);

  RestoreContext& context() { return ctx_; }
  RemoteSyscalls& syscalls() { return rs_; }
  const img::Process& process() const { return in_; }

  // "pid P: fd N (description)": who a message is about (N: the description's first fd).
  std::string who(const img::FileDescription& d) const;
  // An injected call in the leader; throws naming `what` when it fails.
  long sys(const std::string& what, long nr, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0,
           uint64_t d = 0);
  // Moves a fd of the process above every restored fd number; returns its new number.
  int high(int fd);
  // F_SETFL with the description's status flags that fcntl can change.
  void setFlags(int fd, const img::FileDescription& d);
  // Seeks to the saved offset (files that cannot seek are left alone).
  void seek(int fd, const img::FileDescription& d);
  // Writes `data` into the process's fd (through a copy of it in cryo).
  void fill(int fd, const std::string& data, const img::FileDescription& d);
  // dup3 of `temp` onto every saved fd number of the description, with its close-on-exec bit.
  void install(int temp, const img::FileDescription& d);
  // The first saved fd number of the description (where it is once installed), or -1.
  int firstFd(const img::FileDescription& d) const;

 private:
  RestoreContext& ctx_;
  RemoteSyscalls& rs_;
  const img::Process& in_;
};

}  // namespace cryo
