// ImageDescriber: what `cryo show` prints about an image, as text for people or JSON for scripts.
#include "cli/ImageDescriber.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <time.h>

#include <map>
#include <sstream>

#include <fmt/format.h>

#include "common/InetAddress.h"
#include "image/ImageFormat.h"

namespace cryo {

namespace {

std::string protString(uint32_t prot, bool shared) {
  std::string s;
  s += (prot & PROT_READ) ? 'r' : '-';
  s += (prot & PROT_WRITE) ? 'w' : '-';
  s += (prot & PROT_EXEC) ? 'x' : '-';
  s += shared ? 's' : 'p';
  return s;
}

std::map<uint64_t, uint64_t> pagesPerVma(const img::Process& p) {
  std::map<uint64_t, uint64_t> out;
  int vi = 0;
  for (const auto& run : p.pages()) {
    if (run.kind() != img::PageRun::DATA) continue;
    while (vi < p.vmas_size() && p.vmas(vi).end() <= run.vaddr()) ++vi;
    if (vi < p.vmas_size()) out[p.vmas(vi).start()] += run.nr_pages();
  }
  return out;
}

std::string clockName(int32_t clock) {
  switch (clock) {
    case CLOCK_REALTIME: return "realtime";
    case CLOCK_MONOTONIC: return "monotonic";
    case CLOCK_PROCESS_CPUTIME_ID: return "process-cputime";
    case CLOCK_THREAD_CPUTIME_ID: return "thread-cputime";
    case CLOCK_BOOTTIME: return "boottime";
    case CLOCK_REALTIME_ALARM: return "realtime-alarm";
    case CLOCK_BOOTTIME_ALARM: return "boottime-alarm";
    case CLOCK_TAI: return "tai";
    default: return std::to_string(clock);
  }
}

std::string durationText(uint64_t ns) {
  if (ns >= 1000000000ull) return fmt::format("{:.3f} s", static_cast<double>(ns) / 1e9);
  if (ns >= 1000000ull) return fmt::format("{:.3f} ms", static_cast<double>(ns) / 1e6);
  return fmt::format("{} ns", ns);
}

std::string notifyName(int32_t notify, int32_t tid) {
  switch (notify) {
    case SIGEV_SIGNAL: return "signal";
    case SIGEV_NONE: return "none";
    case SIGEV_THREAD: return "thread";
    case SIGEV_SIGNAL | SIGEV_THREAD_ID: return fmt::format("signal to thread {}", tid);
    default: return std::to_string(notify);
  }
}

// The state of an fd kind that has more than a path and an offset, for `show`: structured
// fields for --json, and `detail`, one line of text for people.
nlohmann::json fdState(const img::FileDescription& d) {
  using nlohmann::json;
  json j = json::object();
  switch (d.kind()) {
    case img::FileDescription::EVENTFD:
      j["count"] = d.eventfd().count();
      j["semaphore"] = d.eventfd().semaphore();
      j["detail"] = fmt::format("count {}{}", d.eventfd().count(),
                                d.eventfd().semaphore() ? ", semaphore" : "");
      break;
    case img::FileDescription::TIMERFD: {
      const auto& t = d.timerfd();
      j["clockid"] = t.clockid();
      j["settime_flags"] = t.settime_flags();
      j["value_ns"] = t.value_ns();
      j["interval_ns"] = t.interval_ns();
      j["ticks"] = t.ticks();
      j["detail"] = fmt::format(
          "clock {}, {}{}, {} unread expirations", clockName(t.clockid()),
          t.value_ns() ? fmt::format("next in {}", durationText(t.value_ns())) : "disarmed",
          t.interval_ns() ? fmt::format(", every {}", durationText(t.interval_ns())) : "",
          t.ticks());
      break;
    }
    case img::FileDescription::SIGNALFD: {
      uint64_t mask = d.signalfd().mask();
      j["sigmask"] = mask;
      std::string sigs;
      for (int sig = 1; sig <= 64; ++sig)
        if (mask & (1ull << (sig - 1))) sigs += fmt::format("{}{}", sigs.empty() ? "" : " ", sig);
      j["detail"] = fmt::format("signals {}", sigs.empty() ? "none" : sigs);
      break;
    }
    case img::FileDescription::EPOLL: {
      j["targets"] = json::array();
      std::string list;
      for (const auto& t : d.epoll().targets()) {
        j["targets"].push_back({{"fd", t.fd()}, {"events", t.events()}, {"data", t.data()}});
        list += fmt::format("{}fd {} events {:#x} data {:#x}", list.empty() ? "" : "; ", t.fd(),
                            t.events(), t.data());
      }
      j["detail"] = fmt::format("watches {}", list.empty() ? "nothing" : list);
      break;
    }
    case img::FileDescription::UNIX_SOCKET: {
      const auto& u = d.unix_socket();
      static const char* const states[] = {"unconnected", "connected", "listening"};
      const char* type = u.type() == SOCK_STREAM ? "stream"
                         : u.type() == SOCK_DGRAM ? "datagram"
                                                  : "seqpacket";
      std::string name = u.name().empty()       ? ""
                         : u.name()[0] == '\0' ? "@" + u.name().substr(1)
                                                : u.name();
      size_t queued = 0;
      for (const auto& m : u.queue()) queued += m.data().size();
      j["type"] = type;
      j["state"] = states[u.state() % 3];
      j["name"] = name;
      j["peer_ino"] = u.peer_ino();
      j["queued_bytes"] = queued;
      j["detail"] = fmt::format(
          "unix {} {}{}{}{}, {} bytes queued in {} messages", type, states[u.state() % 3],
          name.empty() ? "" : " " + name,
          u.peer_ino() ? fmt::format(", peer socket:[{}]", u.peer_ino()) : "",
          u.peer_closed() ? ", peer closed" : "", queued, u.queue_size());
      break;
    }
    case img::FileDescription::INET_SOCKET: {
      const auto& n = d.inet_socket();
      static const char* const states[] = {"unconnected", "listening", "connected",
                                           "reset (--tcp-close)"};
      std::string local = n.bound() ? InetAddress::text(n.family(), n.local_addr(), n.local_port())
                                    : "unbound";
      j["protocol"] = n.protocol() == IPPROTO_TCP ? "tcp" : "udp";
      j["state"] = states[n.state() % 4];
      j["local"] = local;
      j["detail"] = fmt::format("{} {} {}{}", n.protocol() == IPPROTO_TCP ? "tcp" : "udp",
                                states[n.state() % 4], local,
                                n.state() == img::InetSocket::LISTENING
                                    ? fmt::format(", backlog {}", n.backlog())
                                    : "");
      break;
    }
    case img::FileDescription::INOTIFY: {
      j["watches"] = json::array();
      std::string list;
      for (const auto& w : d.inotify().watches()) {
        j["watches"].push_back({{"wd", w.wd()}, {"path", w.path()}, {"mask", w.mask()}});
        list += fmt::format("{}wd {} {} mask {:#x}", list.empty() ? "" : "; ", w.wd(), w.path(),
                            w.mask());
      }
      j["detail"] = fmt::format("watches {}", list.empty() ? "nothing" : list);
      break;
    }
    default:
      break;
  }
  return j;
}

}  // namespace

nlohmann::json ImageDescriber::toJson(const ImageReader& image) {
  using nlohmann::json;
  const auto& m = image.manifest();
  json j;
  j["image_id"] = m.image_id();
  j["format_version"] = image.formatVersion();
  j["cryo_version"] = m.cryo_version();
  j["arch"] = m.arch();
  j["kernel"] = m.kernel_release();
  j["host"] = m.hostname();
  j["created_unix_ns"] = m.created_unix_ns();
  j["parent"] = m.has_parent() ? json(m.parent().image_id()) : json(nullptr);
  j["freeze_us"] = m.freeze_us();
  j["dump_us"] = m.dump_us();
  j["pages_stored"] = m.pages_stored();
  uint64_t bytes = 0;
  for (const auto& f : m.files()) bytes += f.size();
  j["image_bytes"] = bytes;
  j["processes"] = json::array();
  for (const auto& p : image.tree().processes()) {
    json pj;
    pj["pid"] = p.pid();
    pj["ppid"] = p.ppid();
    pj["pgid"] = p.pgid();
    pj["sid"] = p.sid();
    pj["stop_signal"] = p.stop_signal();
    pj["comm"] = p.comm();
    pj["cmdline"] = json(std::vector<std::string>(p.cmdline().begin(), p.cmdline().end()));
    pj["exe"] = p.mm().exe_path();
    auto perVma = pagesPerVma(p);
    pj["vmas"] = json::array();
    for (const auto& v : p.vmas()) {
      json vj;
      vj["start"] = fmt::format("{:#x}", v.start());
      vj["end"] = fmt::format("{:#x}", v.end());
      vj["size"] = v.end() - v.start();
      vj["prot"] = protString(v.prot(), v.shared());
      vj["kind"] = img::Vma::Kind_Name(v.kind());
      vj["path"] = v.path();
      vj["pages_stored"] = perVma.count(v.start()) ? perVma[v.start()] : 0;
      pj["vmas"].push_back(vj);
    }
    pj["threads"] = json::array();
    for (const auto& t : p.threads()) {
      json tj;
      tj["tid"] = t.tid();
      tj["comm"] = t.comm();
      tj["in_syscall"] = t.in_syscall();
      tj["pending_signals"] = t.pending_size();
      pj["threads"].push_back(tj);
    }
    std::map<uint32_t, const img::FileDescription*> files;
    for (const auto& f : p.files()) files[f.id()] = &f;
    pj["fds"] = json::array();
    for (const auto& fd : p.fds()) {
      json fj;
      fj["fd"] = fd.fd();
      fj["cloexec"] = fd.cloexec();
      if (auto it = files.find(fd.description()); it != files.end()) {
        fj["kind"] = img::FileDescription::Kind_Name(it->second->kind());
        fj["path"] = it->second->path().empty() ? it->second->description() : it->second->path();
        fj["pos"] = it->second->pos();
        // The key `restore --inherit-fd fd[N]:KEY` takes for it.
        fj["inherit_key"] = it->second->description();
        if (it->second->pipe_peer_outside() ||
            it->second->kind() == img::FileDescription::INHERITED)
          fj["outside"] = true;
        nlohmann::json state = fdState(*it->second);
        if (!state.empty()) fj["state"] = state;
        // The file locks it held, as fdinfo showed them.
        for (const auto& l : it->second->locks()) fj["locks"].push_back(l.line());
      }
      pj["fds"].push_back(fj);
    }
    pj["posix_timers"] = json::array();
    for (const auto& t : p.posix_timers()) {
      json tj;
      tj["id"] = t.id();
      tj["clockid"] = t.clockid();
      tj["clock"] = clockName(t.clockid());
      tj["notify"] = notifyName(t.notify(), t.notify_tid());
      tj["signal"] = t.signo();
      tj["sigval"] = t.sigval();
      tj["value_ns"] = t.value_ns();
      tj["interval_ns"] = t.interval_ns();
      tj["detail"] = fmt::format(
          "clock {}, notify {}{}, {}{}", clockName(t.clockid()), notifyName(t.notify(), t.notify_tid()),
          t.notify() == SIGEV_NONE ? "" : fmt::format(" (signal {}, value {:#x})", t.signo(), t.sigval()),
          t.value_ns() ? fmt::format("next in {}", durationText(t.value_ns())) : "disarmed",
          t.interval_ns() ? fmt::format(", every {}", durationText(t.interval_ns())) : "");
      pj["posix_timers"].push_back(tj);
    }
    pj["sigactions"] = p.sigactions_size();
    pj["shared_pending_signals"] = p.shared_pending_size();
    j["processes"].push_back(pj);
  }
  // The root process's fields also at top level, for scripts that expect one process.
  if (!j["processes"].empty())
    for (auto& [k, v] : j["processes"][0].items()) j[k] = v;
  return j;
}

std::string ImageDescriber::toText(const ImageReader& image) {
  nlohmann::json j = toJson(image);
  std::ostringstream o;
  o << fmt::format("image {} (format {}, cryo {}, {} on {}, kernel {})\n",
                   j["image_id"].get<std::string>(), j["format_version"].get<uint32_t>(),
                   j["cryo_version"].get<std::string>(), j["arch"].get<std::string>(),
                   j["host"].get<std::string>(), j["kernel"].get<std::string>());
  o << fmt::format("parent: {}\n", j["parent"].is_null() ? "none (full checkpoint)"
                                                         : j["parent"].get<std::string>());
  o << fmt::format("size: {} bytes, {} pages stored; frozen {} us, dump took {} us\n",
                   j["image_bytes"].get<uint64_t>(), j["pages_stored"].get<uint64_t>(),
                   j["freeze_us"].get<uint64_t>(), j["dump_us"].get<uint64_t>());
  for (const auto& p : j["processes"]) {
    o << fmt::format("process {} ({}) ppid {} pgid {} sid {} exe {}\n", p["pid"].get<int>(),
                     p["comm"].get<std::string>(), p["ppid"].get<int>(), p["pgid"].get<int>(),
                     p["sid"].get<int>(), p["exe"].get<std::string>());
    if (p["stop_signal"].get<int>() != 0)
      o << fmt::format("  stopped by signal {} (job control)\n", p["stop_signal"].get<int>());
    o << fmt::format("  threads ({}):\n", p["threads"].size());
    for (const auto& t : p["threads"])
      o << fmt::format("    tid {:<8} {:<16} {}{}\n", t["tid"].get<int>(),
                       t["comm"].get<std::string>(),
                       t["in_syscall"].get<int64_t>() >= 0
                           ? fmt::format("in syscall {}", t["in_syscall"].get<int64_t>())
                           : std::string("running"),
                       t["pending_signals"].get<int>() ? fmt::format(", {} signals pending",
                                                                     t["pending_signals"].get<int>())
                                                       : std::string());
    o << fmt::format("  mappings ({}):\n", p["vmas"].size());
    for (const auto& v : p["vmas"])
      o << fmt::format("    {}-{} {} {:>10} KiB {:>8} pages stored  {} {}\n",
                       v["start"].get<std::string>(), v["end"].get<std::string>(),
                       v["prot"].get<std::string>(), v["size"].get<uint64_t>() / 1024,
                       v["pages_stored"].get<uint64_t>(), v["kind"].get<std::string>(),
                       v["path"].get<std::string>());
    o << fmt::format("  fds ({}):\n", p["fds"].size());
    for (const auto& f : p["fds"])
      o << fmt::format("    {:>4} {:<12} {} {}{}\n", f["fd"].get<int>(),
                       f.contains("kind") ? f["kind"].get<std::string>() : "?",
                       f.contains("path") ? f["path"].get<std::string>() : "",
                       f.contains("state") ? f["state"]["detail"].get<std::string>()
                       : f.contains("pos") ? fmt::format("@{}", f["pos"].get<uint64_t>())
                                           : "",
                       f.contains("outside")
                           ? fmt::format(" (other end outside the task; restore --inherit-fd "
                                         "fd[N]:{})",
                                         f["inherit_key"].get<std::string>())
                           : "");
    if (!p["posix_timers"].empty()) {
      o << fmt::format("  POSIX timers ({}):\n", p["posix_timers"].size());
      for (const auto& t : p["posix_timers"])
        o << fmt::format("    {:>4} {}\n", t["id"].get<int>(), t["detail"].get<std::string>());
    }
    o << fmt::format("  signal handlers: {}, process-wide pending signals: {}\n",
                     p["sigactions"].get<int>(), p["shared_pending_signals"].get<int>());
  }
  return o.str();
}

}  // namespace cryo
