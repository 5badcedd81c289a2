// FilesCollector: the open file descriptors of a frozen process, grouped into the open file
// descriptions they share; each description is described by the fd dumper of its kind
// (FdDumperRegistry), and a kind no dumper claims is refused naming the fd and its kind.
#pragma once

#include "dump/Collector.h"

namespace cryo {

class FilesCollector : public Collector {
 public:
  std::string_view name() const override { return "files"; }
  void collect(DumpContext& ctx, img::Process& out) override;
};

}  // namespace cryo
