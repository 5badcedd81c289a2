// HashTracker: the last-resort dirty-page backend: an XXH3-64 hash of every page that holds
// data, compared with the hashes of the previous checkpoint. Needs nothing from the kernel;
// reads all tracked memory at each checkpoint while the task is frozen.
//
// A page counts as changed when its hash differs, or when it held data at one sweep and not
// at the other (dropped, or populated since). Pages that never held data are not read.
#include "track/HashTracker.h"

#include <sys/uio.h>

#include <xxhash.h>

#include "common/ProcFs.h"
#include "dump/PageReader.h"
#include "inject/RemoteMemory.h"
#include "track/MappingPolicy.h"
#include "track/Pagemap.h"
#include "track/TrackTarget.h"

namespace cryo {

namespace {
constexpr size_t kBatchPages = 2048;  // pages read per batch (8 MiB with 4 KiB pages)
}  // namespace

void HashTracker::hashPages(RemoteMemory& mem, std::vector<uint64_t>& pending, Hashes& out) {
  if (pending.empty()) return;
  const uint64_t page = pageSize();
  buffer_.resize(kBatchPages * page);
  std::vector<iovec> local, remote;
  for (size_t i = 0; i < pending.size(); ++i) {
    uint8_t* dst = buffer_.data() + i * page;
    auto* src = reinterpret_cast<void*>(pending[i]);
    if (!remote.empty() &&
        reinterpret_cast<uint64_t>(remote.back().iov_base) + remote.back().iov_len == pending[i]) {
      local.back().iov_len += page;
      remote.back().iov_len += page;
    } else {
      local.push_back({dst, page});
      remote.push_back({src, page});
    }
  }
  mem.readv(local, remote);
  for (size_t i = 0; i < pending.size(); ++i) {
    out.addrs.push_back(pending[i]);
    out.values.push_back(XXH3_64bits(buffer_.data() + i * page, page));
  }
  pending.clear();
}

DirtySet HashTracker::sweep(TrackTarget& target, bool report) {
  const uint64_t page = pageSize();
  if (pid_ != target.pid()) {
    pid_ = target.pid();
    tracked_.clear();
    hashes_ = Hashes{};
  }
  const uint64_t zeroPfn = PageReader::zeroPfn();
  Pagemap pm(pid_);
  RemoteMemory& mem = target.memory();
  DirtySet dirty, scope, tracked;
  Hashes now;
  now.addrs.reserve(hashes_.addrs.size());
  now.values.reserve(hashes_.values.size());
  std::vector<uint64_t> pending;
  pending.reserve(kBatchPages);
  for (const MapsEntry& m : target.maps()) {
    MappingKind kind = MappingPolicy::classify(m);
    if (kind == MappingKind::kUntracked) continue;
    scope.add(m.start, m.end);
    if (kind == MappingKind::kSharedAnon) {
      if (report) dirty.add(m.start, m.end);  // other processes may write it
      continue;
    }
    tracked.add(m.start, m.end);
    if (report) dirty.add(DirtySet{{m.start, m.end}}.subtract(tracked_));  // not followed before
    pm.read(m.start, m.end, [&](uint64_t addr, const uint64_t* e, size_t n) {
      for (size_t i = 0; i < n; ++i) {
        if (!Pagemap::holdsData(e[i], kind, zeroPfn)) continue;
        pending.push_back(addr + i * page);
        if (pending.size() == kBatchPages) hashPages(mem, pending, now);
      }
    });
  }
  hashPages(mem, pending, now);

  if (report) {
    // Both lists ascend: walk them together.
    const Hashes& was = hashes_;
    size_t i = 0, j = 0;
    while (i < was.addrs.size() || j < now.addrs.size()) {
      if (j == now.addrs.size() || (i < was.addrs.size() && was.addrs[i] < now.addrs[j])) {
        if (scope.contains(was.addrs[i])) dirty.add(was.addrs[i], was.addrs[i] + page);  // dropped
        ++i;
      } else if (i == was.addrs.size() || now.addrs[j] < was.addrs[i]) {
        dirty.add(now.addrs[j], now.addrs[j] + page);  // populated since
        ++j;
      } else {
        if (was.values[i] != now.values[j]) dirty.add(now.addrs[j], now.addrs[j] + page);
        ++i;
        ++j;
      }
    }
  }
  tracked_ = std::move(tracked);
  hashes_ = std::move(now);
  return dirty;
}

void HashTracker::doArm(TrackTarget& target) { sweep(target, false); }

DirtySet HashTracker::doCollect(TrackTarget& target) { return sweep(target, true); }

}  // namespace cryo
