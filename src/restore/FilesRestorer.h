// FilesRestorer: (placeholder) Files state, Restorer side.
#pragma once

#include "restore/Restorer.h"

namespace cryo {

class FilesRestorer : public Restorer {
 public:
  std::string_view name() const override { return "Files"; }
  void restore(RestoreContext& ctx, const img::Process& in) override;
};

}  // namespace cryo
