// PipeFdDumper: anonymous pipe ends ("pipe:[N]"): the pipe with its buffered bytes (stored once
// per tree), its other end held in the tree or outside it (then restored closed); a standard
// stream whose other end is outside the tree, as INHERITED.
#include "dump/fds/PipeFdDumper.h"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <unistd.h>

#include <climits>

#include "common/Error.h"
#include "dump/DumpContext.h"

namespace cryo {

bool PipeFdDumper::claims(const OpenFd& f) const { return f.link.rfind("pipe:[", 0) == 0; }

std::string PipeFdDumper::bufferedBytes(DumpContext& ctx, int fd, int pipeSize) {
  UniqueFd src = ctx.takeFd(fd);
  return teeBytes(src.get(), pipeSize, fmt::format("pid {}: fd {}", ctx.pid(), fd));
}

std::string PipeFdDumper::teeBytes(int src, int pipeSize, const std::string& who) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) failErrno("pipe2");
  UniqueFd r(p[0]), w(p[1]);
  if (pipeSize > 0) ::fcntl(w.get(), F_SETPIPE_SZ, pipeSize);
  ssize_t n = ::tee(src, w.get(), INT32_MAX, SPLICE_F_NONBLOCK);
  if (n < 0 && errno != EAGAIN) failErrno("{}: cannot copy the bytes buffered in its pipe", who);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t k = ::read(r.get(), buf, sizeof buf);
    if (k <= 0) break;
    out.append(buf, static_cast<size_t>(k));
  }
  return out;
}

void PipeFdDumper::dump(DumpContext& ctx, const FdTable&, const OpenFd& f,
                        img::FileDescription& d) {
  TreeFdIndex& index = ctx.fdIndex();
  bool both = index.hasPipeReader(f.st.st_ino) && index.hasPipeWriter(f.st.st_ino);
  if (!both && f.isStdio()) {
    d.set_kind(img::FileDescription::INHERITED);
    d.set_inherited_fd(f.fd);
    return;
  }
  d.set_kind(img::FileDescription::PIPE);
  if (!both) {
    d.set_pipe_peer_outside(true);
    spdlog::info("pid {}: fd {} ({}): the pipe's other end is outside the dumped tree: it is "
                 "restored closed",
                 ctx.pid(), f.fd, f.link);
  }
  d.set_pipe_ino(f.st.st_ino);
  UniqueFd copy = ctx.takeFd(f.fd);
  int size = ::fcntl(copy.get(), F_GETPIPE_SZ);
  d.set_pipe_size(size > 0 ? static_cast<uint32_t>(size) : 0);
  uint32_t acc = f.flags & O_ACCMODE;
  if ((acc == O_RDONLY || acc == O_RDWR) && index.claimOnce(fmt::format("pipe:{}", f.st.st_ino)))
    d.set_pipe_data(bufferedBytes(ctx, f.fd, size));
}

}  // namespace cryo
