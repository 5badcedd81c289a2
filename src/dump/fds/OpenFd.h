// OpenFd: one file descriptor of a frozen task as /proc shows it (link text, stat, flags,
// offset, locks) and the open file description it belongs to.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cryo.pb.h"

namespace cryo {

struct OpenFd {
  int fd = -1;
  std::string link;     // readlink of /proc/PID/fd/N
  struct stat st {};    // stat of /proc/PID/fd/N (zeroed if it failed)
  uint32_t flags = 0;   // open flags without O_CLOEXEC
  bool cloexec = false;
  uint64_t pos = 0;
  uint32_t description = 0;  // FileDescription.id shared by fds of one open file description
  // The locks fdinfo shows on it (see FileDescription.locks).
  std::vector<img::FileLock> locks;

  // For an anonymous-inode fd ("anon_inode:[eventfd]", "anon_inode:inotify"): its kind
  // without brackets ("eventfd", "inotify"); empty for any other fd.
  std::string anonKind() const {
    static const std::string kPrefix = "anon_inode:";
    if (link.rfind(kPrefix, 0) != 0) return {};
    std::string k = link.substr(kPrefix.size());
    if (k.size() >= 2 && k.front() == '[' && k.back() == ']') k = k.substr(1, k.size() - 2);
    return k;
  }
  bool isStdio() const { return fd >= 0 && fd <= 2; }
};

}  // namespace cryo
