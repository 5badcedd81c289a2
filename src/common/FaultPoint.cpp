// FaultPoint: named places where tests make cryo fail on purpose (CRYO_FAULT=<name>), to prove
// that a failure at that point loses nothing.
#include "common/FaultPoint.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "common/Error.h"

namespace cryo {

void FaultPoint::hit(std::string_view name) {
  const char* want = std::getenv("CRYO_FAULT");
  if (!want) return;
  std::string_view w(want);
  if (w == name) fail("injected fault at {}", name);
  // "<point>:kill": cryo dies there at once (SIGKILL), as if killed from outside.
  if (w.size() == name.size() + 5 && w.substr(0, name.size()) == name &&
      w.substr(name.size()) == ":kill")
    ::kill(::getpid(), SIGKILL);
}

}  // namespace cryo
