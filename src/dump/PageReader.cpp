// PageReader: finds the pages of a process that hold data (from /proc/PID/pagemap) and copies
// them, in large batches, from the process into the image's page store.
#include "dump/PageReader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>


#include "common/Error.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "image/ImageFormat.h"
#include "track/KernelFeatures.h"
#include "track/Pagemap.h"

namespace cryo {

namespace {
constexpr uint64_t kPage = image::kPageSize;
constexpr uint64_t kBatchPages = 2048;  // 8 MiB per copy batch
constexpr uint64_t kPmPresent = 1ULL << 63;
constexpr uint64_t kPmSwapped = 1ULL << 62;
constexpr uint64_t kPmFile = 1ULL << 61;
constexpr uint64_t kPmPfnMask = (1ULL << 55) - 1;
}  // namespace

uint64_t PageReader::zeroPfn() {
  static uint64_t pfn = [] {
    void* p = ::mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return uint64_t(0);
    volatile char c = *static_cast<volatile char*>(p);  // maps the shared zero page
    (void)c;
    uint64_t entry = 0;
    UniqueFd fd(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
    if (fd) {
      off_t off = static_cast<off_t>(reinterpret_cast<uint64_t>(p) / kPage * 8);
      if (::pread(fd.get(), &entry, 8, off) != 8) entry = 0;
    }
    ::munmap(p, kPage);
    return (entry & kPmPresent) ? (entry & kPmPfnMask) : uint64_t(0);
  }();
  return pfn;
}

PageReader::~PageReader() {
  try {
    finish();
  } catch (...) {
  }
}

PageReader::PageReader(pid_t pid, RemoteMemory& mem, PageWriter& out, BufferPool& pool)
    : pid_(pid), mem_(mem), out_(out), pool_(pool) {
  if (pool.bufferSize() < kBatchPages * kPage) fail("copy buffers are too small");
}

void PageReader::addRange(uint64_t start, uint64_t end, Mode mode, bool recordRest) {
  ranges_.push_back({start, end, mode, recordRest});
}

void PageReader::run(google::protobuf::RepeatedPtrField<img::PageRun>& runs) {
  Pagemap pagemap(pid_);
  free_.clear();
  for (size_t i = 0; i < pool_.count(); ++i) free_.push_back(pool_.buffer(i));
  done_ = false;
  runs_ = &runs;
  // The storer starts only when the copy needs buffers back, or in finish(): while the task is
  // frozen, cryo does nothing but copy unless the copy outgrows the buffers.
  try {
    uint64_t zero = zeroPfn();
    const KernelFeatures& kf = KernelFeatures::get();
    std::vector<uint64_t> entries;
    for (const Range& r : ranges_) {
      uint64_t n = (r.end - r.start) / kPage;
      pagemap.entries(r.start, r.end, entries);
      uint64_t runStart = 0, runLen = 0, zeroStart = 0, zeroLen = 0;
      for (uint64_t i = 0; i <= n; ++i) {
        bool take = false;
        if (i < n) {
          uint64_t e = entries[i];
          bool present = e & kPmPresent, swapped = e & kPmSwapped, file = e & kPmFile;
          // A write-protect marker of dirty-page tracking is a page that holds nothing.
          if (swapped && kf.isUffdWpMarker(e)) swapped = false;
          switch (r.mode) {
            case kAnonPresent:
              take = swapped || (present && !(zero && (e & kPmPfnMask) == zero));
              break;
            case kAnyPresent:
              take = present || swapped;
              break;
            case kPrivateCopies:
              take = swapped || (present && !file);
              break;
            case kAll:
              take = true;
              break;
            case kNone:
              break;
          }
        }
        if (r.recordRest) {
          if (i < n && !take) {
            if (zeroLen == 0) zeroStart = r.start + i * kPage;
            ++zeroLen;
          } else if (zeroLen) {
            zeroRuns_.push_back(PageWriter::zeroRun(zeroStart, zeroLen));
            zeroLen = 0;
          }
        }
        if (take) {
          if (runLen == 0) runStart = r.start + i * kPage;
          ++runLen;
          if (batch_.pages + runLen == kBatchPages) {
            batch_.runs.emplace_back(runStart, runLen);
            batch_.pages += runLen;
            flush();
            runLen = 0;
          }
        } else if (runLen) {
          batch_.runs.emplace_back(runStart, runLen);
          batch_.pages += runLen;
          runLen = 0;
          if (batch_.pages >= kBatchPages / 2) flush();
        }
      }
    }
    flush();
  } catch (...) {
    finish();
    throw;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;  // everything is copied out of the task; the storer drains the rest
  }
  cv_.notify_all();
}

void PageReader::finish() {
  if (!runs_) return;
  startStorer();
  {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
  }
  cv_.notify_all();
  storer_.join();
  auto& runs = *runs_;
  runs_ = nullptr;
  if (storeError_) std::rethrow_exception(storeError_);
  for (auto& z : zeroRuns_) *runs.Add() = std::move(z);
  zeroRuns_.clear();
  // Runs in address order, as the image format promises.
  std::sort(runs.begin(), runs.end(),
            [](const img::PageRun& a, const img::PageRun& b) { return a.vaddr() < b.vaddr(); });
}

void PageReader::startStorer() {
  if (!storer_.joinable()) storer_ = std::thread(&PageReader::storeLoop, this, runs_);
}

uint8_t* PageReader::takeFreeBuffer() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (free_.empty()) startStorer();
  }
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] { return !free_.empty() || storeError_; });
  if (storeError_) std::rethrow_exception(storeError_);
  auto* b = free_.back();
  free_.pop_back();
  return b;
}

void PageReader::flush() {
  if (batch_.runs.empty()) return;
  batch_.buf = takeFreeBuffer();
  std::vector<iovec> local, remote;
  local.reserve(batch_.runs.size());
  remote.reserve(batch_.runs.size());
  uint64_t off = 0;
  for (auto& [addr, n] : batch_.runs) {
    local.push_back({batch_.buf + off, n * kPage});
    remote.push_back({reinterpret_cast<void*>(addr), n * kPage});
    off += n * kPage;
  }
  try {
    mem_.readv(local, remote);
  } catch (...) {
    std::lock_guard<std::mutex> l(mu_);
    free_.push_back(batch_.buf);
    throw;
  }
  pages_ += batch_.pages;
  {
    std::lock_guard<std::mutex> l(mu_);
    full_.push_back(std::move(batch_));
  }
  cv_.notify_all();
  batch_ = Batch{};
}

void PageReader::storeLoop(google::protobuf::RepeatedPtrField<img::PageRun>* runs) {
  for (;;) {
    Batch b;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return !full_.empty() || done_; });
      if (full_.empty()) return;
      b = std::move(full_.front());
      full_.pop_front();
    }
    try {
      if (!storeError_) {
        uint64_t off = 0;
        for (auto& [addr, n] : b.runs) {
          *runs->Add() = out_.append(addr, b.buf + off, n);
          off += n * kPage;
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> l(mu_);
      storeError_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      free_.push_back(b.buf);
    }
    cv_.notify_all();
  }
}

}  // namespace cryo
