// PageReader: finds the pages of a process that hold data (from /proc/PID/pagemap) and copies
// them, in large batches, from the process into the image's page store.
#include "dump/PageReader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "common/UniqueFd.h"
#include "image/ImageFormat.h"

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

PageReader::PageReader(pid_t pid, RemoteMemory& mem, PageWriter& out)
    : pid_(pid), mem_(mem), out_(out) {}

void PageReader::addRange(uint64_t start, uint64_t end, Mode mode) {
  ranges_.push_back({start, end, mode});
}

void PageReader::run(google::protobuf::RepeatedPtrField<img::PageRun>& runs) {
  std::string pm = ProcFs::path(pid_, "pagemap");
  UniqueFd fd(::open(pm.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) failErrno("cannot open {}", pm);
  buf_.resize(kBatchPages * kPage);
  uint64_t zero = zeroPfn();
  std::vector<uint64_t> entries;
  for (const Range& r : ranges_) {
    uint64_t n = (r.end - r.start) / kPage;
    entries.resize(n);
    size_t want = n * 8;
    ssize_t got = ::pread(fd.get(), entries.data(), want, static_cast<off_t>(r.start / kPage * 8));
    if (got != static_cast<ssize_t>(want))
      failErrno("pid {}: cannot read pagemap for {:#x}-{:#x}", pid_, r.start, r.end);
    uint64_t runStart = 0, runLen = 0;
    for (uint64_t i = 0; i <= n; ++i) {
      bool take = false;
      if (i < n) {
        uint64_t e = entries[i];
        bool present = e & kPmPresent, swapped = e & kPmSwapped, file = e & kPmFile;
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
        }
      }
      if (take) {
        if (runLen == 0) runStart = r.start + i * kPage;
        ++runLen;
        if (batchPages_ + runLen == kBatchPages) {
          batch_.emplace_back(runStart, runLen);
          batchPages_ += runLen;
          flush(runs);
          runLen = 0;
        }
      } else if (runLen) {
        batch_.emplace_back(runStart, runLen);
        batchPages_ += runLen;
        runLen = 0;
        if (batchPages_ >= kBatchPages / 2) flush(runs);
      }
    }
  }
  flush(runs);
}

void PageReader::flush(google::protobuf::RepeatedPtrField<img::PageRun>& runs) {
  if (batch_.empty()) return;
  std::vector<iovec> local, remote;
  local.reserve(batch_.size());
  remote.reserve(batch_.size());
  uint64_t off = 0;
  for (auto& [addr, n] : batch_) {
    local.push_back({buf_.data() + off, n * kPage});
    remote.push_back({reinterpret_cast<void*>(addr), n * kPage});
    off += n * kPage;
  }
  mem_.readv(local, remote);
  off = 0;
  for (auto& [addr, n] : batch_) {
    *runs.Add() = out_.append(addr, buf_.data() + off, n);
    off += n * kPage;
    pages_ += n;
  }
  batch_.clear();
  batchPages_ = 0;
}

}  // namespace cryo
