// UffdWpTracker: dirty-page tracking with userfaultfd write-protection in asynchronous mode
// (the kernel resolves write faults itself: the task never waits, never sees a signal) read
// and re-armed with the PAGEMAP_SCAN ioctl. Needs Linux 6.7; needs no soft-dirty bits.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/UniqueFd.h"
#include "track/DirtyTracker.h"
#include "track/MappingPolicy.h"

namespace cryo {

class Pagemap;
struct MapsEntry;

class UffdWpTracker : public DirtyTracker {
 public:
  struct Options {
    // Report and re-protect written pages in one PAGEMAP_SCAN walk (PM_SCAN_WP_MATCHING).
    // Off: a plain scan reports them and UFFDIO_WRITEPROTECT protects each reported range,
    // which is also what happens on a range the scan refuses to protect.
    bool protectWithScan = true;
  };

  UffdWpTracker();
  explicit UffdWpTracker(Options opts);
  ~UffdWpTracker() override;
  std::string_view name() const override { return "uffd-wp"; }
  // PAGEMAP_SCAN with PM_SCAN_WP_MATCHING gets and clears each page's written bit atomically
  // (a scan followed by UFFDIO_WRITEPROTECT would lose a write landing in between).
  bool collectsWhileRunning() const override { return opts_.protectWithScan; }
  uint64_t flagsGeneration() const override { return generation_; }

  // Whether this kernel offers what the tracker needs; `why` says what it uses or lacks.
  static bool available(std::string& why);

 protected:
  void doArm(TrackTarget& target) override;
  DirtySet doCollect(TrackTarget& target) override;
  bool collectInjects(TrackTarget& target) override;

 private:
  DirtySet sweep(TrackTarget& target, bool report);
  // Creates the userfaultfd inside the task and keeps the only reference to it.
  void open(TrackTarget& target);
  bool registrationsLost(TrackTarget& target) const;
  int registerRange(uint64_t start, uint64_t end);
  int writeProtect(uint64_t start, uint64_t end);
  // Adds to `dirty` (if any) the pages of `m` written since they were protected and to `data`
  // the pages that hold data; leaves every page that holds data protected.
  void sweepMapping(Pagemap& pm, const MapsEntry& m, MappingKind kind, DirtySet* dirty,
                    DirtySet& data);
  // A private anonymous mapping protected whole, unpopulated pages included (markers): one
  // fast walk finds what was written or dropped. Adds `m` to `marked`.
  void sweepMarked(Pagemap& pm, const MapsEntry& m, DirtySet* dirty, DirtySet& marked);
  // One PAGEMAP_SCAN walk over `m` (protecting what it reports if `protect`).
  int scanMapping(Pagemap& pm, const MapsEntry& m, MappingKind kind, bool protect,
                  DirtySet& written, DirtySet& data, DirtySet* unprotected);

  Options opts_;
  pid_t pid_ = 0;
  UniqueFd uffd_;
  std::unique_ptr<Pagemap> pagemap_;  // of the address space uffd_ follows
  DirtySet registered_;  // what our userfaultfd has registered (as of the last sweep)
  DirtySet populated_;   // pages that held data at the last sweep (unmarked mappings)
  DirtySet marked_;      // mappings protected whole at the last sweep
  uint64_t generation_ = 0;  // registrations made
};

}  // namespace cryo
