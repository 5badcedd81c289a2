// CrossCheckTracker: a dirty-page backend checked against page hashes (CRYO_CROSSCHECK=1).
#include "track/CrossCheckTracker.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "inject/RemoteMemory.h"
#include "track/Pagemap.h"
#include "track/TrackTarget.h"

namespace cryo {

CrossCheckTracker::CrossCheckTracker(std::unique_ptr<DirtyTracker> checked)
    : checked_(std::move(checked)) {}

bool CrossCheckTracker::wanted() {
  const char* v = std::getenv("CRYO_CROSSCHECK");
  return v && *v && std::string(v) != "0";
}

bool CrossCheckTracker::frozen(pid_t pid) {
  for (pid_t tid : ProcFs::threads(pid)) {
    auto text = ProcFs::tryReadFile(ProcFs::path(pid, "task/" + std::to_string(tid) + "/stat"));
    if (!text) return false;
    size_t close = text->rfind(')');
    if (close == std::string::npos || close + 2 >= text->size()) return false;
    char state = (*text)[close + 2];
    if (state != 't' && state != 'T') return false;
  }
  return true;
}

void CrossCheckTracker::doArm(TrackTarget& target) {
  checked_->arm(target);
  hashes_.arm(target);
  reported_.clear();
}

DirtySet CrossCheckTracker::doCollect(TrackTarget& target) {
  DirtySet out = checked_->collect(target, rearmLater_);
  reported_.add(out);
  if (!frozen(target.pid())) return out;
  ++frozenCollects_;
  std::vector<uint64_t> held = hashes_.pagesHoldingData();
  DirtySet changed = hashes_.collect(target);
  compare(target, changed.subtract(populatedWithZeros(target, changed, held)));
  reported_.clear();
  return out;
}

bool CrossCheckTracker::collectInjects(TrackTarget& target) {
  return !checked_->collectsWithoutInjection(target);
}

// A page that held no data at the last frozen collect and holds only zeros now reads as it did:
// a write that faulted a fresh page in and was stopped before it was made (the write-protected
// zero-filled page is there, the write is retried when the task runs) has changed nothing yet.
DirtySet CrossCheckTracker::populatedWithZeros(TrackTarget& target, const DirtySet& changed,
                                               const std::vector<uint64_t>& held) {
  DirtySet out;
  std::vector<uint8_t> page(4096);
  DirtySet unreported = changed.subtract(reported_);
  for (const auto& [s, e] : unreported.ranges())
    for (uint64_t a = s; a < e; a += page.size()) {
      if (std::binary_search(held.begin(), held.end(), a)) continue;
      target.memory().read(a, page.data(), page.size());
      if (std::all_of(page.begin(), page.end(), [](uint8_t b) { return b == 0; }))
        out.add(a, a + page.size());
    }
  return out;
}

void CrossCheckTracker::compare(TrackTarget& target, const DirtySet& changed) const {
  DirtySet missed = changed.subtract(reported_);
  if (missed.empty()) return;
  std::string where;
  size_t shown = 0;
  for (const auto& [s, e] : missed.ranges()) {
    if (++shown > 8) {
      where += ", ...";
      break;
    }
    std::string mapping = "unmapped";
    for (const MapsEntry& m : target.maps())
      if (m.start <= s && s < m.end)
        mapping = fmt::format("{:#x}-{:#x} {}", m.start, m.end, m.path.empty() ? "[anon]" : m.path);
    std::vector<uint64_t> ent;
    Pagemap(target.pid()).entries(s, s + 4096, ent);
    where += fmt::format("{}{:#x}-{:#x} (in {}; pagemap {:#x})", shown > 1 ? ", " : "", s, e,
                         mapping, ent.empty() ? 0 : ent[0]);
  }
  fail("pid {}: collect {}: the {} tracker missed {} written pages (their hashes changed): {}", target.pid(),
       frozenCollects_, checked_->name(), missed.pages(4096), where);
}

}  // namespace cryo
