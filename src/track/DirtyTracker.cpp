// DirtyTracker: the interface of the dirty-page tracking backends: which pages of a task were
// written since the previous checkpoint. Every call happens while the task is frozen.
#include "track/DirtyTracker.h"

#include <unistd.h>

#include <chrono>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "track/DumpTarget.h"
#include "track/MappingPolicy.h"
#include "track/TrackTarget.h"

namespace cryo {

namespace {
using Clock = std::chrono::steady_clock;
long usSince(Clock::time_point t) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count());
}
}  // namespace

uint64_t DirtyTracker::pageSize() {
  static const uint64_t p = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return p;
}

bool DirtyTracker::trackable(const MapsEntry& m) { return MappingPolicy::tracked(m); }

void DirtyTracker::arm(TrackTarget& target) {
  auto t = Clock::now();
  armed_ = false;
  doArm(target);
  armed_ = true;
  pid_ = target.pid();
  spdlog::debug("pid {}: {} tracking armed in {} us", target.pid(), name(), usSince(t));
}

DirtySet DirtyTracker::collect(TrackTarget& target, bool rearmLater) {
  if (!armed_) fail("pid {}: {} tracking was never armed", target.pid(), name());
  if (pid_ != target.pid())
    fail("{} tracking was armed for pid {}, not pid {}", name(), pid_, target.pid());
  auto t = Clock::now();
  // A failure may leave writes recorded nowhere: the next checkpoint must be full.
  armed_ = false;
  rearmLater_ = rearmLater;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{rearmLater_};
  DirtySet out = doCollect(target);
  armed_ = true;
  spdlog::debug("pid {}: {} collect: {} pages in {} ranges, {} us", target.pid(), name(),
                out.pages(pageSize()), out.rangeCount(), usSince(t));
  return out;
}

void DirtyTracker::arm(DumpContext& ctx) {
  DumpTarget target(ctx);
  arm(target);
}

PageRanges DirtyTracker::changed(DumpContext& ctx, bool rearmLater) {
  DumpTarget target(ctx);
  target.settleThreads();
  return collect(target, rearmLater).pageRanges();
}

bool DirtyTracker::collectsWithoutInjection(TrackTarget& target) {
  return armed_ && pid_ == target.pid() && !collectInjects(target);
}

bool DirtyTracker::settleForCollect(DumpContext& ctx) {
  DumpTarget target(ctx);
  target.settleThreads();
  return collectsWithoutInjection(target);
}

PageRanges DirtyTracker::changedSettled(DumpContext& ctx, bool rearmLater) {
  DumpTarget target(ctx);
  return collect(target, rearmLater).pageRanges();
}

}  // namespace cryo
