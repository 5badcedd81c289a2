// VmFlags: the two-letter VmFlags of one mapping, one bit per flag.
#include "common/VmFlags.h"

#include <algorithm>
#include <array>

namespace cryo {

VmFlags::VmFlags(std::initializer_list<std::string_view> flags) {
  for (std::string_view f : flags) insert(f);
}

int VmFlags::index(std::string_view flag) {
  if (flag.size() != 2 || flag[0] < 'a' || flag[0] > 'z' || flag[1] < 'a' || flag[1] > 'z')
    return -1;
  return (flag[0] - 'a') * 26 + (flag[1] - 'a');
}

void VmFlags::insert(std::string_view flag) {
  if (flag.empty()) return;
  if (int i = index(flag); i >= 0) {
    letters_.set(static_cast<size_t>(i));
    return;
  }
  auto at = std::lower_bound(others_.begin(), others_.end(), flag);
  if (at == others_.end() || *at != flag) others_.insert(at, std::string(flag));
}

bool VmFlags::has(std::string_view flag) const {
  if (int i = index(flag); i >= 0) return letters_.test(static_cast<size_t>(i));
  return std::binary_search(others_.begin(), others_.end(), flag);
}

void VmFlags::parse(std::string_view line) {
  size_t at = 0;
  while (at < line.size()) {
    size_t s = line.find_first_not_of(" \t", at);
    if (s == std::string_view::npos) break;
    size_t e = line.find_first_of(" \t", s);
    if (e == std::string_view::npos) e = line.size();
    insert(line.substr(s, e - s));
    at = e;
  }
}

std::vector<std::string> VmFlags::list() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < kLetterPairs; ++i)
    if (letters_.test(i))
      out.push_back({static_cast<char>('a' + i / 26), static_cast<char>('a' + i % 26)});
  std::vector<std::string> all = others_;
  all.insert(all.end(), out.begin(), out.end());
  std::sort(all.begin(), all.end());
  return all;
}

namespace {

struct FlagInfo {
  std::string_view flag;
  VmFlags::Role role;
  std::string_view meaning;
};

using R = VmFlags::Role;
// Every VmFlags mnemonic of fs/proc/task_mmu.c (Linux 6.18).
constexpr std::array kFlags = {
    FlagInfo{"rd", R::kMapping, "readable"},
    FlagInfo{"wr", R::kMapping, "writeable"},
    FlagInfo{"ex", R::kMapping, "executable"},
    FlagInfo{"sh", R::kMapping, "shared"},
    FlagInfo{"mr", R::kMapping, "may read"},
    FlagInfo{"mw", R::kMapping, "may write"},
    FlagInfo{"me", R::kMapping, "may execute"},
    FlagInfo{"ms", R::kMapping, "may share"},
    FlagInfo{"gd", R::kRestored, "stack segment grows down (MAP_GROWSDOWN)"},
    FlagInfo{"pf", R::kRefused, "pure PFN range (a device mapping)"},
    FlagInfo{"dw", R::kRefused, "disabled write to the mapped file"},
    FlagInfo{"lo", R::kRestored, "pages are locked in memory (mlock)"},
    FlagInfo{"io", R::kRefused, "memory mapped I/O area"},
    FlagInfo{"sr", R::kRestored, "sequential read advice (MADV_SEQUENTIAL)"},
    FlagInfo{"rr", R::kRestored, "random read advice (MADV_RANDOM)"},
    FlagInfo{"dc", R::kRestored, "not copied on fork (MADV_DONTFORK)"},
    // Set by the kernel only on special mappings (vdso, vvar, io_uring, perf, aio rings...),
    // which are recreated by the kernel or refused by kind.
    FlagInfo{"de", R::kRefused, "not expandable by mremap (a special mapping)"},
    // VM_ACCOUNT: the mapping is charged to the overcommit accounting. The kernel sets it on
    // private memory once writable; a restore that writes pages into a read-only mapping
    // charges it too. Only strict overcommit could tell.
    FlagInfo{"ac", R::kAccounting, "area is accountable"},
    FlagInfo{"nr", R::kRestored, "swap space is not reserved (MAP_NORESERVE)"},
    FlagInfo{"ht", R::kRefused, "huge TLB pages (hugetlbfs)"},
    FlagInfo{"sf", R::kRefused, "synchronous page faults (MAP_SYNC on DAX)"},
    FlagInfo{"nl", R::kRefused, "non-linear mapping"},
    FlagInfo{"ar", R::kRefused, "architecture specific flag"},
    FlagInfo{"wf", R::kRestored, "wiped on fork (MADV_WIPEONFORK)"},
    FlagInfo{"dd", R::kRestored, "not in core dumps (MADV_DONTDUMP)"},
    FlagInfo{"sd", R::kTracking, "soft dirty"},
    FlagInfo{"mm", R::kRefused, "mixed map area (a device mapping)"},
    FlagInfo{"hg", R::kRestored, "huge page advice (MADV_HUGEPAGE)"},
    FlagInfo{"nh", R::kRestored, "no huge page advice (MADV_NOHUGEPAGE)"},
    FlagInfo{"mg", R::kRestored, "mergeable advice (MADV_MERGEABLE, KSM)"},
    FlagInfo{"bt", R::kRefused, "arm64 BTI guarded page"},
    FlagInfo{"mt", R::kRefused, "arm64 MTE allocation tags"},
    FlagInfo{"um", R::kRefused, "userfaultfd missing tracking (the task's own userfaultfd)"},
    FlagInfo{"uw", R::kTracking, "userfaultfd write-protect tracking"},
    FlagInfo{"ui", R::kRefused, "userfaultfd minor fault tracking (the task's own userfaultfd)"},
    FlagInfo{"ss", R::kRefused, "shadow stack"},
    FlagInfo{"sl", R::kRestored, "sealed (mseal)"},
    FlagInfo{"lf", R::kRestored, "locked on fault (mlock2 MLOCK_ONFAULT)"},
    FlagInfo{"dp", R::kRestored, "droppable (MAP_DROPPABLE)"},
    // VM_MAYBE_GUARD: a hint the kernel keeps once guard regions were installed, and carries
    // through splits and merges, so that where it shows depends on the mappings' history.
    // The guard regions themselves are found by PAGEMAP_SCAN and installed again.
    FlagInfo{"gu", R::kAccounting, "may hold guard regions (MADV_GUARD_INSTALL)"},
};

}  // namespace

VmFlags::Role VmFlags::role(std::string_view flag, std::string_view* meaning) {
  for (const FlagInfo& f : kFlags) {
    if (f.flag != flag) continue;
    if (meaning) *meaning = f.meaning;
    return f.role;
  }
  if (meaning) *meaning = "unknown to this cryo";
  return Role::kRefused;
}

}  // namespace cryo
