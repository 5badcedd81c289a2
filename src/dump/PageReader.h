// PageReader: finds the pages of a process that hold data (from /proc/PID/pagemap) and copies
// them, in large batches, from the process into the image's page store.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "cryo.pb.h"
#include "image/PageWriter.h"
#include "inject/RemoteMemory.h"

namespace cryo {

class PageReader {
 public:
  enum Mode {
    kAnonPresent,    // private anonymous: present or swapped, never-written zero pages skipped
    kAnyPresent,     // shared anonymous: present or swapped
    kPrivateCopies,  // private file mapping: only pages copied on write (not page cache)
  };
  PageReader(pid_t pid, RemoteMemory& mem, PageWriter& out);
  void addRange(uint64_t start, uint64_t end, Mode mode);
  // Copies every selected page; appends the runs written to `runs`.
  void run(google::protobuf::RepeatedPtrField<img::PageRun>& runs);
  uint64_t pagesCopied() const { return pages_; }

  // The PFN of the kernel's shared zero page (0 when pagemap hides PFNs).
  static uint64_t zeroPfn();

 private:
  struct Range {
    uint64_t start, end;
    Mode mode;
  };
  void flush(google::protobuf::RepeatedPtrField<img::PageRun>& runs);

  pid_t pid_;
  RemoteMemory& mem_;
  PageWriter& out_;
  std::vector<Range> ranges_;
  // Pending batch: runs (vaddr, pages) to copy into buf_.
  std::vector<std::pair<uint64_t, uint64_t>> batch_;
  uint64_t batchPages_ = 0;
  std::vector<uint8_t> buf_;
  uint64_t pages_ = 0;
};

}  // namespace cryo
