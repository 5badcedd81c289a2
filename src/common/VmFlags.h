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

 private:
  // Two lowercase letters (every flag the kernel has today): one bit each; anything else in
  // a (sorted) list of its own.
  static constexpr size_t kLetterPairs = 26 * 26;
  static int index(std::string_view flag);

  std::bitset<kLetterPairs> letters_;
  std::vector<std::string> others_;
};

}  // namespace cryo
