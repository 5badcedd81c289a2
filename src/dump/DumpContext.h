// DumpContext: what collectors share while one process is frozen: the process's threads,
// its memory, injected syscalls per thread, a scratch area, the page store, fds via pidfd.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/BufferPool.h"
#include "common/ProcFs.h"
#include "common/PidFd.h"
#include "common/UniqueFd.h"
#include "dump/PageReader.h"
#include "dump/PageSelection.h"
#include "image/PageWriter.h"
#include "inject/ProcessFreezer.h"
#include "inject/RemoteMemory.h"
#include "inject/RemoteScratch.h"
#include "inject/RemoteSyscalls.h"

namespace cryo {

class PageSelection;

struct DumpOptions {
  bool leaveRunning = false;
  // Incremental: the parent image and what selects the changed pages (both or neither).
  std::filesystem::path parent;
  PageSelection* selection = nullptr;
  std::string trackerName;  // recorded in the manifest
};

class DumpContext {
 public:
  DumpContext(ProcessFreezer& freezer, PageWriter& pages, BufferPool& buffers,
              const DumpOptions& opts);
  DumpContext(const DumpContext&) = delete;
  DumpContext& operator=(const DumpContext&) = delete;
  ~DumpContext();

  pid_t pid() const { return freezer_.pid(); }
  ProcessFreezer& freezer() { return freezer_; }
  RemoteMemory& memory() { return mem_; }
  PageWriter& pages() { return pages_; }
  // Copy buffers for page data, faulted in before the freeze.
  BufferPool& copyBuffers() { return buffers_; }
  const DumpOptions& options() const { return opts_; }

  // Injected syscalls in thread `tid` (settled on first use, put back by finish()).
  RemoteSyscalls& syscalls(pid_t tid);
  RemoteSyscalls& leaderSyscalls() { return syscalls(pid()); }
  // A scratch area inside the process for syscall arguments (created on first use).
  RemoteScratch& scratch();
  // The process's mappings as they were before cryo touched anything (smaps, with VmFlags).
  const std::vector<MapsEntry>& maps() const { return maps_; }
  // A duplicate, in cryo, of the process's file descriptor `fd` (pidfd_getfd).
  UniqueFd takeFd(int fd);

  // Incremental dumps: the ranges changed since the parent (nullopt: capture everything).
  const std::optional<PageRanges>& changedRanges() const { return changed_; }
  void setChangedRanges(std::optional<PageRanges> r) { changed_ = std::move(r); }

  // Page data still being stored after the copy (see PageReader::finish).
  void setPendingPages(std::unique_ptr<PageReader> r) { pendingPages_ = std::move(r); }
  std::unique_ptr<PageReader> takePendingPages() { return std::move(pendingPages_); }

  // Puts every thread's registers and signal mask back and removes the scratch area.
  void finish();

 private:
  ProcessFreezer& freezer_;
  PageWriter& pages_;
  BufferPool& buffers_;
  DumpOptions opts_;
  RemoteMemory mem_;
  uint64_t site_ = 0;
  std::vector<MapsEntry> maps_;
  void createArea();

  std::map<pid_t, std::unique_ptr<RemoteSyscalls>> syscalls_;
  // The injection area in the task: guard code page, one guard slot per thread, scratch data.
  uint64_t area_ = 0, areaSize_ = 0, slots_ = 0;
  std::map<pid_t, uint64_t> slotOf_;
  std::unique_ptr<RemoteScratch> scratch_;
  std::unique_ptr<PidFd> pidfd_;
  std::optional<PageRanges> changed_;
  std::unique_ptr<PageReader> pendingPages_;
};

}  // namespace cryo
