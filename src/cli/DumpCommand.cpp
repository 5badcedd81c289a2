// DumpCommand: `cryo dump`: picks the freeze mode and takes the one checkpoint.
#include "cli/DumpCommand.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "track/ParentDiffSelection.h"
#include "track/TrackerFactory.h"

namespace cryo {

FreezeMode DumpCommand::pickMode(const DumpRequest& req) {
  BackendStatus uffd = TrackerFactory::status("uffd-wp");
  if (!req.freezeMode.empty()) {
    FreezeMode m = CheckpointPolicy::parseMode(req.freezeMode);
    if (m == FreezeMode::kPrecopy && !req.parent.empty())
      fail("--freeze-mode precopy takes a full checkpoint: it cannot be used with --parent");
    if (m == FreezeMode::kPrecopy && !uffd.available)
      fail("--freeze-mode precopy needs userfaultfd write-protection, which this kernel does "
           "not offer: {}",
           uffd.detail);
    return m;
  }
  if (!req.parent.empty()) return FreezeMode::kStop;
  if (!uffd.available) {
    spdlog::info("no userfaultfd write-protection here ({}): the task is frozen while its "
                 "pages are copied",
                 uffd.detail);
    return FreezeMode::kStop;
  }
  return FreezeMode::kPrecopy;
}

DumpResult DumpCommand::run(const DumpRequest& req) {
  if (req.pid <= 0 || !ProcFs::exists(req.pid)) fail("no process with pid {}", req.pid);
  if (pickMode(req) == FreezeMode::kPrecopy) {
    // A burst of writes is waited out for half a second at most: whoever runs a dump waits for
    // it (a periodic checkpoint can come late instead).
    CheckpointPolicy policy = req.policy;
    policy.patience = std::min(policy.patience, std::chrono::milliseconds(500));
    return Checkpointer::dumpPrecopied(req.pid, req.images, policy, req.leaveRunning);
  }
  DumpOptions o;
  o.leaveRunning = req.leaveRunning;
  o.tcpClose = req.policy.tcpClose;
  o.recordView = req.policy.recordView;
  o.maxFreezeUs = static_cast<uint64_t>(req.policy.maxFreeze.count());
  o.freezePriority = req.policy.freezePriority;
  std::unique_ptr<ParentDiffSelection> sel;
  if (!req.parent.empty()) {
    sel = std::make_unique<ParentDiffSelection>(req.parent);
    o.parent = req.parent;
    o.selection = sel.get();
    o.trackerName = "parent-diff";
  }
  return Dumper::run(req.pid, req.images, o);
}

}  // namespace cryo
