// MappingPolicy: which mappings of a task a dirty-page tracker follows, and what kind of
// memory each holds (that decides which of its pages hold data a checkpoint stores).
//
// Private file mappings are followed even when read-only: their copied-on-write pages (text
// relocations, breakpoints, a page written between two mprotect calls) are stored by a dump,
// and following a mapping costs only for the pages that hold such copies.
#include "track/MappingPolicy.h"

#include "common/ProcFs.h"

namespace cryo {

namespace {
bool startsWith(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }
}  // namespace

MappingKind MappingPolicy::classify(const MapsEntry& m) {
  const std::string& p = m.path;
  // Device memory: never something a checkpoint copies page by page.
  if (m.hasFlag("io") || m.hasFlag("pf")) return MappingKind::kUntracked;
  if (!p.empty() && p[0] == '[') {
    if (startsWith(p, "[anon_shmem:")) return MappingKind::kSharedAnon;
    if (m.shared) return MappingKind::kUntracked;
    if (p == "[heap]" || startsWith(p, "[stack") || startsWith(p, "[anon:"))
      return MappingKind::kPrivateAnon;
    return MappingKind::kUntracked;  // [vdso], [vvar], [vvar_vclock], [vsyscall], [uprobes]
  }
  if (m.shared) {
    // A shared anonymous mapping shows as "/dev/zero (deleted)"; System V segments, memfd and
    // POSIX shared memory files (/dev/shm) are memory too: a checkpoint stores their pages.
    if (startsWith(p, "/dev/zero") || startsWith(p, "/SYSV") || startsWith(p, "/memfd:") ||
        startsWith(p, "/dev/shm/"))
      return MappingKind::kSharedAnon;
    return MappingKind::kUntracked;  // the data lives in the file
  }
  if (p.empty() || p == "/dev/zero") return MappingKind::kPrivateAnon;
  // A private file mapping may hold copies of its pages unless it can never be written.
  if (!m.write && !m.vmFlags.empty() && !m.hasFlag("mw")) return MappingKind::kUntracked;
  return MappingKind::kPrivateFile;
}

std::string_view MappingPolicy::name(MappingKind k) {
  switch (k) {
    case MappingKind::kUntracked: return "untracked";
    case MappingKind::kPrivateAnon: return "private anonymous";
    case MappingKind::kPrivateFile: return "private file";
    case MappingKind::kSharedAnon: return "shared anonymous";
  }
  return "?";
}

bool MappingPolicy::hasUffdFlag(const MapsEntry& m) {
  return m.hasFlag("uw") || m.hasFlag("um") || m.hasFlag("ui");
}

}  // namespace cryo
