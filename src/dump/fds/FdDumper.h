// FdDumper: the interface of one kind of file descriptor on the dump side (files, pipes,
// eventfd, epoll, ...). FilesCollector hands each open file description to the first dumper
// of FdDumperRegistry that claims it.
#pragma once

#include <string_view>

#include "cryo.pb.h"
#include "dump/fds/FdTable.h"
#include "dump/fds/OpenFd.h"

namespace cryo {

class DumpContext;

class FdDumper {
 public:
  virtual ~FdDumper() = default;
  virtual std::string_view name() const = 0;
  // Whether this dumper handles `f` (judged by its link text and stat).
  virtual bool claims(const OpenFd& f) const = 0;
  // Fills the kind and the kind's state of `d`, the description `f` (its first fd) refers to;
  // id, flags, pos, description text and file identity are already set. Throws an Error naming
  // the pid and fd when this particular one cannot be checkpointed.
  virtual void dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
                    img::FileDescription& d) = 0;
};

}  // namespace cryo
