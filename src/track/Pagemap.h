// Pagemap: /proc/PID/pagemap of one task, read two ways: its 64-bit entries page by page, and
// the PAGEMAP_SCAN ioctl (Linux 6.7), which returns ranges of pages by category and can
// write-protect (userfaultfd-wp) the pages it reports in the same walk.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "common/KernelCompat.h"
#include "common/UniqueFd.h"
#include "track/MappingPolicy.h"

namespace cryo {

class Pagemap {
 public:
  // Bits of a pagemap entry (Documentation/admin-guide/mm/pagemap.rst).
  static constexpr uint64_t kPresent = 1ULL << 63;
  static constexpr uint64_t kSwapped = 1ULL << 62;
  static constexpr uint64_t kFileOrShared = 1ULL << 61;
  static constexpr uint64_t kExclusive = 1ULL << 56;
  static constexpr uint64_t kSoftDirty = 1ULL << 55;
  static constexpr uint64_t kPfnMask = (1ULL << 55) - 1;

  // Whether a page with pagemap entry `e` in a mapping of `kind` holds data a checkpoint stores:
  // in anonymous memory a present page but the shared zero page (`zeroPfn`, 0 if unknown), in
  // a private file mapping a present private copy (not the file's page-cache page); in both a
  // swapped-out page, but not a write-protect marker of dirty-page tracking.
  static bool holdsData(uint64_t e, MappingKind kind, uint64_t zeroPfn);

  explicit Pagemap(pid_t pid);  // throws if /proc/PID/pagemap cannot be opened
  pid_t pid() const { return pid_; }
  int fd() const { return fd_.get(); }

  // Reads the entries of [start, end) in chunks: fn(address of entries[0], entries, count).
  void read(uint64_t start, uint64_t end,
            const std::function<void(uint64_t, const uint64_t*, size_t)>& fn);

  // The entries of [start, end) into `out` (resized).
  void entries(uint64_t start, uint64_t end, std::vector<uint64_t>& out);

  struct Query {
    uint64_t flags = 0;  // PM_SCAN_WP_MATCHING, PM_SCAN_CHECK_WPASYNC
    uint64_t categoryMask = 0;
    uint64_t categoryInverted = 0;
    uint64_t categoryAnyOf = 0;
    uint64_t returnMask = 0;
  };
  // PAGEMAP_SCAN over [start, end), repeated from walk_end until the range is done (the
  // result buffer may fill up); fn(start, end, categories) per reported region. Returns 0 or
  // the errno of a failed ioctl; `doneUpTo` says how far the walk got (on error too). Several
  // threads may scan through one Pagemap at once (each has a result buffer of its own).
  int scan(uint64_t start, uint64_t end, const Query& q,
           const std::function<void(uint64_t, uint64_t, uint64_t)>& fn, uint64_t* doneUpTo = nullptr);
  // PAGEMAP_SCAN with PM_SCAN_WP_MATCHING and no result buffer: write-protects every page of
  // [start, end) that is not protected yet (async userfaultfd-wp registered ranges only).
  int protect(uint64_t start, uint64_t end);

  // Number of regions one ioctl can return.
  static constexpr size_t kRegionsPerCall = 4096;

 private:
  pid_t pid_;
  UniqueFd fd_;
};

}  // namespace cryo
