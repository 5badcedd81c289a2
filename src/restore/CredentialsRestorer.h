// CredentialsRestorer: gives every thread the saved ids, groups, capabilities and
// no_new_privs (credentials are per thread in Linux). Runs last: it may drop privileges.
#pragma once

#include "restore/Restorer.h"

namespace cryo {

class CredentialsRestorer : public Restorer {
 public:
  std::string_view name() const override { return "credentials"; }
  void restore(RestoreContext& ctx, const img::Process& in) override;
};

}  // namespace cryo
