// MappingPolicy: which mappings of a task a dirty-page tracker follows, and what kind of
// memory each holds (that decides which of its pages hold data a checkpoint stores).
#pragma once

#include <string_view>

namespace cryo {

struct MapsEntry;

enum class MappingKind {
  kUntracked,    // [vdso], [vvar*], [vsyscall], shared file mappings: nothing to track
  kPrivateAnon,  // anonymous memory, heap, stacks, private /dev/zero: every populated page
  kPrivateFile,  // private file mappings: only the pages copied on write (not page cache)
  kSharedAnon,   // shared anonymous memory: other processes may write it too
};

class MappingPolicy {
 public:
  static MappingKind classify(const MapsEntry& m);
  static bool tracked(const MapsEntry& m) { return classify(m) != MappingKind::kUntracked; }
  static std::string_view name(MappingKind k);
  // Any userfaultfd registration (ours or someone else's) shows in smaps VmFlags.
  static bool hasUffdFlag(const MapsEntry& m);
};

}  // namespace cryo
