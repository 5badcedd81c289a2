// PageReader: finds the pages of a process that hold data (from /proc/PID/pagemap) and copies
// them, in large batches, from the process into the image's page store.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "realtime/BufferPool.h"
#include "realtime/ThreadPlacement.h"
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
    kAll,            // every page (data of a shared memory object, found by its file)
    kNone,           // no page (with recordRest: a hole of a shared memory object)
  };
  // `pool` holds the copy buffers (allocated before the freeze).
  PageReader(pid_t pid, RemoteMemory& mem, PageWriter& out, BufferPool& pool);
  // Selects the pages of [start, end) that hold data. With `recordRest`, the pages of the range
  // that hold none are recorded as ZERO runs (an incremental image: they no longer hold what
  // the parent stored).
  void addRange(uint64_t start, uint64_t end, Mode mode, bool recordRest = false);
  ~PageReader();
  // Runs fn(0) … fn(n-1) on the calling thread and another one (see FreezeHelper::forEach).
  using Shared = std::function<void(size_t n, const std::function<void(size_t)>& fn)>;
  // Copies with a second thread through `shared`: the selected ranges are cut into parts that
  // both take. Empty (the default): the calling thread copies alone. A copy of fewer than
  // kSharedMinPages is made by the calling thread alone all the same: handing parts to the
  // other thread (waking it, on an idle CPU of a virtual machine) costs more than it saves.
  // Measured in the freezes of a 200 MiB/s task (54-105 scattered pages): 154 us shared, 77 us
  // alone.
  void setShared(Shared shared) { shared_ = std::move(shared); }
  static constexpr uint64_t kSharedMinPages = 256;
  // Copies every selected page out of the task (into the buffer pool; a storer thread writes
  // them to the page store meanwhile). When it returns the task may run again.
  void run(google::protobuf::RepeatedPtrField<img::PageRun>& runs);
  // Waits until every copied page is stored; completes `runs` (sorted). Throws store errors.
  void finish();
  uint64_t pagesCopied() const { return pages_; }
  // Whether the storer thread runs already (the buffers filled up during the copy).
  bool storing() const { return storer_.joinable(); }

  // The PFN of the kernel's shared zero page (0 when pagemap hides PFNs).
  static uint64_t zeroPfn();
  // Runs of private anonymous memory the tracker reported written, up to this many pages, are
  // copied without reading their pagemap entries first: a written page holds data unless the
  // task dropped it since, and reading pagemap costs more per run (about 1.2 us) than copying
  // a page. A dropped page reads as zeros, and is stored as a ZERO run.
  static constexpr uint64_t kUncheckedMaxPages = 16;
  // True if the page at `p` holds only zero bytes.
  static bool isZeroPage(const uint8_t* p);

 private:
  struct Range {
    uint64_t start, end;
    Mode mode;
    bool recordRest;
  };
  // Pages copied without asking pagemap whether they hold data (see copyPart): the storer
  // keeps those that hold only zeros as ZERO runs.
  struct Run {
    uint64_t addr, pages;
    bool unchecked;
  };
  // A batch of runs copied into one buffer, waiting to be stored.
  struct Batch {
    std::vector<Run> runs;
    uint64_t pages = 0;
    uint8_t* buf = nullptr;
  };
  // A part of one range, copied by whichever thread takes the part it is in.
  struct Piece {
    const Range* range;
    uint64_t start, end;
  };
  // The pieces of every range, grouped into parts (one unless `shared`).
  std::vector<std::vector<Piece>> plan(bool shared) const;
  // Selects and copies one part's pages (its own batches and ZERO runs).
  void copyPart(const std::vector<Piece>& part);
  // /proc/PID/pagemap, opened by the first part that needs it.
  class Pagemap& pagemap();
  // Appends a run copied unchecked: its all-zero pages as ZERO runs, the others as data.
  void storeUnchecked(google::protobuf::RepeatedPtrField<img::PageRun>& runs, uint64_t addr,
                      const uint8_t* data, uint64_t pages);
  // Copies `batch` out of the task into a free buffer and queues it for the storer.
  void flush(Batch& batch);
  void storeLoop(google::protobuf::RepeatedPtrField<img::PageRun>* runs);
  uint8_t* takeFreeBuffer();
  void startStorer();  // once

  pid_t pid_;
  RemoteMemory& mem_;
  PageWriter& out_;
  std::vector<Range> ranges_;
  std::once_flag pagemapOpened_;
  std::unique_ptr<class Pagemap> pagemap_;
  std::vector<img::PageRun> zeroRuns_;  // (under mu_ while copying)
  uint64_t pages_ = 0;                   // (under mu_ while copying)
  Shared shared_;
  // Copying out of the process and storing run in parallel: a pool of buffers moves between
  // the copiers (this thread, and a second one with setShared) and the storer thread.
  BufferPool& pool_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint8_t*> free_;
  std::deque<Batch> full_;
  bool done_ = false;
  std::thread storer_;
  // Where the storer runs: the owner's CPUs and policy (it may be started by the freeze's
  // helper, at the idle policy on the task's CPUs).
  ThreadPlacement storerPlacement_;
  google::protobuf::RepeatedPtrField<img::PageRun>* runs_ = nullptr;
  std::exception_ptr storeError_;
};

}  // namespace cryo
