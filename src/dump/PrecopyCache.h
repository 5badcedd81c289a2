// PrecopyCache: copies of a task's pages made while it runs (bounded-freeze checkpoints). A
// page copied again replaces its earlier copy; the dump stores, after the task runs on, every
// copy the final freeze did not supersede.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "common/UniqueFd.h"
#include "cryo.pb.h"
#include "track/DirtySet.h"

namespace cryo {

class PageWriter;

class PrecopyCache {
 public:
  explicit PrecopyCache(pid_t pid);
  // Forgets every copy but keeps the memory (already faulted in) for the next checkpoint.
  void clear();
  // Ends a checkpoint whose copies are stored: forgets them, and gives back to the system the
  // memory the next checkpoints are not expected to need, i.e. beyond the most that the last
  // kUsageHistory incremental checkpoints used. A full checkpoint's copy of all the task's
  // memory is not kept for an incremental one that copies a fraction of it.
  void endCheckpoint(bool full);
  static constexpr size_t kUsageHistory = 8;
  PrecopyCache(const PrecopyCache&) = delete;
  PrecopyCache& operator=(const PrecopyCache&) = delete;
  ~PrecopyCache();

  // Copies every page of `ranges` that holds data out of the running task (replacing earlier
  // copies); a page that holds none (never populated, dropped, the zero page, an unmodified
  // file page) is recorded as such, to be stored as a ZERO run. A page that cannot be read
  // (unmapped meanwhile, or PROT_NONE) loses any copy it had and is added to missed().
  // `privateAnon`: the private anonymous mappings among them, whose short runs the tracker
  // reported written are copied without reading pagemap (a page dropped since is stored as a
  // ZERO run). Returns the pages copied.
  uint64_t copy(const DirtySet& ranges, const DirtySet& privateAnon = {});
  // Forgets the copies of the pages in `ranges`.
  void forget(const DirtySet& ranges);

  uint64_t pages() const { return slotOf_.size(); }
  // Memory held for copies (in pages), whether in use or kept for the next checkpoint.
  uint64_t reservedPages() const;
  // Pages that were to be copied and could not be: the final freeze must copy them.
  const DirtySet& missed() const { return missed_; }
  // The pages held, as ranges.
  DirtySet held() const;
  // Appends to the page store a DATA run for every held page inside `keep` and a ZERO run for
  // every page recorded as holding none, adding their index entries to `runs` (not sorted).
  // Returns the DATA pages stored.
  uint64_t store(PageWriter& out, const DirtySet& keep,
                 google::protobuf::RepeatedPtrField<img::PageRun>& runs) const;

 private:
  uint8_t* slotData(uint32_t slot) const;
  uint32_t slotFor(uint64_t page);
  void release(std::map<uint64_t, uint32_t>::iterator it);
  // Reads `pages` (address, slot) pairs; returns the addresses that could not be read.
  std::vector<uint64_t> readBatch(const std::vector<std::pair<uint64_t, uint32_t>>& pages);
  // Reads pages[i] and the pages after it that follow on in the task and among the slots
  // through /proc/PID/mem, which leaves them shared copy-on-write (process_vm_readv would
  // give the task copies of its own). Adds the first it cannot read to `failed`; returns the
  // index after the last page taken.
  size_t readInPlace(const std::vector<std::pair<uint64_t, uint32_t>>& pages, size_t i,
                     std::vector<uint64_t>& failed);

  pid_t pid_;
  std::map<uint64_t, uint32_t> slotOf_;  // page address -> slot
  std::vector<uint8_t*> chunks_;         // kChunkPages slots each
  std::vector<uint32_t> freeSlots_;
  uint32_t nextSlot_ = 0;
  std::vector<uint32_t> usage_;  // slots the last incremental checkpoints used (oldest first)
  DirtySet missed_;
  DirtySet zero_;       // pages found holding no data
  DirtySet unchecked_;  // pages copied without reading pagemap (private anonymous)
  DirtySet inPlace_;    // pages of the current copy to read with readInPlace()
  UniqueFd mem_;        // /proc/PID/mem, opened on first need
  // store()'s staging buffer, kept from one checkpoint to the next: a new one each time cost
  // its first touch of 8 MiB (a few milliseconds of faults on fresh memory).
  mutable std::unique_ptr<uint8_t[]> staging_;
};

}  // namespace cryo
