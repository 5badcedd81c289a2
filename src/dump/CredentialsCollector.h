// CredentialsCollector: (placeholder) Credentials state, Collector side.
#pragma once

#include "dump/Collector.h"

namespace cryo {

class CredentialsCollector : public Collector {
 public:
  std::string_view name() const override { return "Credentials"; }
  void collect(DumpContext& ctx, img::Process& out) override;
};

}  // namespace cryo
