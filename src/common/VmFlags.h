// VmFlags: the two-letter VmFlags of one mapping (from /proc/PID/smaps), as a set that is
// copied without allocating (a frozen dump copies them for every mapping).
#pragma once

#include <bitset>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace cryo {

class VmFlags {
 public:
  VmFlags() = default;
  VmFlags(std::initializer_list<std::string_view> flags);

  // Adds every flag of a "VmFlags:" line's value ("rd wr mr mw me ac ").
  void parse(std::string_view line);
  void insert(std::string_view flag);
  bool has(std::string_view flag) const;
  bool empty() const { return letters_.none() && others_.empty(); }
  bool operator==(const VmFlags&) const = default;
  // Every flag, sorted.
  std::vector<std::string> list() const;

  // What cryo does with a flag the kernel shows (every one Linux 6.18 has, x86_64 and arm64;
  // Documentation/filesystems/proc.rst).
  enum class Role {
    kMapping,    // follows from how the mapping is recreated (protection, sharing, file)
    kRestored,   // recorded in the image and set again (mmap flag, madvise, mlock2, mseal)
    kAccounting, // the kernel's own bookkeeping, invisible to the task ("ac", "gu"): not compared
    kTracking,   // cryo's own dirty-page tracking (soft-dirty, userfaultfd write-protect)
    kRefused,    // a checkpoint of a mapping showing it is refused, naming it
  };
  // The role of `flag`, and what it means (for messages). A flag this cryo does not know is
  // refused: a newer kernel's flag may be state that would be lost.
  static Role role(std::string_view flag, std::string_view* meaning = nullptr);

 private:
  // Two lowercase letters (every flag the kernel has today): one bit each; anything else in
  // a (sorted) list of its own.
  static constexpr size_t kLetterPairs = 26 * 26;
  static int index(std::string_view flag);

  std::bitset<kLetterPairs> letters_;
  std::vector<std::string> others_;
};

}  // namespace cryo
