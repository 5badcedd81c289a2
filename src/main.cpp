// cryo's command line: dump, restore, show, run, checkpoint, ls, stats, check.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/DumpCommand.h"
#include "cli/ImageDescriber.h"
#include "cli/DaemonCommands.h"
#include "cli/StoreCommands.h"
#include "common/Error.h"
#include "dump/Dumper.h"
#include "realtime/RealtimeWindow.h"
#include "realtime/CpuPolicy.h"
#include "node/TaskRunner.h"
#include "store/Checkpointer.h"
#include "track/TrackerFactory.h"
#include "store/CheckpointStore.h"
#include "image/ImageReader.h"
#include "cli/InheritFdSpec.h"
#include "restore/RestoreDriver.h"

int main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("cryo");
  logger->set_pattern("cryo: %^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::warn);

  CLI::App app{"cryo: transparent checkpoint and restore of running Linux processes"};
  app.require_subcommand(1);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log what cryo does");
  app.set_version_flag("--version", std::string("cryo ") + CRYO_VERSION);

  int pid = 0;
  bool json = false;
  std::string images;
  bool leaveRunning = false;
  bool tcpClose = false;
  auto* dump = app.add_subcommand("dump", "Checkpoint a running process into an image directory");
  dump->add_option("--pid", pid, "Process to checkpoint")->required();
  dump->add_option("--images", images, "Image directory to write")->required();
  dump->add_flag("--leave-running", leaveRunning, "Let the process run on after the checkpoint");
  dump->add_flag("--tcp-close", tcpClose,
                 "Checkpoint established TCP connections as closed: the restored process sees "
                 "them reset (and, without --leave-running, their peers get a reset)");
  std::string parent;
  dump->add_option("--parent", parent,
                   "Incremental: store only what changed since this earlier image of the process");

  std::string store, id;
  auto* restore = app.add_subcommand("restore", "Bring a process back from a checkpoint");
  auto* imagesOpt = restore->add_option("--images", images, "Image directory to read");
  auto* storeOpt = restore->add_option("--store", store, "Store to restore the latest checkpoint of");
  restore->add_option("--id", id, "With --store: the checkpoint to restore")->needs(storeOpt);
  bool leaveStopped = false;
  restore->add_flag("--leave-stopped", leaveStopped,
                    "Leave the restored processes stopped (SIGCONT resumes them): cryo returns "
                    "once every thread is stopped");
  bool verifyRestore = false;
  restore->add_flag("--verify", verifyRestore,
                    "Before the restored processes run, compare what the kernel shows of each "
                    "(mappings, fds, credentials, signals, limits, threads...) with what the dump "
                    "recorded; on any difference kill them and fail, naming the field");
  std::vector<std::string> inheritFds;
  restore->add_option("--inherit-fd", inheritFds,
                      "fd[N]:KEY: give the restored task cryo's fd N where it had KEY open (a "
                      "path, pipe:[INODE] or socket:[INODE], as `cryo show` lists it; e.g. a pipe "
                      "whose other end was outside the task); repeatable");
  imagesOpt->excludes(storeOpt);

  auto* ls = app.add_subcommand("ls", "List the checkpoints of a store, oldest first");
  ls->add_option("--store", store, "Store directory")->required();
  ls->add_flag("--json", json, "Machine-readable output");

  std::string every = "1s", tracker, freezeMode, maxFreeze, cpus;
  std::optional<int> nice;
  int freezePriority = 0;
  auto addRealtime = [&](CLI::App* sc) {
    sc->add_option("--freeze-mode", freezeMode,
                   "stop: copy pages while the task is frozen; precopy: copy them while it runs "
                   "and freeze only for what the last round left (default for run and dump: "
                   "precopy where the kernel and tracker allow it)")
        ->check(CLI::IsMember({"stop", "precopy"}));
    sc->add_option("--max-freeze", maxFreeze,
                   "Budget of one stop of the task, e.g. 1ms, 500us (implies precopy "
                   "for checkpoint); overruns are reported");
    sc->add_option("--cpu", cpus, "Run cryo's own threads on these CPUs only, e.g. 1 or 0,2-3");
    sc->add_option("--nice", nice, "cryo's own nice value (-20..19): lower its priority");
    sc->add_option("--freeze-priority", freezePriority,
                   "Real-time priority (SCHED_FIFO 1..99) of cryo while the task is stopped "
                   "and in the pre-copy round just before: ordinary work on cryo's CPU does not "
                   "lengthen the freeze");
  };
  addRealtime(dump);
  bool verifyData = false;
  auto addVerifyData = [&](CLI::App* sc) {
    sc->add_flag("--verify-data", verifyData,
                 "Record what the kernel shows of every process (mappings, fds, credentials, "
                 "signals, ...), so that `restore --verify` can check the restored tree against "
                 "it; costs the freeze up to a few milliseconds per process");
  };
  addVerifyData(dump);
  size_t keep = 0;
  std::vector<std::string> command;
  auto* run = app.add_subcommand(
      "run", "Start a command and checkpoint it into a store periodically while it lives");
  run->add_option("--store", store, "Store directory (created if missing)")->required();
  run->add_option("--every", every, "Checkpoint period, e.g. 100ms, 2s (default 1s)");
  run->add_option("--keep", keep, "Merge older checkpoints so that at most N remain");
  run->add_option("--tracker", tracker, "Dirty-page backend: uffd-wp, soft-dirty, hash, none");
  addRealtime(run);
  addVerifyData(run);
  bool runTcpClose = true;
  run->add_flag("--tcp-close,!--no-tcp-close", runTcpClose,
                "Record established TCP connections as closed (a restore resets them; the "
                "default of run) or, with --no-tcp-close, refuse checkpoints while one exists");
  std::string onFailure = "exit";
  unsigned maxFailures = 3;
  run->add_option("--on-failure", onFailure,
                  "Once --max-failures checkpoints in a row failed: exit (cryo exits with status "
                  "1, the task runs on; the default), stop-task (the task is killed too), or "
                  "warn (go on trying)")
      ->check(CLI::IsMember({"warn", "stop-task", "exit"}));
  run->add_option("--max-failures", maxFailures,
                  "Checkpoints in a row that may fail before --on-failure acts (default 3)")
      ->check(CLI::Range(1u, 1000000u));
  run->add_option("command", command, "The command and its arguments (after --)")->required();

  auto* checkpoint = app.add_subcommand("checkpoint", "Add one checkpoint of a process to a store");
  checkpoint->add_option("--pid", pid, "Process to checkpoint")->required();
  checkpoint->add_option("--store", store, "Store directory (created if missing)")->required();
  checkpoint->add_option("--keep", keep, "Merge older checkpoints so that at most N remain");
  addRealtime(checkpoint);
  addVerifyData(checkpoint);
  checkpoint->add_flag("--tcp-close", tcpClose,
                       "Record established TCP connections as closed (a restore resets them) "
                       "instead of refusing the checkpoint");

  auto* stats = app.add_subcommand("stats", "Freeze-time percentiles over a store's checkpoints");
  stats->add_option("--store", store, "Store directory")->required();
  stats->add_flag("--json", json, "Machine-readable output");

  auto* check = app.add_subcommand("check", "Say which dirty-page tracking backends this kernel offers");

  auto* show = app.add_subcommand("show", "Describe what an image holds");
  show->add_option("--images", images, "Image directory to read")->required();
  show->add_flag("--json", json, "Machine-readable output");

  cryo::DaemonCommands daemonCommands(app);  // submit, ps, logs, stop-task, certs
  daemonCommands.addRestoreTask(restore);     // restore --task: through a cryod

  CLI11_PARSE(app, argc, argv);
  if (verbose) spdlog::set_level(spdlog::level::debug);
  if (const char* lvl = std::getenv("CRYO_LOG")) spdlog::set_level(spdlog::level::from_str(lvl));
  if (std::getenv("CRYO_LOG_TIME")) logger->set_pattern("cryo: %H:%M:%S.%f %^%l%$: %v");

  try {
    if (daemonCommands.selected()) return daemonCommands.run();
    if (*dump) {
      cryo::CpuPolicy cpu(cpus, nice);
      cpu.apply();
      cryo::RealtimeWindow::check(freezePriority);
      cryo::DumpRequest req;
      req.pid = pid;
      req.images = images;
      req.parent = parent;
      req.leaveRunning = leaveRunning;
      req.freezeMode = freezeMode;
      req.policy.tcpClose = tcpClose;
      req.policy.recordView = verifyData;
      req.policy.freezePriority = freezePriority;
      if (!maxFreeze.empty()) req.policy.maxFreeze = cryo::TaskRunner::parseDuration(maxFreeze, 1);
      cryo::DumpResult r = cryo::DumpCommand::run(req);
      spdlog::info("pid {}: {} pages ({} bytes), frozen {} us, total {} us", pid, r.pages,
                   r.bytes, r.freezeUs, r.totalUs);
    } else if (*restore) {
      if (images.empty() && store.empty()) throw cryo::Error("restore needs --images or --store");
      std::filesystem::path dir = images;
      if (!store.empty()) dir = cryo::StoreCommands::pickForRestore(store, id);
      cryo::RestoreOptions ro;
      ro.leaveStopped = leaveStopped;
      ro.verify = verifyRestore;
      for (const std::string& text : inheritFds) {
        cryo::InheritFdSpec spec = cryo::InheritFdSpec::parse(text);
        ro.inheritFds[spec.key] = spec.fd;
      }
      cryo::RestoreResult r = cryo::RestoreDriver::run(dir, ro);
      spdlog::info("restored pid {} in {} us", r.pid, r.totalUs);
      std::printf("%d\n", r.pid);
      std::fflush(stdout);
    } else if (*run) {
      cryo::CpuPolicy cpu(cpus, nice);
      cpu.apply();
      cryo::RunOptions ro;
      ro.freezeMode = freezeMode;
      ro.tcpClose = runTcpClose;
      ro.recordView = verifyData;
      ro.onFailure = cryo::TaskRunner::parseOnFailure(onFailure);
      ro.maxFailures = maxFailures;
      if (!maxFreeze.empty()) ro.maxFreeze = cryo::TaskRunner::parseDuration(maxFreeze, 1);
      ro.cpu = &cpu;
      cryo::RealtimeWindow::check(freezePriority);
      ro.freezePriority = freezePriority;
      ro.store = store;
      ro.every = cryo::TaskRunner::parseDuration(every);
      ro.keep = keep;
      ro.tracker = tracker;
      ro.command = command;
      return cryo::TaskRunner::run(ro);
    } else if (*checkpoint) {
      cryo::CpuPolicy cpu(cpus, nice);
      cpu.apply();
      cryo::CheckpointPolicy policy;
      policy.tcpClose = tcpClose;
      policy.recordView = verifyData;
      cryo::RealtimeWindow::check(freezePriority);
      policy.freezePriority = freezePriority;
      if (!maxFreeze.empty()) {
        policy.maxFreeze = cryo::TaskRunner::parseDuration(maxFreeze, 1);
        policy.mode = cryo::FreezeMode::kPrecopy;
      }
      if (!freezeMode.empty()) policy.mode = cryo::CheckpointPolicy::parseMode(freezeMode);
      cryo::CheckpointStore st(store, true);
      st.removeIncomplete();
      cryo::CheckpointInfo info = cryo::Checkpointer::once(st, pid, policy);
      if (keep) st.compact(keep);
      spdlog::info("checkpoint {}: {} pages, frozen {} us", info.id, info.dump.pages,
                   info.dump.freezeUs);
    } else if (*check) {
      std::cout << cryo::TrackerFactory::report();
    } else if (*stats) {
      std::cout << cryo::StoreCommands::stats(store, json);
    } else if (*ls) {
      std::cout << cryo::StoreCommands::list(store, json);
    } else if (*show) {
      cryo::ImageReader image(images);
      if (json)
        std::cout << cryo::ImageDescriber::toJson(image).dump(2) << "\n";
      else
        std::cout << cryo::ImageDescriber::toText(image);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cryo: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
