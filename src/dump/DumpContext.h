// DumpContext: what collectors share while one process is frozen: the process's threads,
// its memory, injected syscalls per thread, a scratch area, the page store, fds via pidfd.
#pragma once

#include <sys/types.h>

#include <exception>
#include <filesystem>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "realtime/BufferPool.h"
#include "common/ProcFs.h"
#include "common/PidFd.h"
#include "common/UniqueFd.h"
#include "dump/PageReader.h"
#include "dump/FileMappingCache.h"
#include "dump/PageSelection.h"
#include "dump/SharedMappings.h"
#include "dump/fds/TreeFdIndex.h"
#include "image/PageWriter.h"
#include "realtime/CpuHold.h"
#include "realtime/PriorityHold.h"
#include "inject/ProcessFreezer.h"
#include "inject/RemoteMemory.h"
#include "inject/RemoteScratch.h"
#include "inject/RemoteSyscalls.h"

namespace cryo {

class PageSelection;

// The injection area (guard code, per-thread slots, scratch) left mapped in a task from one
// checkpoint to the next by a caller that follows the task (cryo run): mapping and removing it
// are the only injected calls that are not crash-safe, so they then happen once per task. The
// area is never part of an image.
struct InjectionArea {
  uint64_t addr = 0;
  uint64_t size = 0;
  size_t slots = 0;  // thread slots it has room for
  bool contains(uint64_t a) const { return addr && a >= addr && a < addr + size; }
};

struct DumpOptions {
  bool leaveRunning = false;
  // Record what the kernel shows of each process (verify/KernelView) for `restore --verify`.
  bool recordView = false;
  // Established TCP connections are recorded as closed (restored reset) instead of refused.
  bool tcpClose = false;
  // Incremental: the parent image and what selects the changed pages (both or neither).
  std::filesystem::path parent;
  PageSelection* selection = nullptr;
  std::string trackerName;  // recorded in the manifest
  // The task's smaps read just before the freeze: while frozen, cryo then reads only the
  // cheap /proc/PID/maps and takes each unchanged mapping's VmFlags from here (see
  // ProcFs::mapsWithFlagsFrom). Empty: the dump reads it itself before freezing.
  std::vector<MapsEntry> mapsHint;
  // Its regular file mappings described from that hint, while it ran (see FileMappingCache).
  std::shared_ptr<const FileMappingCache> fileMappings;
  // Pages copied while the task ran (bounded-freeze mode; see PrecopyCache): the dump stores
  // those the final freeze did not copy again. With it, `selection` must report the ranges
  // to copy while frozen even for a full checkpoint.
  const class PrecopyCache* precopied = nullptr;
  // The same for the task's children (pre-copy rounds followed them too), by pid.
  std::map<pid_t, const class PrecopyCache*> childPrecopied;
  // Keep the injection area mapped for the next checkpoint, reusing the one recorded here
  // (updated when a new one is made). Null: mapped and removed within this freeze.
  InjectionArea* keptArea = nullptr;
  // Figures of the work done before the dump's own freeze, recorded in the manifest.
  std::string mode = "stop";
  uint32_t precopyRounds = 0;
  uint64_t precopyPages = 0;
  uint64_t precopyCopyUs = 0;
  uint64_t earlierFreezeUs = 0;  // frozen time of earlier stops of this checkpoint (arming)
  uint32_t earlierStops = 0;
  uint64_t maxStopUsEarlier = 0;
  uint64_t maxFreezeUs = 0;      // the budget of any one stop (0: none)
  // SCHED_FIFO priority of cryo's thread from the last pre-copy round to the thaw (0: none).
  int freezePriority = 0;
  // When the checkpoint began (its rounds before the dump included); default: the dump's start.
  std::optional<std::chrono::steady_clock::time_point> startedAt;
  // Copy-buffer pools, by pid, kept by a caller that dumps the same tree again (cryo run):
  // faulting fresh buffers in before every freeze takes milliseconds, and whatever the task
  // writes meanwhile is left for the freeze to copy. Null: made for this dump alone.
  std::map<pid_t, std::unique_ptr<BufferPool>>* keptPools = nullptr;
  // The freeze's helper thread, kept likewise: a thread made for each dump first runs as late
  // as the freeze, and costs a fork that is not the task's. Null: made for this dump alone.
  std::unique_ptr<class FreezeHelper>* keptHelper = nullptr;
  // Called once the dump has everything ready, immediately before the freeze (and with these
  // options, which it may update: the mappings hint): a caller that copies pages while the
  // task runs takes its last round here, so that what the task writes while the dump
  // prepares is not left for the freeze. An exception from it ends the dump, nothing frozen.
  std::function<void(DumpOptions&)> beforeFreeze;
};

class DumpContext {
 public:
  DumpContext(ProcessFreezer& freezer, PageWriter& pages, BufferPool& buffers,
              const DumpOptions& opts);
  // A context that stores no pages: crash-safe injection into a frozen task (e.g. to arm a
  // dirty-page tracker before the pages are copied while the task runs).
  DumpContext(ProcessFreezer& freezer, const DumpOptions& opts);
  DumpContext(const DumpContext&) = delete;
  DumpContext& operator=(const DumpContext&) = delete;
  ~DumpContext();

