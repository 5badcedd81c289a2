// TimerFdDumper: timerfd descriptors ("anon_inode:[timerfd]"): clock, settime flags, the time
// left until the next expiration, the interval and the expirations not read yet.
#include "dump/fds/TimerFdDumper.h"

#include <sys/timerfd.h>

#include <cstdio>

#include "common/Error.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"

namespace cryo {

namespace {

// "(sec, nsec)" as fdinfo prints it_value and it_interval.
uint64_t parseTimespec(const std::string& s, const std::string& who, const char* field) {
  long long sec = 0, nsec = 0;
  if (std::sscanf(s.c_str(), " (%lld, %lld)", &sec, &nsec) != 2 || sec < 0 || nsec < 0)
    fail("{}: cannot parse {} \"{}\" in fdinfo", who, field, s);
  return static_cast<uint64_t>(sec) * 1000000000ull + static_cast<uint64_t>(nsec);
}

}  // namespace

void TimerFdDumper::dump(DumpContext& ctx, const FdTable&, const OpenFd& f,
                         img::FileDescription& d) {
  std::string who = fmt::format("pid {}: fd {} ({})", ctx.pid(), f.fd, f.link);
  UniqueFd copy = ctx.takeFd(f.fd);
  img::TimerFd* t = d.mutable_timerfd();
  d.set_kind(img::FileDescription::TIMERFD);
  // A periodic timer that expired is only moved on to its next expiration (and its missed
  // expirations counted into ticks) when it is read or queried: timerfd_gettime does that
  // without consuming anything, so that fdinfo then shows the true count and time left. If
  // it expires again in between, fdinfo shows 0 left: query again.
  for (int attempt = 0;; ++attempt) {
    itimerspec cur{};
    if (::timerfd_gettime(copy.get(), &cur) != 0) failErrno("{}: timerfd_gettime", who);
    auto info = ProcFs::fdInfo(ctx.pid(), f.fd);
    for (const char* key : {"clockid", "ticks", "settime flags", "it_value", "it_interval"})
      if (!info.count(key)) fail("{}: fdinfo shows no \"{}\"; cannot checkpoint it", who, key);
    t->set_clockid(static_cast<int32_t>(std::strtol(info["clockid"].c_str(), nullptr, 10)));
    t->set_ticks(std::strtoull(info["ticks"].c_str(), nullptr, 10));
    t->set_settime_flags(
        static_cast<uint32_t>(std::strtoul(info["settime flags"].c_str(), nullptr, 8)));
    t->set_value_ns(parseTimespec(info["it_value"], who, "it_value"));
    t->set_interval_ns(parseTimespec(info["it_interval"], who, "it_interval"));
    if (t->value_ns() != 0 || t->interval_ns() == 0) break;
    if (attempt == 8) {
      // Expiring faster than it can be queried: the next expiration is one period away.
      t->set_value_ns(t->interval_ns());
      break;
    }
  }
}

}  // namespace cryo
