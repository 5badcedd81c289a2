// PipeFdDumper: anonymous pipe ends ("pipe:[N]"): with both ends in the task, the pipe with
// its buffered bytes (stored once per tree); a standard stream whose other end is outside the
// tree, as INHERITED.
#pragma once

#include <set>
#include <string>

#include "dump/fds/FdDumper.h"

namespace cryo {

class PipeFdDumper : public FdDumper {
 public:
  std::string_view name() const override { return "pipe"; }
  bool claims(const OpenFd& f) const override;
  void dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
            img::FileDescription& d) override;

  // The bytes buffered in the pipe (or FIFO) of the task's fd `fd`, read without consuming
  // them (tee into a pipe of cryo's own).
  static std::string bufferedBytes(DumpContext& ctx, int fd, int pipeSize);
  // The bytes buffered in the pipe of read end `src` of cryo's (copied with tee, left in
  // place); `who` names it in errors.
  static std::string teeBytes(int src, int pipeSize, const std::string& who);
};

}  // namespace cryo
