// CommandResult: what one finished command did: its argv, extra environment, exit status, stdout and stderr.
#include "CommandResult.h"

#include <sstream>

namespace cryo::test {

std::string CommandResult::commandLine() const {
  std::string s;
  for (const auto& [k, v] : env) s += k + "=" + v + " ";
  for (size_t i = 0; i < argv.size(); i++) s += (i ? " " : "") + argv[i];
  return s;
}

std::string CommandResult::describe() const {
  std::ostringstream o;
  o << "command: " << commandLine() << "\n  " << status.describe() << "\n  stdout: "
    << (out.empty() ? "(empty)" : out) << (out.empty() || out.back() == '\n' ? "" : "\n")
    << "  stderr: " << (err.empty() ? "(empty)" : err)
    << (err.empty() || err.back() == '\n' ? "" : "\n");
  return o.str();
}

}  // namespace cryo::test
