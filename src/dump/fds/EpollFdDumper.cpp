// EpollFdDumper: epoll instances ("anon_inode:[eventpoll]"): the interest list from
// /proc/PID/fdinfo, each watched fd checked (kcmp) to still hold the very file it watches.
#include "dump/fds/EpollFdDumper.h"

#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <sstream>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"

namespace cryo {

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
    if (!table.find(tfd))
      fail("{}: it watches fd {}, which the task has closed since (the watched file lives on "
           "under another fd or in another process); cannot checkpoint it",
           who, tfd);
    kcmp_epoll_slot slot{static_cast<__u32>(f.fd), static_cast<__u32>(tfd), rank};
    long same = ::syscall(SYS_kcmp, pid, pid, KCMP_EPOLL_TFD, tfd, &slot);
    if (same < 0) failErrno("{}: cannot compare watched fd {} with the file at that number", who,
                            tfd);
    if (same != 0)
      fail("{}: it watches a file that is no longer at fd {} (fd {} was closed and now refers "
           "to another file); cannot checkpoint it",
           who, tfd, tfd);
    img::EpollTarget* t = ep->add_targets();
    t->set_fd(tfd);
    t->set_events(events);
    t->set_data(data);
  }
}

}  // namespace cryo
