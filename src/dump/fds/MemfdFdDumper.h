// MemfdFdDumper: memfd file descriptors ("/memfd:NAME (deleted)"): the object's name, size,
// seals and data (stored once per tree; mappings of it share the object at restore).
#pragma once

#include "dump/fds/FdDumper.h"

namespace cryo {

class MemfdFdDumper : public FdDumper {
 public:
  std::string_view name() const override { return "memfd"; }
  bool claims(const OpenFd& f) const override;
  void dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
            img::FileDescription& d) override;
};

}  // namespace cryo
