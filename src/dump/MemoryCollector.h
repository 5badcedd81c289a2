// MemoryCollector: the address space of a frozen process: every mapping with its protections
// and flags, the mm fields (brk, stack, arg/env areas, auxv, exe), and the pages that hold data.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "dump/Collector.h"

struct page_region;  // PAGEMAP_SCAN (common/KernelUapi.h)

namespace cryo {

struct MapsEntry;
class FileMappingCache;

class MemoryCollector : public Collector {
 public:
  std::string_view name() const override { return "memory"; }
  void collect(DumpContext& ctx, img::Process& out) override;

  // The image's description of mapping `m` of process `pid` (throws, naming the mapping, for
  // one that cannot be checkpointed). A regular file mapping found in `known` (described
  // while the task ran) is taken from there.
  static img::Vma describe(pid_t pid, const MapsEntry& m, const FileMappingCache* known = nullptr);

 private:
  void collectMm(DumpContext& ctx, img::Process& out);
  void collectPages(DumpContext& ctx, img::Process& out);
  // The parts of a shared memory mapping whose object holds data (SEEK_DATA/SEEK_HOLE on
  // the object), as address ranges of the mapping.
  static std::vector<std::pair<uint64_t, uint64_t>> objectData(pid_t pid, const img::Vma& v);
  // Whether the mapped file lives in memory (tmpfs).
  static bool onTmpfs(pid_t pid, const MapsEntry& m);
  // Refuses a mapping showing a VmFlag that cannot be restored (VmFlags::Role::kRefused).
  static void checkVmFlags(pid_t pid, const MapsEntry& m);
  // Refuses a process whose every mapping KSM may merge (PR_SET_MEMORY_MERGE).
  static void checkKsmMergeAny(pid_t pid, const MapsEntry& m);
  // Records each mapping's MADV_GUARD_INSTALL guard regions (Vma.guard_ranges).
  static void collectGuards(pid_t pid, img::Process& out);
  static void addGuard(img::Process& out, int& vi, const ::page_region& r);
  // A System V segment: its id, key, size, mode and whether it was removed (IPC_RMID).
  static void describeSysv(pid_t pid, const MapsEntry& m, img::Vma& v);
  // A mapping of a regular file deleted while mapped (Vma.deleted), and its bytes, stored
  // frozen once per inode of the tree (DeletedFiles).
  static void describeDeleted(pid_t pid, const MapsEntry& m, img::Vma& v);
  static void storeDeleted(DumpContext& ctx, img::Vma& v);
};

}  // namespace cryo
