// KernelFeatures: what this kernel offers for dirty-page tracking, probed at run time once per
// cryo process: userfaultfd and its asynchronous write-protect mode, PAGEMAP_SCAN, soft-dirty
// bits. Each probe exercises the feature for real (on cryo's own memory, or on a short-lived
// child), so a feature that is compiled in but does not work counts as missing.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace cryo {

class KernelFeatures {
 public:
  static const KernelFeatures& get();  // probed on first use

  // userfaultfd(UFFD_USER_MODE_ONLY) can be created.
  bool userfaultfd() const { return userfaultfd_; }
  // What UFFDIO_API granted when asked for WP_ASYNC | WP_UNPOPULATED (0 if refused).
  uint64_t uffdFeatures() const { return uffdFeatures_; }
  bool uffdWpAsync() const;
  bool uffdWpUnpopulated() const;
  // The PAGEMAP_SCAN ioctl on /proc/PID/pagemap.
  bool pagemapScan() const { return pagemapScan_; }
  // A page registered for async write-protection, protected by PAGEMAP_SCAN and written,
  // is reported written, and only that page.
  bool uffdWpTracking() const { return uffdWpTracking_; }
  // The /proc/PID/pagemap entry of a never-populated page write-protected through
  // WP_UNPOPULATED (a page-table marker the kernel shows as a swap entry); 0 if none.
  uint64_t uffdWpMarkerEntry() const { return markerEntry_; }
  // Whether a pagemap entry is that marker (a page that holds no data).
  bool isUffdWpMarker(uint64_t entry) const {
    return markerEntry_ && (entry & ~kEntryNoise) == markerEntry_;
  }
  // clear_refs "4" clears soft-dirty bits and a write sets bit 55 of pagemap again.
  bool softDirty() const {
    ensureSoftDirtyProbed();
    return softDirty_;
  }

  // One line each: what works, or why not.
  const std::string& uffdWpDetail() const { return uffdWpDetail_; }
  const std::string& softDirtyDetail() const {
    ensureSoftDirtyProbed();
    return softDirtyDetail_;
  }

 private:
  KernelFeatures();
  void probeUffd();
  // The soft-dirty probe forks a child: made only when asked for.
  void probeSoftDirty();
  void ensureSoftDirtyProbed() const;
  mutable std::once_flag softDirtyOnce_;
  void probeMarker(int uffd, int pagemap);
  static constexpr uint64_t kEntryNoise = (1ULL << 55) | (1ULL << 56);  // soft-dirty, exclusive
  uint64_t markerEntry_ = 0;

  bool userfaultfd_ = false;
  uint64_t uffdFeatures_ = 0;
  bool pagemapScan_ = false;
  bool uffdWpTracking_ = false;
  mutable bool softDirty_ = false;
  std::string uffdWpDetail_;
  mutable std::string softDirtyDetail_;
};

}  // namespace cryo
