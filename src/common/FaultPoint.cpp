// FaultPoint: named places where tests make cryo fail on purpose (CRYO_FAULT=<name>), to prove
// that a failure at that point loses nothing.
#include "common/FaultPoint.h"

#include <cstdlib>
#include <string>

#include "common/Error.h"

namespace cryo {

void FaultPoint::hit(std::string_view name) {
  const char* want = std::getenv("CRYO_FAULT");
  if (want && name == want) fail("injected fault at {}", name);
}

}  // namespace cryo
