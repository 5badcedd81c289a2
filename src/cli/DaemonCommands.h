// DaemonCommands: the CLI's node commands: `submit`, `ps`, `logs`, `stop-task`, `restore --task`
// (a client of a cryod, over its local UNIX socket or over mutual TLS with --node HOST:PORT)
// and `certs`.
#pragma once

#include <memory>

namespace CLI {
class App;
}

namespace cryo {

class DaemonCommands {
 public:
  // Registers the subcommands on `app`.
  explicit DaemonCommands(CLI::App& app);
  ~DaemonCommands();
  DaemonCommands(const DaemonCommands&) = delete;
  DaemonCommands& operator=(const DaemonCommands&) = delete;

  // Adds --task (and the connection options) to the CLI's `restore`: the task is restored by a
  // cryod from a checkpoint it holds.
  void addRestoreTask(CLI::App* restore);
  // Whether the parsed command line named one of them (or `restore --task`).
  bool selected() const;
  // Runs it; returns cryo's exit status. Throws std::exception saying what failed.
  int run();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace cryo
