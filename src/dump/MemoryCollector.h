// MemoryCollector: the address space of a frozen process: every mapping with its protections
// and flags, the mm fields (brk, stack, arg/env areas, auxv, exe), and the pages that hold data.
#pragma once

#include "dump/Collector.h"

namespace cryo {

struct MapsEntry;

class MemoryCollector : public Collector {
 public:
  std::string_view name() const override { return "memory"; }
  void collect(DumpContext& ctx, img::Process& out) override;

 private:
  void collectMm(DumpContext& ctx, img::Process& out);
  img::Vma describe(DumpContext& ctx, const MapsEntry& m);
  void collectPages(DumpContext& ctx, img::Process& out);
};

}  // namespace cryo
