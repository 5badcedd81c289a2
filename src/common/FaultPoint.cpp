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
  bool match = w == name || (w.size() == name.size() + 5 && w.substr(0, name.size()) == name &&
                             w.substr(name.size()) == ":kill");
  if (!match) return;
  // CRYO_FAULT_SKIP=N: the first N passes through the point are spared.
  static int passes = 0;
  const char* skip = std::getenv("CRYO_FAULT_SKIP");
  if (skip && passes++ < std::atoi(skip)) return;
  if (w == name) fail("injected fault at {}", name);
  // "<point>:kill": cryo dies there at once (SIGKILL), as if killed from outside.
  if (w.size() == name.size() + 5 && w.substr(0, name.size()) == name &&
      w.substr(name.size()) == ":kill")
    ::kill(::getpid(), SIGKILL);
}

bool FaultPoint::skips(std::string_view name) {
  const char* want = std::getenv("CRYO_FAULT");
  if (!want) return false;
  std::string_view w(want);
  return w.size() == name.size() + 5 && w.substr(0, 5) == "skip:" && w.substr(5) == name;
}

}  // namespace cryo
