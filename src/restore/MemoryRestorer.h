// MemoryRestorer: rebuilds the address space: removes the shell's mappings, places the vdso,
// recreates every mapping at its address, fills the saved pages, sets the mm fields and exe.
#pragma once

#include <cstdint>
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
  void restore(RestoreContext& ctx, const img::Process& in) override;

 private:
  void clearShell(RestoreContext& ctx);
  void placeVdso(RestoreContext& ctx, const img::Process& in);
  void createMappings(RestoreContext& ctx, const img::Process& in);
  void fillPages(RestoreContext& ctx, const img::Process& in);
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
};

}  // namespace cryo
