// CredentialsRestorer: (placeholder) Credentials state, Restorer side.
#pragma once

#include "restore/Restorer.h"

namespace cryo {

class CredentialsRestorer : public Restorer {
 public:
  std::string_view name() const override { return "Credentials"; }
  void restore(RestoreContext& ctx, const img::Process& in) override;
};

}  // namespace cryo
