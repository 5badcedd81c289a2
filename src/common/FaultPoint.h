// FaultPoint: named places where tests make cryo fail on purpose (CRYO_FAULT=<name>), to prove
// that a failure at that point loses nothing.
#pragma once

#include <string_view>

namespace cryo {

class FaultPoint {
 public:
  // Throws Error("injected fault at <name>") when CRYO_FAULT names this point; with
  // CRYO_FAULT=<name>:kill, cryo kills itself there (SIGKILL).
  static void hit(std::string_view name);
  // True when CRYO_FAULT=skip:<name>: the caller then leaves out the step it names (to prove
  // that a check, such as `restore --verify`, notices the state it would have set).
  static bool skips(std::string_view name);
};

}  // namespace cryo
