// VmFlags: the two-letter VmFlags of one mapping, one bit per flag.
#include "common/VmFlags.h"

#include <algorithm>

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

}  // namespace cryo
