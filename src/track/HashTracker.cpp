// HashTracker: the last-resort dirty-page backend: an XXH3 hash of every page, compared with
// the hashes of the previous checkpoint. Needs no kernel support; reads all memory each time.
#include "track/HashTracker.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vector>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "dump/DumpContext.h"
#include "image/Checksum.h"

namespace cryo {

namespace {
constexpr uint64_t kPage = 4096;
constexpr uint64_t kPresentOrSwapped = (1ULL << 63) | (1ULL << 62);
}  // namespace

std::unordered_map<uint64_t, uint64_t> HashTracker::scan(DumpContext& ctx) {
  std::unordered_map<uint64_t, uint64_t> out;
  std::string p = ProcFs::path(ctx.pid(), "pagemap");
  UniqueFd pm(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!pm) failErrno("cannot open {}", p);
  BufferPool& pool = ctx.copyBuffers();
  uint8_t* buf = pool.buffer(0);
  uint64_t cap = pool.bufferSize() / kPage;
  std::vector<uint64_t> e;
  std::vector<uint64_t> batch;
  auto flush = [&] {
    if (batch.empty()) return;
    std::vector<iovec> local, remote;
    for (size_t i = 0; i < batch.size(); ++i) {
      local.push_back({buf + i * kPage, kPage});
      remote.push_back({reinterpret_cast<void*>(batch[i]), kPage});
    }
    ctx.memory().readv(local, remote);
    for (size_t i = 0; i < batch.size(); ++i) out[batch[i]] = Checksum::of(buf + i * kPage, kPage);
    batch.clear();
  };
  for (const MapsEntry& m : ctx.maps()) {
    if (!trackable(m)) continue;
    uint64_t n = m.size() / kPage;
    e.resize(n);
    if (::pread(pm.get(), e.data(), n * 8, static_cast<off_t>(m.start / kPage * 8)) !=
        static_cast<ssize_t>(n * 8))
      failErrno("cannot read {}", p);
    for (uint64_t i = 0; i < n; ++i) {
      if (!(e[i] & kPresentOrSwapped)) continue;
      batch.push_back(m.start + i * kPage);
      if (batch.size() == cap) flush();
    }
  }
  flush();
  return out;
}

void HashTracker::arm(DumpContext& ctx) {
  hashes_ = scan(ctx);
  mappings_.clear();
  for (const MapsEntry& m : ctx.maps())
    if (trackable(m)) mappings_[m.start] = m.end;
}

PageRanges HashTracker::changed(DumpContext& ctx) {
  auto now = scan(ctx);
  PageRanges out;
  auto add = [&](uint64_t s, uint64_t e) {
    if (!out.empty() && out.back().second == s)
      out.back().second = e;
    else
      out.emplace_back(s, e);
  };
  // Page by page: a page no tracked mapping covered before is new; a covered one changed if
  // its hash did, or if it appeared or disappeared.
  auto coveredBefore = [&](uint64_t a) {
    auto it = mappings_.upper_bound(a);
    if (it == mappings_.begin()) return false;
    --it;
    return a < it->second;
  };
  for (const MapsEntry& m : ctx.maps()) {
    if (!trackable(m)) continue;
    for (uint64_t a = m.start; a < m.end; a += kPage) {
      if (!coveredBefore(a)) {
        add(a, a + kPage);
        continue;
      }
      auto was = hashes_.find(a);
      auto is = now.find(a);
      bool same = (was == hashes_.end() && is == now.end()) ||
                  (was != hashes_.end() && is != now.end() && was->second == is->second);
      if (!same) add(a, a + kPage);
    }
  }
  hashes_ = std::move(now);
  mappings_.clear();
  for (const MapsEntry& m : ctx.maps())
    if (trackable(m)) mappings_[m.start] = m.end;
  return out;
}

}  // namespace cryo
