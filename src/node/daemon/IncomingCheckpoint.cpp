// IncomingCheckpoint: files created 0600 (O_EXCL) in STORE/.ID.cryo-tmp-replica (0700), checked
// with ImageReader before the rename to STORE/ID.
#include "node/daemon/IncomingCheckpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "image/ImageChain.h"
#include "image/ImageReader.h"

namespace cryo::daemon {

namespace {

constexpr size_t kMaxFiles = 256;
constexpr uint64_t kMaxBytes = uint64_t{1} << 40;

void fsyncOrThrow(int fd, const std::filesystem::path& p) {
  if (::fsync(fd) != 0)
    throw std::runtime_error(fmt::format("cannot fsync {}: {}", p.string(), strerror(errno)));
}

void fsyncDir(const std::filesystem::path& p) {
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw std::runtime_error(fmt::format("cannot open {}: {}", p.string(), strerror(errno)));
  fsyncOrThrow(fd.get(), p);
}

bool plainName(const std::string& n) {
  return !n.empty() && n.size() < 256 && n[0] != '.' && n.find('/') == std::string::npos &&
         n.find('\0') == std::string::npos;
}

}  // namespace

IncomingCheckpoint::IncomingCheckpoint(const std::filesystem::path& store,
                                       const node::ReplicaBegin& begin)
    : store_(store),
      tmp_(store / fmt::format(".{}.cryo-tmp-replica", begin.checkpoint())),
      final_(store / begin.checkpoint()),
      begin_(begin) {
  std::error_code ec;
  std::filesystem::remove_all(tmp_, ec);  // a leftover of a stream cut while this node died
  if (::mkdir(tmp_.c_str(), 0700) != 0)
    throw std::runtime_error(fmt::format("cannot create {}: {}", tmp_.string(), strerror(errno)));
}

IncomingCheckpoint::~IncomingCheckpoint() {
  if (committed_) return;
  files_.clear();
  std::error_code ec;
  std::filesystem::remove_all(tmp_, ec);
  if (ec) spdlog::warn("cannot remove {}: {}", tmp_.string(), ec.message());
}

void IncomingCheckpoint::bad(const std::string& why) const {
  throw std::invalid_argument(fmt::format("checkpoint {} of task {}: {}", begin_.checkpoint(),
                                          begin_.task(), why));
}

IncomingCheckpoint::File& IncomingCheckpoint::fileFor(const std::string& name, uint64_t offset) {
  auto it = files_.find(name);
  if (it != files_.end()) {
    if (offset != it->second.size)
      bad(fmt::format("file {}: chunk at offset {}, expected {}", name, offset, it->second.size));
    return it->second;
  }
  if (!plainName(name)) bad(fmt::format("bad file name '{}'", name));
  if (offset != 0) bad(fmt::format("file {} starts at offset {}", name, offset));
  if (files_.size() >= kMaxFiles) bad("too many files");
  std::filesystem::path p = tmp_ / name;
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) throw std::runtime_error(fmt::format("cannot create {}: {}", p.string(), strerror(errno)));
  return files_.emplace(name, File{std::move(fd), 0, Sha256()}).first->second;
}

void IncomingCheckpoint::write(const node::ReplicaChunk& chunk) {
  File& f = fileFor(chunk.file(), chunk.offset());
  const std::string& d = chunk.data();
  bytes_ += d.size();
  if (bytes_ > kMaxBytes) bad("more data than any checkpoint holds");
  for (size_t done = 0; done < d.size();) {
    ssize_t n = ::write(f.fd.get(), d.data() + done, d.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw std::runtime_error(fmt::format("cannot write {}/{}: {}", tmp_.string(),
                                           chunk.file(), strerror(errno)));
    done += static_cast<size_t>(n);
  }
  f.sum.update(d);
  f.size += d.size();
}

void IncomingCheckpoint::verify(const node::ReplicaEnd& end) {
  if (static_cast<size_t>(end.files_size()) != files_.size())
    bad(fmt::format("the sender listed {} files, {} came", end.files_size(), files_.size()));
  for (const node::ReplicaFileDigest& d : end.files()) {
    auto it = files_.find(d.file());
    if (it == files_.end()) bad(fmt::format("file {} was listed but never sent", d.file()));
    File& f = it->second;
    if (f.size != d.size()) bad(fmt::format("file {}: {} bytes came, {} were sent", d.file(), f.size, d.size()));
    if (f.sum.finish() != d.sha256()) bad(fmt::format("file {}: SHA-256 mismatch (corrupt chunks)", d.file()));
    fsyncOrThrow(f.fd.get(), tmp_ / d.file());
  }
  verifyImage();
  fsyncDir(tmp_);
}

void IncomingCheckpoint::verifyImage() const {
  try {
    ImageReader image(tmp_);  // manifest, tree and page checksums
    const img::Manifest& m = image.manifest();
    if (m.image_id() != begin_.image_id())
      bad(fmt::format("image id {} where {} was announced", m.image_id(), begin_.image_id()));
    if (m.has_parent() != !begin_.parent().empty())
      bad("the image's parent does not match the announced one");
    if (!m.has_parent()) return;
    std::filesystem::path parent = ImageChain::parentPath(final_, m.parent());
    if (parent != store_ / begin_.parent() || m.parent().image_id() != begin_.parent_image_id())
      bad(fmt::format("the image names parent {} ({}), not {}", parent.string(),
                      m.parent().image_id(), begin_.parent()));
    uint64_t sum = 0;
    img::Manifest pm = ImageReader::readManifest(parent, &sum);
    if (pm.image_id() != m.parent().image_id() ||
        (sum != m.parent().manifest_checksum() &&
         pm.replaced_manifest_checksum() != m.parent().manifest_checksum()))
      bad(fmt::format("parent {} on this node is not the image it was taken after",
                      begin_.parent()));
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    bad(fmt::format("not a valid image: {}", e.what()));
  }
}

void IncomingCheckpoint::commit() {
  if (::rename(tmp_.c_str(), final_.c_str()) != 0)
    throw std::runtime_error(fmt::format("cannot rename {} to {}: {}", tmp_.string(),
                                         final_.string(), strerror(errno)));
  committed_ = true;
  fsyncDir(store_);
}

}  // namespace cryo::daemon
