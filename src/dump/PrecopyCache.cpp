// PrecopyCache: copies of a task's pages made while it runs (bounded-freeze checkpoints).
#include "dump/PrecopyCache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "common/Error.h"
#include "image/ImageFormat.h"
#include "image/PageWriter.h"
#include "dump/PageReader.h"
#include "track/KernelFeatures.h"
#include "track/Pagemap.h"

namespace cryo {

namespace {
constexpr uint64_t kPage = image::kPageSize;
constexpr uint32_t kChunkPages = 2048;  // 8 MiB of copies per chunk
constexpr size_t kIovMax = 1024;
constexpr uint64_t kStorePages = 2048;  // staging buffer for store(): 8 MiB
}  // namespace

PrecopyCache::PrecopyCache(pid_t pid) : pid_(pid) {}

void PrecopyCache::clear() {
  slotOf_.clear();
  freeSlots_.clear();
  nextSlot_ = 0;
  missed_.clear();
  zero_.clear();
  unchecked_.clear();
}

void PrecopyCache::endCheckpoint(bool full) {
  if (!full) {
    usage_.push_back(nextSlot_);
    if (usage_.size() > kUsageHistory) usage_.erase(usage_.begin());
  }
  uint32_t need = usage_.empty() ? 0 : *std::max_element(usage_.begin(), usage_.end());
  clear();
  size_t keepChunks = (need + kChunkPages - 1) / kChunkPages;
  while (chunks_.size() > keepChunks) {
    ::munmap(chunks_.back(), kChunkPages * kPage);
    chunks_.pop_back();
  }
}

uint64_t PrecopyCache::reservedPages() const { return uint64_t(chunks_.size()) * kChunkPages; }

PrecopyCache::~PrecopyCache() {
  for (uint8_t* c : chunks_) ::munmap(c, kChunkPages * kPage);
}

uint8_t* PrecopyCache::slotData(uint32_t slot) const {
  return chunks_[slot / kChunkPages] + uint64_t(slot % kChunkPages) * kPage;
}

uint32_t PrecopyCache::slotFor(uint64_t page) {
  auto it = slotOf_.find(page);
  if (it != slotOf_.end()) return it->second;
  uint32_t slot;
  if (!freeSlots_.empty()) {
    slot = freeSlots_.back();
    freeSlots_.pop_back();
  } else {
    if (nextSlot_ / kChunkPages == chunks_.size()) {
      void* p = ::mmap(nullptr, kChunkPages * kPage, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) failErrno("pid {}: cannot allocate memory for page copies", pid_);
      chunks_.push_back(static_cast<uint8_t*>(p));
    }
    slot = nextSlot_++;
  }
  slotOf_.emplace(page, slot);
  return slot;
}

void PrecopyCache::release(std::map<uint64_t, uint32_t>::iterator it) {
  freeSlots_.push_back(it->second);
  slotOf_.erase(it);
}

std::vector<uint64_t> PrecopyCache::readBatch(
    const std::vector<std::pair<uint64_t, uint32_t>>& pages) {
  std::vector<uint64_t> failed;
  size_t i = 0;
  while (i < pages.size()) {
    // One process_vm_readv for up to kIovMax iovecs, each joining pages that are adjacent both
    // in the task and among the slots.
    std::vector<iovec> local, remote;
    std::vector<size_t> firstPage;  // index into `pages` of each iovec's first page
    size_t j = i;
    for (; j < pages.size(); ++j) {
      auto [addr, slot] = pages[j];
      uint8_t* dst = slotData(slot);
      if (inPlace_.covers(addr, addr + kPage)) {
        if (remote.empty()) j = readInPlace(pages, j, failed);  // (else it ends this batch)
        break;
      }
      if (!remote.empty() &&
          reinterpret_cast<uint64_t>(remote.back().iov_base) + remote.back().iov_len == addr &&
          static_cast<uint8_t*>(local.back().iov_base) + local.back().iov_len == dst) {
        remote.back().iov_len += kPage;
        local.back().iov_len += kPage;
        continue;
      }
      if (remote.size() == kIovMax) break;
      remote.push_back({reinterpret_cast<void*>(addr), kPage});
      local.push_back({dst, kPage});
      firstPage.push_back(j);
    }
    if (remote.empty()) {
      i = j;
      continue;
    }
    ssize_t got = ::process_vm_readv(pid_, local.data(), local.size(), remote.data(),
                                     remote.size(), 0);
    uint64_t want = uint64_t(j - i) * kPage;
    if (got == static_cast<ssize_t>(want)) {
      i = j;
      continue;
    }
    if (got < 0 && errno == ESRCH) failErrno("pid {}: the task went away during the copy", pid_);
    // A short read stops at the first page that cannot be read: that one is lost, the rest
    // of the batch is tried again.
    uint64_t done = got > 0 ? static_cast<uint64_t>(got) / kPage : 0;
    failed.push_back(pages[i + done].first);
    i += done + 1;
  }
  return failed;
}

size_t PrecopyCache::readInPlace(const std::vector<std::pair<uint64_t, uint32_t>>& pages,
                                 size_t i, std::vector<uint64_t>& failed) {
  if (!mem_) {
    mem_.reset(::open(fmt::format("/proc/{}/mem", pid_).c_str(), O_RDONLY | O_CLOEXEC));
    if (!mem_) failErrno("pid {}: cannot open /proc/{}/mem", pid_, pid_);
  }
  // The pages from i on that follow each other in the task and among the slots: one read.
  size_t j = i + 1;
  while (j < pages.size() && pages[j].first == pages[j - 1].first + kPage &&
         slotData(pages[j].second) == slotData(pages[j - 1].second) + kPage &&
         inPlace_.covers(pages[j].first, pages[j].first + kPage))
    ++j;
  ssize_t n;
  do {
    n = ::pread(mem_.get(), slotData(pages[i].second), (j - i) * kPage,
                static_cast<off_t>(pages[i].first));
  } while (n < 0 && errno == EINTR);
  size_t done = n > 0 ? static_cast<size_t>(n) / kPage : 0;
  if (i + done == j) return j;
  failed.push_back(pages[i + done].first);  // the first that cannot be read: lost
  return i + done + 1;
}

uint64_t PrecopyCache::copy(const DirtySet& ranges, const DirtySet& privateAnon) {
  std::vector<std::pair<uint64_t, uint32_t>> batch;
  uint64_t copied = 0;
  missed_ = missed_.subtract(ranges);
  zero_ = zero_.subtract(ranges);
  unchecked_ = unchecked_.subtract(ranges);
  // Which pages hold data, from pagemap: present but for the shared zero page and page-cache
  // (file or shared) pages, or swapped out but for write-protect markers. Short runs of
  // private anonymous memory are taken as holding data unread (see PageReader): one that the
  // task dropped reads as zeros, and is stored as a ZERO run.
  DirtySet data, unchecked, zero, inPlace;  // (in address order: each add appends)
  {
    std::optional<Pagemap> pm;
    const uint64_t zeroPfn = PageReader::zeroPfn();
    const KernelFeatures& kf = KernelFeatures::get();
    std::vector<uint64_t> ent;
    for (const auto& [s, e] : ranges.ranges()) {
      if ((e - s) / kPage <= PageReader::kUncheckedMaxPages && privateAnon.covers(s, e)) {
        data.add(s, e);
        unchecked.add(s, e);
        continue;
      }
      if (!pm) pm.emplace(pid_);
      pm->entries(s, e, ent);
      uint64_t addr = s;
      size_t n = ent.size();
      {
        for (size_t i = 0; i < n; ++i) {
          uint64_t v = ent[i];
          bool holds = false;
          if (v & Pagemap::kPresent)
            holds = !(v & Pagemap::kFileOrShared) &&
                    !(zeroPfn && (v & Pagemap::kPfnMask) == zeroPfn);
          else if (v & Pagemap::kSwapped)
            holds = !kf.isUffdWpMarker(v) && !(v & Pagemap::kFileOrShared);
          uint64_t a = addr + i * kPage;
          if (holds) data.add(a, a + kPage);
          else zero.add(a, a + kPage);
          // Shared copy-on-write with another process (after a fork): read in place.
          if (holds && (!(v & Pagemap::kPresent) || !(v & Pagemap::kExclusive)))
            inPlace.add(a, a + kPage);
        }
      }
    }
  }
  unchecked_.add(unchecked);
  zero_.add(zero);
  // Short runs copied unchecked may be shared too: read in place (a few pages each).
  inPlace.add(unchecked);
  inPlace_ = std::move(inPlace);
  forget(ranges.subtract(data));
  auto flush = [&] {
    for (uint64_t addr : readBatch(batch)) {
      auto it = slotOf_.find(addr);
      if (it != slotOf_.end()) release(it);
      missed_.add(addr, addr + kPage);
      --copied;
    }
    batch.clear();
  };
  for (const auto& [s, e] : data.ranges()) {
    for (uint64_t a = s; a < e; a += kPage) {
      batch.emplace_back(a, slotFor(a));
      ++copied;
      if (batch.size() == kChunkPages) flush();
    }
  }
  flush();
  return copied;
}

void PrecopyCache::forget(const DirtySet& ranges) {
  for (const auto& [s, e] : ranges.ranges()) {
    auto it = slotOf_.lower_bound(s);
    while (it != slotOf_.end() && it->first < e) {
      auto next = std::next(it);
      release(it);
      it = next;
    }
  }
}

DirtySet PrecopyCache::held() const {
  DirtySet out;
  uint64_t runStart = 0, runEnd = 0;
  for (const auto& [addr, slot] : slotOf_) {
    if (addr != runEnd) {
      if (runEnd) out.add(runStart, runEnd);
      runStart = addr;
    }
    runEnd = addr + kPage;
  }
  if (runEnd) out.add(runStart, runEnd);
  return out;
}

uint64_t PrecopyCache::store(PageWriter& out, const DirtySet& keep,
                             google::protobuf::RepeatedPtrField<img::PageRun>& runs) const {
  if (!staging_) staging_.reset(new uint8_t[kStorePages * kPage]);  // no need to zero it
  uint8_t* staging = staging_.get();
  uint64_t stored = 0;
  for (const auto& [s, e] : keep.ranges()) {
    uint64_t runStart = 0, n = 0;
    auto emit = [&] {
      if (n) *runs.Add() = out.append(runStart, staging, n);
      stored += n;
      n = 0;
    };
    DirtySet uncheckedZeros;  // pages copied unread that turned out to hold nothing
    for (auto it = slotOf_.lower_bound(s); it != slotOf_.end() && it->first < e; ++it) {
      const uint8_t* data = slotData(it->second);
      if (PageReader::isZeroPage(data) && unchecked_.contains(it->first)) {
        uncheckedZeros.add(it->first, it->first + kPage);
        continue;
      }
      if (n && (it->first != runStart + n * kPage || n == kStorePages)) emit();
      if (n == 0) runStart = it->first;
      std::memcpy(staging + n * kPage, data, kPage);
      ++n;
    }
    emit();
    for (const auto& [zs, ze] : uncheckedZeros.ranges())
      *runs.Add() = PageWriter::zeroRun(zs, (ze - zs) / kPage);
  }
  DirtySet zeros = zero_.intersect(keep);
  for (const auto& [s, e] : zeros.ranges()) *runs.Add() = PageWriter::zeroRun(s, (e - s) / kPage);
  return stored;
}

}  // namespace cryo