  pid_t pid() const { return freezer_.pid(); }
  ProcessFreezer& freezer() { return freezer_; }
  RemoteMemory& memory() { return mem_; }
  PageWriter& pages();
  // Copy buffers for page data, faulted in before the freeze.
  BufferPool& copyBuffers();
  const DumpOptions& options() const { return opts_; }

  // Injected syscalls in thread `tid` (settled on first use, put back by finish()).
  RemoteSyscalls& syscalls(pid_t tid);
  RemoteSyscalls& leaderSyscalls() { return syscalls(pid()); }
  // Whether settling any thread so far delivered a signal (and so wrote into memory).
  bool settleDeliveredSignal() const;
  // A scratch area inside the process for syscall arguments (created on first use).
  RemoteScratch& scratch();
  // The process's mappings as they were before cryo touched anything (smaps, with VmFlags).
  const std::vector<MapsEntry>& maps() const { return maps_; }
  // /proc/PID/status of the frozen process, read once for every collector that needs it.
  const std::map<std::string, std::string>& status();
  // /proc/PID/stat of the frozen process: as read once it was frozen (setFrozenStat), or now.
  const ProcStat& stat();
  void setFrozenStat(const ProcStat& s) { stat_ = s; }
  // A duplicate, in cryo, of the process's file descriptor `fd` (pidfd_getfd).
  UniqueFd takeFd(int fd);

  // Incremental dumps: the ranges changed since the parent (nullopt: capture everything).
  // Given as a source still at work (a scan on a helper thread), the first call waits for it
  // (and throws what it threw).
  const std::optional<PageRanges>& changedRanges();
  void setChangedRanges(std::optional<PageRanges> r) {
    changed_ = std::move(r);
    changedSource_ = nullptr;
  }
  void setChangedRangesSource(std::function<std::optional<PageRanges>()> source) {
    changedSource_ = std::move(source);
  }

  // The fds of the whole dumped tree (set by the dumper; a lone process gets its own).
  TreeFdIndex& fdIndex();
  void setFdIndex(TreeFdIndex* i) { fdIndex_ = i; }
  // Shared memory objects the tree's earlier processes stored (set by the dumper).
  SharedMappings& sharedMappings() { return *shared_; }
  void setSharedMappings(SharedMappings* s) { shared_ = s; }

  // The freeze's helper thread, if the dumper has one: copies may be shared with it.
  void setHelper(class FreezeHelper* h) { helper_ = h; }
  class FreezeHelper* helper() const { return helper_; }

  // The threads' own CPU lists while the freeze holds them on cryo's CPUs (set by the dumper).
  void setCpuHold(const CpuHold* h) { cpuHold_ = h; }
  // The CPU list of thread `tid` as the task set it.
  cpu_set_t threadCpus(pid_t tid) const;
  // The threads' own policies while the freeze runs them at its real-time priority.
  void setPriorityHold(const PriorityHold* h) { priorityHold_ = h; }
  // The scheduling attributes of thread `tid` as the task set them.
  cryo_sched_attr threadSched(pid_t tid) const;

  // Page data still being stored after the copy (see PageReader::finish).
  void setPendingPages(std::unique_ptr<PageReader> r) { pendingPages_ = std::move(r); }
  std::unique_ptr<PageReader> takePendingPages() { return std::move(pendingPages_); }

  // Puts every thread's registers and signal mask back and removes the scratch area.
  void finish();

 private:
  ProcessFreezer& freezer_;
  PageWriter* pages_ = nullptr;
  BufferPool* buffers_ = nullptr;
  DumpOptions opts_;
  RemoteMemory mem_;
  uint64_t site_ = 0;
  std::vector<MapsEntry> maps_;
  std::optional<std::map<std::string, std::string>> status_;
  std::optional<ProcStat> stat_;
  void createArea();

  std::map<pid_t, std::unique_ptr<RemoteSyscalls>> syscalls_;
  // The injection area in the task: guard code page, one guard slot per thread, scratch data.
  uint64_t area_ = 0, areaSize_ = 0, slots_ = 0;
  InjectionArea reuse_;         // the kept area, found intact: used instead of a new one
  InjectionArea staleArea_;     // a kept area too small for the threads: removed
  static constexpr uint64_t kScratchBytes = 64 * 1024;
  std::map<pid_t, uint64_t> slotOf_;
  std::unique_ptr<RemoteScratch> scratch_;
  std::unique_ptr<PidFd> pidfd_;
  std::optional<PageRanges> changed_;
  std::function<std::optional<PageRanges>()> changedSource_;
  std::exception_ptr changedError_;
  std::unique_ptr<PageReader> pendingPages_;
  TreeFdIndex* fdIndex_ = nullptr;
  std::unique_ptr<TreeFdIndex> ownIndex_;
  SharedMappings ownShared_;
  const CpuHold* cpuHold_ = nullptr;
  const PriorityHold* priorityHold_ = nullptr;
  class FreezeHelper* helper_ = nullptr;
  SharedMappings* shared_ = &ownShared_;
};

}  // namespace cryo
