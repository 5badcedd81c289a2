// CredentialsCollector: user and group ids, supplementary groups, capability sets and
// no_new_privs of a frozen process (refusing threads whose credentials differ).
#pragma once

#include <map>
#include <string>

#include "dump/Collector.h"

namespace cryo {

class CredentialsCollector : public Collector {
 public:
  std::string_view name() const override { return "credentials"; }
  void collect(DumpContext& ctx, img::Process& out) override;
  // Reads the credentials shown in a /proc/.../status file.
  static img::Credentials fromStatus(const std::string& statusPath);
  static img::Credentials fromStatus(const std::map<std::string, std::string>& status);
};

}  // namespace cryo
