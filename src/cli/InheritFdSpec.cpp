// InheritFdSpec: parses "fd[N]:KEY" (CRIU's spelling of --inherit-fd).
#include "cli/InheritFdSpec.h"

#include <cctype>

#include "common/Error.h"

namespace cryo {

InheritFdSpec InheritFdSpec::parse(const std::string& text) {
  auto bad = [&](const char* why) {
    fail("--inherit-fd {}: {} (expected fd[N]:KEY, e.g. fd[3]:pipe:[12345] or fd[1]:/var/log/x)",
         text, why);
  };
  if (text.rfind("fd[", 0) != 0) bad("does not start with fd[");
  size_t close = text.find(']');
  if (close == std::string::npos || close == 3) bad("no fd number in fd[...]");
  InheritFdSpec s;
  s.fd = 0;
  for (size_t i = 3; i < close; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i])) || s.fd > 100000000) bad("bad fd number");
    s.fd = s.fd * 10 + (text[i] - '0');
  }
  if (close + 1 >= text.size() || text[close + 1] != ':') bad("no ':' after fd[N]");
  s.key = text.substr(close + 2);
  if (s.key.empty()) bad("no key after ':'");
  return s;
}

}  // namespace cryo
