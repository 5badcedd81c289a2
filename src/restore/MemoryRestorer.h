// MemoryRestorer: rebuilds the address space: removes the shell's mappings, places the vdso,
// recreates every mapping at its address, fills the saved pages (before the process's
// children are created), then sets protections, advice, locks and seals, the mm fields and
// exe. A child keeps the private anonymous mappings it had like its parent's, inherited
// copy-on-write, and writes only the pages whose content differs from its parent's: pages
// parent and child shared at the checkpoint are shared again.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "image/ImageChain.h"
#include "restore/Restorer.h"

namespace cryo {

class MemoryRestorer : public Restorer {
 public:
  std::string_view name() const override { return "memory"; }
  void validate(RestoreContext& ctx, const img::Process& in) override;
  void beforeChildren(RestoreContext& ctx, const img::Process& in) override;
  void bornFrom(const Restorer& parentsOwn) override;
  void restore(RestoreContext& ctx, const img::Process& in) override;

 private:
  // The mappings of `in` that its shell inherited from the parent's as they must be:
  // private anonymous, with the same range and mapping flags in both images.
  void findInherited(const img::Process& in);
  bool inherited(const img::Vma& v) const { return kept_.count(v.start()) != 0; }
  void clearShell(RestoreContext& ctx);
  void placeVdso(RestoreContext& ctx, const img::Process& in);
  void createMappings(RestoreContext& ctx, const img::Process& in);
  void fillPages(RestoreContext& ctx, const img::Process& in);
  // For an inherited mapping: writes the pages that differ from the parent's, and drops
  // (MADV_DONTNEED) those the parent has and the process had not.
  void fillInherited(RestoreContext& ctx, const img::Vma& v, std::vector<iovec>& local,
                     std::vector<iovec>& remote);
  // The parent's stored page at `addr`, or null.
  const uint8_t* parentPage(uint64_t addr) const;
  void finishMappings(RestoreContext& ctx, const img::Process& in);
  void setMmFields(RestoreContext& ctx, const img::Process& in);
  // MADV_GUARD_INSTALL over each guard range the mapping had.
  static void installGuards(RestoreContext& ctx, const img::Vma& v);
  // Shared memory objects (MAP_SHARED anonymous, memfd) mapped by several processes of the
  // tree or not from offset 0: made once as a memfd, received by the others (TreeFiles).
  static std::string sharedKey(const img::Vma& v);
  static int makeSharedObject(RestoreContext& ctx, const img::Vma& v);
  static std::string memfdName(const std::string& path);
  // Attaches (shmat) a System V segment, found or made again with its id (TreeFiles).
  static void attachSysv(RestoreContext& ctx, const img::Vma& v, uint32_t prot);

  std::vector<PageSource> sources_;   // resolved (and checksum-verified) in validate()
  std::set<uint64_t> withPages_;      // starts of mappings that receive page data
  const img::Process* proc_ = nullptr;        // set by validate()
  const MemoryRestorer* parent_ = nullptr;    // the parent's, when the shell is its child
  std::map<uint64_t, uint64_t> kept_;         // inherited mappings: start -> end
  std::map<uint64_t, PageSource> parentRuns_;  // the parent's sources by address
};

}  // namespace cryo
