// InFlightFiles: the open files in flight in a UNIX socket's receive queue (SCM_RIGHTS), from
// the copies that peeking at the queue hands cryo: an fd of the tree that is the very same
// open file (kcmp), or else a regular file or an anonymous pipe end that only the queue keeps
// alive, described like an fd of its kind; anything else is refused by name.
#include "dump/fds/InFlightFiles.h"

#include <fcntl.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "common/Error.h"
#include "dump/fds/PipeFdDumper.h"
#include "common/FileIdentity.h"
#include "common/ProcFs.h"
#include "dump/DumpContext.h"
#include "dump/fds/TreeFdIndex.h"

namespace cryo {

namespace {

bool sameFile(pid_t a, int fa, pid_t b, int fb) {
  return ::syscall(SYS_kcmp, a, b, KCMP_FILE, fa, fb) == 0;
}

bool endsWith(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}


}  // namespace

void InFlightFiles::describe(DumpContext& ctx, const UniqueFd& file, const std::string& who,
                             img::InFlightFile& out) {
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) failErrno("{}: cannot stat a file in flight", who);
  TreeFdIndex& index = ctx.fdIndex();
  pid_t self = ::getpid();
  for (const auto& [pid, table] : index.tables())
    for (const OpenFd& f : table.fds()) {
      if (f.st.st_dev != st.st_dev || f.st.st_ino != st.st_ino) continue;
      if (!sameFile(self, file.get(), pid, f.fd)) continue;
      out.set_pid(pid);
      out.set_fd(f.fd);
      return;
    }
  // Only the queue keeps it: described once, named by its number in every message.
  std::vector<UniqueFd>& alone = index.inFlightOnly();
  for (size_t i = 0; i < alone.size(); ++i)
    if (sameFile(self, alone[i].get(), self, file.get())) {
      out.set_id(i + 1);
      return;
    }
  describeAlone(ctx, file, st, who, *out.mutable_file());
  UniqueFd keep(::fcntl(file.get(), F_DUPFD_CLOEXEC, 0));
  if (!keep) failErrno("{}: cannot keep a copy of a file in flight", who);
  alone.push_back(std::move(keep));
  out.set_id(alone.size());
}

void InFlightFiles::describeAlone(DumpContext& ctx, const UniqueFd& file, const struct stat& st,
                                  const std::string& who, img::FileDescription& d) {
  std::string self = "/proc/self/fd/" + std::to_string(file.get());
  std::string link = ProcFs::readLink(self);
  auto info = ProcFs::status("/proc/self/fdinfo/" + std::to_string(file.get()));
  uint32_t flags = static_cast<uint32_t>(std::strtoul(info["flags"].c_str(), nullptr, 8));
  d.set_flags(flags & ~static_cast<uint32_t>(O_CLOEXEC));
  d.set_pos(std::strtoull(info["pos"].c_str(), nullptr, 10));
  d.set_description(link);
  *d.mutable_file() = FileIdentity::of(st);
  auto refuse = [&](const char* why) {
    fail("{}: {} is in flight with it (SCM_RIGHTS) and held by no process of the tree: {}; "
         "cannot checkpoint it",
         who, link, why);
  };
  if (S_ISREG(st.st_mode)) {
    if (link.empty() || link[0] != '/' || link.rfind("/memfd:", 0) == 0)
      refuse("only regular files, by path, and pipes are restored in flight alone");
    if (st.st_nlink == 0 || endsWith(link, " (deleted)"))
      refuse("a deleted file is not restored in flight alone");
    struct stat named {};
    if (::stat(link.c_str(), &named) != 0 || named.st_ino != st.st_ino ||
        named.st_dev != st.st_dev)
      refuse("its path now names another file");
    d.set_kind(img::FileDescription::REGULAR);
    d.set_path(link);
    return;
  }
  if (S_ISFIFO(st.st_mode) && link.rfind("pipe:[", 0) == 0) {
    d.set_kind(img::FileDescription::PIPE);
    d.set_pipe_ino(st.st_ino);
    int size = ::fcntl(file.get(), F_GETPIPE_SZ);
    d.set_pipe_size(size > 0 ? static_cast<uint32_t>(size) : 0);
    uint32_t acc = d.flags() & O_ACCMODE;
    if ((acc == O_RDONLY || acc == O_RDWR) &&
        ctx.fdIndex().claimOnce(fmt::format("pipe:{}", st.st_ino)))
      d.set_pipe_data(PipeFdDumper::teeBytes(file.get(), size, who));
    return;
  }
  refuse("only regular files, by path, and pipes are restored in flight alone");
}

}  // namespace cryo
