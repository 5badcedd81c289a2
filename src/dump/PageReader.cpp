// PageReader: finds the pages of a process that hold data (from /proc/PID/pagemap) and copies
// them, in large batches, from the process into the image's page store.
#include "dump/PageReader.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
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

bool PageReader::isZeroPage(const uint8_t* p) {
  static const uint8_t kZeros[kPage] = {};
  return std::memcmp(p, kZeros, kPage) == 0;
}

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

Pagemap& PageReader::pagemap() {
  std::call_once(pagemapOpened_, [&] { pagemap_ = std::make_unique<Pagemap>(pid_); });
  return *pagemap_;
}

PageReader::~PageReader() {
  try {
    finish();
  } catch (...) {
  }
}

PageReader::PageReader(pid_t pid, RemoteMemory& mem, PageWriter& out, BufferPool& pool)
    : pid_(pid), mem_(mem), out_(out), pool_(pool),
      storerPlacement_(ThreadPlacement::ofCallingThread()) {
  if (pool.bufferSize() < kBatchPages * kPage) fail("copy buffers are too small");
}

void PageReader::addRange(uint64_t start, uint64_t end, Mode mode, bool recordRest) {
  ranges_.push_back({start, end, mode, recordRest});
}

// Shared copies: pieces of at most this many pages (two copy batches), grouped into parts that
// two threads may take, so that a large range is copied by both too.
constexpr uint64_t kPiecePages = 2 * kBatchPages;
constexpr size_t kMaxParts = 8;

std::vector<std::vector<PageReader::Piece>> PageReader::plan(bool shared) const {
  std::vector<Piece> pieces;
  uint64_t total = 0;
  for (const Range& r : ranges_) total += (r.end - r.start) / kPage;
  if (total < kSharedMinPages) shared = false;
  const uint64_t piece = shared ? kPiecePages * kPage : ~uint64_t(0) / 2;
  for (const Range& r : ranges_) {
    for (uint64_t s = r.start; s < r.end;) {
      uint64_t e = s + std::min(piece, r.end - s);
      pieces.push_back({&r, s, e});
      s = e;
    }
  }
  // Every part ends with a batch of its own, in a buffer of its own: at most half the buffers
  // go to the parts' last batches, or the storer would have to start while the task is frozen.
  size_t parts = shared ? std::min({kMaxParts, pieces.size(), pool_.count() / 2}) : 1;
  std::vector<std::vector<Piece>> out(std::max<size_t>(parts, 1));
  // Consecutive pieces, about the same number of pages in each part.
  uint64_t per = parts > 1 ? (total + parts - 1) / parts : ~uint64_t(0), in = 0;
  size_t at = 0;
  for (const Piece& p : pieces) {
    if (in >= per && at + 1 < out.size()) {
      ++at;
      in = 0;
    }
    out[at].push_back(p);
    in += (p.end - p.start) / kPage;
  }
  return out;
}

void PageReader::copyPart(const std::vector<Piece>& part) {
  uint64_t zero = zeroPfn();
  const KernelFeatures& kf = KernelFeatures::get();
  std::vector<uint64_t> entries;
  std::vector<img::PageRun> zeroRuns;
  Batch batch;
  for (const Piece& piece : part) {
    const Range& r = *piece.range;
    uint64_t n = (piece.end - piece.start) / kPage;
    if (r.mode == kAnonPresent && r.recordRest && n <= kUncheckedMaxPages) {
      batch.runs.push_back({piece.start, n, true});
      batch.pages += n;
      if (batch.pages >= kBatchPages / 2) flush(batch);
      continue;
    }
    pagemap().entries(piece.start, piece.end, entries);
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
          if (zeroLen == 0) zeroStart = piece.start + i * kPage;
          ++zeroLen;
        } else if (zeroLen) {
          zeroRuns.push_back(PageWriter::zeroRun(zeroStart, zeroLen));
          zeroLen = 0;
        }
      }
      if (take) {
        if (runLen == 0) runStart = piece.start + i * kPage;
        ++runLen;
        if (batch.pages + runLen == kBatchPages) {
          batch.runs.push_back({runStart, runLen, false});
          batch.pages += runLen;
          flush(batch);
          runLen = 0;
        }
      } else if (runLen) {
        batch.runs.push_back({runStart, runLen, false});
        batch.pages += runLen;
        runLen = 0;
        if (batch.pages >= kBatchPages / 2) flush(batch);
      }
    }
  }
  flush(batch);
  std::lock_guard<std::mutex> l(mu_);
  for (auto& z : zeroRuns) zeroRuns_.push_back(std::move(z));
}

void PageReader::run(google::protobuf::RepeatedPtrField<img::PageRun>& runs) {
  free_.clear();
  for (size_t i = 0; i < pool_.count(); ++i) free_.push_back(pool_.buffer(i));
  done_ = false;
  runs_ = &runs;
  // The storer starts only when the copy needs buffers back, or in finish(): while the task is
  // frozen, cryo does nothing but copy unless the copy outgrows the buffers.
  try {
    std::vector<std::vector<Piece>> parts = plan(static_cast<bool>(shared_));
    auto copy = [&](size_t i) { copyPart(parts[i]); };
    if (parts.size() > 1)
      shared_(parts.size(), copy);
    else
      copy(0);
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

void PageReader::flush(Batch& batch) {
  if (batch.runs.empty()) return;
  batch.buf = takeFreeBuffer();
  std::vector<iovec> local, remote;
  local.reserve(batch.runs.size());
  remote.reserve(batch.runs.size());
  uint64_t off = 0;
  for (const Run& run : batch.runs) {
    local.push_back({batch.buf + off, run.pages * kPage});
    remote.push_back({reinterpret_cast<void*>(run.addr), run.pages * kPage});
    off += run.pages * kPage;
  }
  try {
    mem_.readv(local, remote);
  } catch (...) {
    std::lock_guard<std::mutex> l(mu_);
    free_.push_back(batch.buf);
    throw;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    pages_ += batch.pages;
    full_.push_back(std::move(batch));
  }
  cv_.notify_all();
  batch = Batch{};
}

void PageReader::storeUnchecked(google::protobuf::RepeatedPtrField<img::PageRun>& runs,
                                uint64_t addr, const uint8_t* data, uint64_t pages) {
  uint64_t i = 0;
  while (i < pages) {
    bool zero = isZeroPage(data + i * kPage);
    uint64_t j = i + 1;
    while (j < pages && isZeroPage(data + j * kPage) == zero) ++j;
    uint64_t at = addr + i * kPage;
    *runs.Add() = zero ? PageWriter::zeroRun(at, j - i) : out_.append(at, data + i * kPage, j - i);
    i = j;
  }
}

void PageReader::storeLoop(google::protobuf::RepeatedPtrField<img::PageRun>* runs) {
  ::pthread_setname_np(::pthread_self(), "cryo-storer");  // (as `top -H` shows it)
  // Started by the freeze's helper it would store at the idle policy on the task's CPUs,
  // hardly at all beside a busy task (and the next checkpoint waits for it). A matter of
  // speed only: if refused, it stores where it is.
  if (!storerPlacement_.applyToCallingThread())
    spdlog::debug("pid {}: the storer keeps its creator's CPUs or policy: {}", pid_,
                  std::strerror(errno));
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
        for (const Run& run : b.runs) {
          if (run.unchecked)
            storeUnchecked(*runs, run.addr, b.buf + off, run.pages);
          else
            *runs->Add() = out_.append(run.addr, b.buf + off, run.pages);
          off += run.pages * kPage;
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
