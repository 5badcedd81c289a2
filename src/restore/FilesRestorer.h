// FilesRestorer: rebuilds every open file description of the process with the fd restorer of
// its kind (FdRestorerRegistry) and installs it at the saved fd numbers with the saved
// close-on-exec bits; then lets each kind finish (epoll interest lists need every fd).
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
