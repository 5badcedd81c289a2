// EpollFdDumper: epoll instances ("anon_inode:[eventpoll]"): the interest list from
// /proc/PID/fdinfo, each watched file found (kcmp) at its fd number, or, when that fd was closed
// or reused since, at another fd of the process (a stale entry).
#include "dump/fds/EpollFdDumper.h"

#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <sstream>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"

namespace cryo {

bool EpollFdDumper::holds(pid_t pid, int fd, kcmp_epoll_slot& slot, const std::string& who) {
  long same = ::syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, fd, &slot);
  if (same < 0 && errno == EBADF) return false;  // fd is closed
  if (same < 0) failErrno("{}: cannot compare watched fd {} with the file at fd {}", who,
                          slot.tfd, fd);
  return same == 0;
}

int EpollFdDumper::heldAt(pid_t pid, const FdTable& table, kcmp_epoll_slot& slot,
                          const std::string& who) {
  for (const OpenFd& o : table.fds())
    if (o.fd != static_cast<int>(slot.tfd) && holds(pid, o.fd, slot, who)) return o.fd;
  return -1;
}

void EpollFdDumper::dump(DumpContext& ctx, const FdTable& table, const OpenFd& f,
                         img::FileDescription& d) {
  pid_t pid = ctx.pid();
  std::string who = fmt::format("pid {}: fd {} (epoll)", pid, f.fd);
  d.set_kind(img::FileDescription::EPOLL);
  img::Epoll* ep = d.mutable_epoll();
  // fdinfo: "tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x", one line per entry.
  std::istringstream in(ProcFs::readFile(ProcFs::path(pid, "fdinfo/" + std::to_string(f.fd))));
  std::map<int, uint32_t> seen;  // watched fd number -> entries listed so far with it
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("tfd:", 0) != 0) continue;
    int tfd = -1;
    unsigned events = 0;
    unsigned long long data = 0;
    if (std::sscanf(line.c_str(), "tfd: %d events: %x data: %llx", &tfd, &events, &data) != 3)
      fail("{}: cannot parse the fdinfo line \"{}\"", who, line);
    // Several entries may carry one fd number (the fd was closed and reused, and both files
    // added); the kernel tells them apart by their rank among entries of that number.
    uint32_t rank = seen[tfd]++;
    kcmp_epoll_slot slot{static_cast<__u32>(f.fd), static_cast<__u32>(tfd), rank};
    img::EpollTarget* t = ep->add_targets();
    if (!holds(pid, tfd, slot, who)) {
      int at = heldAt(pid, table, slot, who);
      if (at < 0)
        fail("{}: it watches a file that is no longer at fd {} and that no other fd of the "
             "process holds (it lives only in another process now); cannot checkpoint it",
             who, tfd);
      spdlog::info("{}: the file it watches under fd {} is at fd {} now", who, tfd, at);
      t->set_stale(true);
      t->set_held_at(at);
    }
    t->set_fd(tfd);
    t->set_events(events);
    t->set_data(data);
  }
}

}  // namespace cryo
