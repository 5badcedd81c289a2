// FilesRestorer: reopens every open file description of the process and installs it at the
// saved fd numbers with the saved offsets and flags; recreates pipes with their buffered bytes.
#pragma once

#include "restore/Restorer.h"

namespace cryo {

class FilesRestorer : public Restorer {
 public:
  std::string_view name() const override { return "files"; }
  void validate(RestoreContext& ctx, const img::Process& in) override;
  void restore(RestoreContext& ctx, const img::Process& in) override;
};

}  // namespace cryo
