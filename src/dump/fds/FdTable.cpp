// FdTable: every fd of a frozen task read from /proc, grouped into the open file descriptions
// they share (kcmp), with which pipe inodes the task holds read and write ends of, and the
// file locks fdinfo shows on each.
#include "dump/fds/FdTable.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/fds/FileLocks.h"

namespace cryo {

FdTable FdTable::read(pid_t pid) {
  FdTable t;
  t.pid_ = pid;
  for (int fd : ProcFs::fds(pid)) {
    OpenFd f;
    f.fd = fd;
    std::string p = ProcFs::path(pid, "fd/" + std::to_string(fd));
    try {
      f.link = ProcFs::readLink(p);
    } catch (const Error&) {
      continue;  // closed meanwhile (cannot happen while frozen, but be tolerant)
    }
    if (::stat(p.c_str(), &f.st) != 0) std::memset(&f.st, 0, sizeof f.st);
    std::string infoPath = ProcFs::path(pid, "fdinfo/" + std::to_string(fd));
    std::optional<std::string> infoText = ProcFs::tryReadFile(infoPath);
    if (!infoText) continue;  // closed meanwhile
    auto info = ProcFs::status(infoPath);
    uint32_t flags = static_cast<uint32_t>(std::strtoul(info["flags"].c_str(), nullptr, 8));
    f.cloexec = flags & O_CLOEXEC;
    f.flags = flags & ~static_cast<uint32_t>(O_CLOEXEC);
    f.pos = std::strtoull(info["pos"].c_str(), nullptr, 10);
    // Locks taken through this fd: POSIX record locks of the process, OFD and flock locks of
    // its description (what no restore can give back is refused here, by name).
    f.locks = FileLocks::fromFdInfo(pid, f, *infoText);
    t.fds_.push_back(std::move(f));
  }

  // Group fds that share an open file description (dup'ed fds share offset and flags).
  auto& fds = t.fds_;
  uint32_t nextId = 1;
  for (size_t i = 0; i < fds.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (fds[j].st.st_dev != fds[i].st.st_dev || fds[j].st.st_ino != fds[i].st.st_ino) continue;
      if (::syscall(SYS_kcmp, pid, pid, KCMP_FILE, fds[j].fd, fds[i].fd) == 0) {
        fds[i].description = fds[j].description;
        break;
      }
    }
    if (!fds[i].description) fds[i].description = nextId++;
  }

  for (const auto& f : fds) {
    if (!S_ISFIFO(f.st.st_mode)) continue;
    uint32_t acc = f.flags & O_ACCMODE;
    if (acc == O_RDONLY || acc == O_RDWR) t.readers_.emplace(f.st.st_ino, f.fd);
    if (acc == O_WRONLY || acc == O_RDWR) t.writers_.emplace(f.st.st_ino, f.fd);
  }
  return t;
}

const OpenFd* FdTable::find(int fd) const {
  for (const auto& f : fds_)
    if (f.fd == fd) return &f;
  return nullptr;
}

}  // namespace cryo
