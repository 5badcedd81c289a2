// Checkpointer: takes the checkpoints of one running task into a store: a full one first, then
// incremental ones holding only the pages written since the previous checkpoint (found by a
// dirty-page tracker that stays armed between checkpoints).
#include "store/Checkpointer.h"

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "dump/PageSelection.h"
#include "image/ImageReader.h"
#include "track/DirtyTracker.h"
#include "track/ParentDiffSelection.h"
#include "track/TrackerFactory.h"

namespace cryo {

// Feeds the tracker's answers into a dump (while the task is frozen).
class Checkpointer::Selection : public PageSelection {
 public:
  Selection(DirtyTracker& t, bool incremental) : tracker_(t), incremental_(incremental) {}
  std::optional<PageRanges> changedRanges(DumpContext& ctx) override {
    if (!incremental_) return std::nullopt;
    return tracker_.changed(ctx);
  }
  void captured(DumpContext& ctx) override {
    if (incremental_)
      tracker_.trackNew(ctx);
    else
      tracker_.arm(ctx);
  }

 private:
  DirtyTracker& tracker_;
  bool incremental_;
};

Checkpointer::Checkpointer(CheckpointStore& store, pid_t pid, const std::string& trackerName)
    : store_(store), pid_(pid) {
  tracker_ = TrackerFactory::create(trackerName);
  trackerName_ = tracker_ ? std::string(tracker_->name()) : "none";
}

Checkpointer::~Checkpointer() = default;

CheckpointInfo Checkpointer::checkpoint() {
  CheckpointInfo info;
  std::filesystem::path dir = store_.nextPath();
  DumpOptions o;
  o.leaveRunning = true;
  info.incremental = tracker_ && armed_ && std::filesystem::exists(parent_);
  std::unique_ptr<Selection> sel;
  if (tracker_) {
    sel = std::make_unique<Selection>(*tracker_, info.incremental);
    o.selection = sel.get();
    if (info.incremental) o.parent = parent_;
    o.trackerName = trackerName_;
  }
  // A failed checkpoint may have consumed the tracker's record of writes: the next one is full.
  armed_ = false;
  info.dump = Dumper::run(pid_, dir, o);
  info.id = dir.filename().string();
  parent_ = dir;
  armed_ = tracker_ != nullptr;
  return info;
}

CheckpointInfo Checkpointer::once(CheckpointStore& store, pid_t pid) {
  CheckpointInfo info;
  std::filesystem::path dir = store.nextPath();
  DumpOptions o;
  o.leaveRunning = true;
  std::unique_ptr<ParentDiffSelection> sel;
  auto latest = store.latestComplete();
  if (latest && latest->manifest.root_pid() == pid) {
    sel = std::make_unique<ParentDiffSelection>(latest->path);
    o.parent = latest->path;
    o.selection = sel.get();
    o.trackerName = "parent-diff";
    info.incremental = true;
  }
  info.dump = Dumper::run(pid, dir, o);
  info.id = dir.filename().string();
  return info;
}

}  // namespace cryo
