// ParentDiffSelection: finds the pages changed since a parent image by comparing the task's
// memory with the parent chain's page data. Needs no tracking state, so one-shot commands
// (`cryo dump --parent`, `cryo checkpoint`) can take incremental checkpoints; it reads all of
// the task's memory while it is frozen (content comparison, the last-resort method).
#include "track/ParentDiffSelection.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <vector>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "dump/DumpContext.h"
#include "image/ImageChain.h"
#include "track/DirtyTracker.h"

namespace cryo {

namespace {
constexpr uint64_t kPage = 4096;
constexpr uint64_t kPresentOrSwapped = (1ULL << 63) | (1ULL << 62);
}  // namespace

std::optional<PageRanges> ParentDiffSelection::changedRanges(DumpContext& ctx) {
  ImageChain chain(parent_);
  const img::Process* proc = nullptr;
  for (const auto& p : chain.newest().tree().processes())
    if (p.pid() == ctx.pid()) proc = &p;
  if (!proc) return std::nullopt;  // a child new since the parent: all of its memory
  std::map<uint64_t, const uint8_t*> stored;  // page -> parent data
  for (const PageSource& s : chain.pageSources(*proc))
    for (uint64_t i = 0; i < s.nrPages; ++i) stored[s.vaddr + i * kPage] = s.data + i * kPage;
  std::map<uint64_t, uint64_t> covered;  // the parent's mappings
  for (const auto& v : proc->vmas()) covered[v.start()] = v.end();
  auto coveredByParent = [&](uint64_t a) {
    auto it = covered.upper_bound(a);
    if (it == covered.begin()) return false;
    --it;
    return a < it->second;
  };

  PageRanges out;
  auto add = [&](uint64_t a) {
    if (!out.empty() && out.back().second == a)
      out.back().second = a + kPage;
    else
      out.emplace_back(a, a + kPage);
  };
  std::string pmPath = ProcFs::path(ctx.pid(), "pagemap");
  UniqueFd pm(::open(pmPath.c_str(), O_RDONLY | O_CLOEXEC));
  if (!pm) failErrno("cannot open {}", pmPath);
  uint8_t* buf = ctx.copyBuffers().buffer(0);
  uint64_t cap = ctx.copyBuffers().bufferSize() / kPage;
  std::vector<uint64_t> entries;
  for (const MapsEntry& m : ctx.maps()) {
    if (!DirtyTracker::trackable(m)) continue;
    uint64_t n = m.size() / kPage;
    entries.resize(n);
    if (::pread(pm.get(), entries.data(), n * 8, static_cast<off_t>(m.start / kPage * 8)) !=
        static_cast<ssize_t>(n * 8))
      failErrno("cannot read {}", pmPath);
    for (uint64_t i = 0; i < n; i += cap) {
      uint64_t k = std::min(cap, n - i);
      std::vector<iovec> local, remote;
      std::vector<uint64_t> present;
      for (uint64_t j = 0; j < k; ++j) {
        uint64_t a = m.start + (i + j) * kPage;
        if (!(entries[i + j] & kPresentOrSwapped)) continue;
        local.push_back({buf + present.size() * kPage, kPage});
        remote.push_back({reinterpret_cast<void*>(a), kPage});
        present.push_back(a);
      }
      if (!present.empty()) ctx.memory().readv(local, remote);
      size_t pi = 0;
      for (uint64_t j = 0; j < k; ++j) {
        uint64_t a = m.start + (i + j) * kPage;
        bool isPresent = pi < present.size() && present[pi] == a;
        auto st = stored.find(a);
        if (!coveredByParent(a)) {
          add(a);
        } else if (isPresent) {
          if (st == stored.end() || std::memcmp(st->second, buf + pi * kPage, kPage) != 0) add(a);
        } else if (st != stored.end()) {
          add(a);  // the parent had data, the page is gone now
        }
        if (isPresent) ++pi;
      }
    }
  }
  return out;
}

}  // namespace cryo
