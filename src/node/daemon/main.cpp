// cryod: the node daemon's entry point: options, logging, signals, then the Daemon.
#include <signal.h>

#include <cstdio>
#include <cstdlib>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "node/daemon/Config.h"
#include "node/daemon/Daemon.h"

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("cryod");
  logger->set_pattern("cryod: %^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::info);

  CLI::App app{"cryod: the cryo node daemon (runs tasks under periodic checkpoints)"};
  std::string configPath = "/etc/cryod/cryod.toml";
  app.add_option("-c,--config", configPath, "Configuration file (TOML)");
  app.set_version_flag("--version", std::string("cryod ") + CRYO_VERSION);
  CLI11_PARSE(app, argc, argv);
  if (const char* lvl = std::getenv("CRYO_LOG")) spdlog::set_level(spdlog::level::from_str(lvl));

  // Blocked in every thread (all start after this): the signals the daemon waits for, and
  // SIGCHLD, which each task's thread reads through its own signalfd.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  try {
    cryo::daemon::Daemon daemon(cryo::daemon::Config::load(configPath));
    return daemon.run();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
