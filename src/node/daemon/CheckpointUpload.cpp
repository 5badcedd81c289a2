// CheckpointUpload: pread()s each file in 1 MiB chunks into ReplicaChunk messages, hashing as
// it goes; the standby's status becomes the result.
#include "node/daemon/CheckpointUpload.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "node/daemon/Sha256.h"

namespace cryo::daemon {

namespace {

constexpr size_t kChunk = 1 << 20;

std::vector<std::string> namesIn(int dirFd, const std::filesystem::path& dir) {
  int dup = ::fcntl(dirFd, F_DUPFD_CLOEXEC, 0);
  DIR* d = dup < 0 ? nullptr : ::fdopendir(dup);
  if (!d) {
    if (dup >= 0) ::close(dup);
    throw std::runtime_error(fmt::format("cannot list {}: {}", dir.string(), strerror(errno)));
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d))
    if (e->d_type == DT_REG) names.emplace_back(e->d_name);
  ::closedir(d);
  return names;
}

}  // namespace

CheckpointUpload::CheckpointUpload(node::ReplicaBegin begin, const std::filesystem::path& dir)
    : begin_(std::move(begin)), dir_(dir) {
  UniqueFd dirFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirFd) throw std::runtime_error(fmt::format("cannot open {}: {}", dir.string(), strerror(errno)));
  for (const std::string& name : namesIn(dirFd.get(), dir)) {
    File f{name, UniqueFd(::openat(dirFd.get(), name.c_str(), O_RDONLY | O_CLOEXEC)), 0};
    struct stat st {};
    if (!f.fd || ::fstat(f.fd.get(), &st) != 0)
      throw std::runtime_error(fmt::format("cannot open {}/{}: {}", dir.string(), name, strerror(errno)));
    f.size = static_cast<uint64_t>(st.st_size);
    total_ += f.size;
    files_.push_back(std::move(f));
  }
}

bool CheckpointUpload::cutsThisOne() {
  static std::atomic<uint64_t> uploads{0};
  const char* v = std::getenv("CRYO_REPLICA_CUT_AFTER");
  if (!v || !*v) return false;
  return ++uploads > std::strtoull(v, nullptr, 10);
}

std::string CheckpointUpload::what(const std::string& standby) const {
  return fmt::format("checkpoint {} of task {} to standby {}", begin_.checkpoint(), begin_.task(),
                     standby);
}

bool CheckpointUpload::sendFile(grpc::ClientWriter<node::ReplicaMessage>& w, const File& f,
                                node::ReplicaFileDigest* digest, uint64_t& sent, uint64_t cutAt,
                                grpc::ClientContext& ctx) {
  Sha256 sum;
  std::string buf;
  for (uint64_t off = 0; off < f.size || off == 0; off += buf.size()) {
    buf.resize(static_cast<size_t>(std::min<uint64_t>(kChunk, f.size - off)));
    ssize_t n = ::pread(f.fd.get(), buf.data(), buf.size(), static_cast<off_t>(off));
    if (n < 0 || static_cast<size_t>(n) != buf.size())
      throw std::runtime_error(fmt::format("cannot read {}/{} at {}: {}", dir_.string(), f.name,
                                           off, n < 0 ? strerror(errno) : "short read"));
    sum.update(buf);
    node::ReplicaMessage m;
    node::ReplicaChunk* c = m.mutable_chunk();
    c->set_file(f.name);
    c->set_offset(off);
    c->set_data(buf);
    if (!w.Write(m)) return false;
    sent += buf.size();
    if (sent >= cutAt) {
      ctx.TryCancel();  // nothing more goes out: the standby never sees End
      return false;
    }
    if (buf.empty()) break;  // an empty file: one empty chunk
  }
  digest->set_file(f.name);
  digest->set_size(f.size);
  digest->set_sha256(sum.finish());
  return true;
}

node::ReplicaAck CheckpointUpload::send(node::Replica::Stub& stub, grpc::ClientContext& ctx,
                                        const std::string& standby) {
  node::ReplicaAck ack;
  std::unique_ptr<grpc::ClientWriter<node::ReplicaMessage>> w = stub.Replicate(&ctx, &ack);
  node::ReplicaMessage begin;
  *begin.mutable_begin() = begin_;
  uint64_t cutAt = cutsThisOne() ? total_ / 2 : UINT64_MAX;
  bool open = w->Write(begin);
  node::ReplicaMessage end;
  uint64_t sent = 0;
  for (size_t i = 0; open && i < files_.size(); ++i)
    open = sendFile(*w, files_[i], end.mutable_end()->add_files(), sent, cutAt, ctx);
  if (open && w->Write(end)) w->WritesDone();
  grpc::Status st = w->Finish();
  if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION)
    throw StandbyLacksParent(fmt::format("{}: {}", what(standby), st.error_message()));
  if (!st.ok())
    throw std::runtime_error(fmt::format("{}: {} (gRPC status {})", what(standby),
                                         st.error_message(), static_cast<int>(st.error_code())));
  return ack;
}

}  // namespace cryo::daemon
