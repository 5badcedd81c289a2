// FilesCollector: the open file descriptors of a frozen process, grouped into the open file
// descriptions they share: regular files, directories, devices, pipes (with buffered bytes),
// FIFOs, deleted files (with contents) and inherited standard streams.
#pragma once

#include "dump/Collector.h"

namespace cryo {

class FilesCollector : public Collector {
 public:
  std::string_view name() const override { return "files"; }
  void collect(DumpContext& ctx, img::Process& out) override;
};

}  // namespace cryo
