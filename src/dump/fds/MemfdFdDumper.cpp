// MemfdFdDumper: memfd file descriptors: name, size, seals and data extents (SEEK_DATA).
#include "dump/fds/MemfdFdDumper.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/Error.h"
#include "dump/DumpContext.h"

namespace cryo {

namespace {
constexpr uint64_t kMaxMemfd = 1ull << 30;
}  // namespace

bool MemfdFdDumper::claims(const OpenFd& f) const {
  return f.link.rfind("/memfd:", 0) == 0 && S_ISREG(f.st.st_mode);
}

namespace {
// Puts an open file description's offset back as it was, whatever happens meanwhile.
class OffsetKeeper {
 public:
  OffsetKeeper(int fd, pid_t pid, int taskFd) : fd_(fd), pos_(::lseek(fd, 0, SEEK_CUR)) {
    if (pos_ < 0) failErrno("pid {}: fd {}: cannot read the memfd's offset", pid, taskFd);
  }
  ~OffsetKeeper() { ::lseek(fd_, pos_, SEEK_SET); }
  OffsetKeeper(const OffsetKeeper&) = delete;
  OffsetKeeper& operator=(const OffsetKeeper&) = delete;

 private:
  int fd_;
  off_t pos_;
};
}  // namespace

void MemfdFdDumper::dump(DumpContext& ctx, const FdTable&, const OpenFd& f,
                         img::FileDescription& d) {
  d.set_kind(img::FileDescription::MEMFD);
  img::MemFd* m = d.mutable_memfd();
  static const std::string kPrefix = "/memfd:", kDeleted = " (deleted)";
  std::string name = f.link.substr(kPrefix.size());
  if (name.size() >= kDeleted.size() &&
      name.compare(name.size() - kDeleted.size(), kDeleted.size(), kDeleted) == 0)
    name.resize(name.size() - kDeleted.size());
  m->set_ino(f.st.st_ino);
  m->set_name(name);
  m->set_size(static_cast<uint64_t>(f.st.st_size));
  UniqueFd copy = ctx.takeFd(f.fd);
  int seals = ::fcntl(copy.get(), F_GET_SEALS);
  m->set_seals(seals > 0 ? static_cast<uint32_t>(seals) : 0);
  if (!ctx.fdIndex().claimOnce(fmt::format("memfd:{}", f.st.st_ino))) return;
  if (m->size() > kMaxMemfd)
    fail("pid {}: fd {} ({}): a memfd of {} bytes is larger than the {} bytes cryo stores",
         ctx.pid(), f.fd, f.link, m->size(), kMaxMemfd);
  // The parts that hold data, found through cryo's copy of the fd. The copy shares the task's
  // open file description: SEEK_DATA and SEEK_HOLE move its offset, which is put back.
  OffsetKeeper keep(copy.get(), ctx.pid(), f.fd);
  off_t off = 0, end = static_cast<off_t>(m->size());
  while (off < end) {
    off_t s = ::lseek(copy.get(), off, SEEK_DATA);
    if (s < 0) {
      if (errno == ENXIO) break;
      failErrno("pid {}: fd {} ({}): SEEK_DATA", ctx.pid(), f.fd, f.link);
    }
    off_t e = ::lseek(copy.get(), s, SEEK_HOLE);
    if (e < 0) failErrno("pid {}: fd {} ({}): SEEK_HOLE", ctx.pid(), f.fd, f.link);
    img::MemFdExtent* x = m->add_extents();
    x->set_offset(static_cast<uint64_t>(s));
    std::string data(static_cast<size_t>(e - s), '\0');
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pread(copy.get(), data.data() + done, data.size() - done,
                          s + static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) failErrno("pid {}: fd {} ({}): cannot read the memfd", ctx.pid(), f.fd, f.link);
      done += static_cast<size_t>(n);
    }
    x->set_data(std::move(data));
    off = e;
  }
}

}  // namespace cryo
