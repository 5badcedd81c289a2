// ImageWriter: builds one image in a private temporary directory and publishes it atomically
// (fsync, then rename) so that a reader sees either the old image or the complete new one.
#include "image/ImageWriter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/UniqueFd.h"
#include "image/Checksum.h"
#include "image/ImageFormat.h"

namespace fs = std::filesystem;

namespace cryo {

namespace {

void writeAll(int fd, const void* data, size_t len, const fs::path& p) {
  const char* c = static_cast<const char*>(data);
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::write(fd, c + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) failErrno("cannot write {}", p.string());
    done += static_cast<size_t>(n);
  }
}

void fsyncPath(const fs::path& p, bool directory) {
  UniqueFd fd(::open(p.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC));
  if (!fd) failErrno("cannot open {} to sync it", p.string());
  if (::fsync(fd.get()) != 0) failErrno("cannot fsync {}", p.string());
}

// Writes a whole file (mode 0600), fsyncs it, returns its digest.
img::FileDigest writeFile(const fs::path& p, const std::string& data) {
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) failErrno("cannot create {}", p.string());
  writeAll(fd.get(), data.data(), data.size(), p);
  if (::fsync(fd.get()) != 0) failErrno("cannot fsync {}", p.string());
  img::FileDigest d;
  d.set_name(p.filename().string());
  d.set_size(data.size());
  d.set_xxh3(Checksum::of(data.data(), data.size()));
  return d;
}

bool isImageOrEmptyDir(const fs::path& p) {
  if (!fs::is_directory(p)) return false;
  if (fs::is_empty(p)) return true;
  return fs::exists(p / std::string(image::kManifestFile));
}

}  // namespace

std::string ImageWriter::newImageId() {
  std::random_device rd;
  std::mt19937_64 g((static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                    static_cast<uint64_t>(
                        std::chrono::steady_clock::now().time_since_epoch().count()));
  return fmt::format("{:016x}{:016x}", g(), g());
}

ImageWriter::ImageWriter(const fs::path& dir) : dir_(fs::absolute(dir).lexically_normal()) {
  if (dir_.filename().empty()) dir_ = dir_.parent_path();
  if (fs::exists(dir_) && !isImageOrEmptyDir(dir_))
    fail("{} exists and is neither empty nor a cryo image; refusing to replace it",
         dir_.string());
  fs::path parent = dir_.parent_path();
  if (!fs::is_directory(parent)) fail("{} does not exist", parent.string());
  tmp_ = parent / fmt::format(".{}.cryo-tmp-{}-{}", dir_.filename().string(), ::getpid(),
                              newImageId().substr(0, 8));
  if (::mkdir(tmp_.c_str(), 0700) != 0) failErrno("cannot create {}", tmp_.string());
  pages_ = std::make_unique<PageWriter>((tmp_ / std::string(image::kPagesFile)).string());
}

ImageWriter::~ImageWriter() {
  if (committed_) return;
  pages_.reset();
  std::error_code ec;
  fs::remove_all(tmp_, ec);
  if (ec) spdlog::warn("could not remove {}: {}", tmp_.string(), ec.message());
}

uint32_t ImageWriter::formatVersionFor(const img::Tree& tree) {
  // Version 5: state a version-4 reader would restore differently without a word.
  for (const auto& p : tree.processes())
    if (p.files_shared_with() != 0 || p.fs_shared_with() != 0) return 5;
  // (connections waiting in a backlog, files in flight in a UNIX socket's queue)
  for (const auto& p : tree.processes())
    for (const auto& d : p.files()) {
      const img::UnixSocket& u = d.unix_socket();
      if (u.pending_on() != 0 || u.pending_size() > 0) return 5;
      for (const auto& m : u.queue())
        if (m.files_size() > 0) return 5;
    }
  // (files deleted while open or mapped, which a version-4 reader would make again empty)
  for (const auto& p : tree.processes()) {
    for (const auto& d : p.files())
      if (d.kind() == img::FileDescription::DELETED_FILE ||
          d.kind() == img::FileDescription::DELETED_FIFO)
        return 5;
    for (const auto& v : p.vmas())
      if (v.deleted()) return 5;
  }
  // Version 4: file locks, which a version-3 reader would not take again.
  for (const auto& p : tree.processes())
    for (const auto& d : p.files())
      if (d.locks_size() > 0) return 4;
  // Version 3: shared memory objects a version-2 reader would map as private or plain memory
  // (System V segments, memfd and /dev/shm mappings) or processes it would not know to treat
  // apart (zombies, whose pages are complete in this image alone).
  for (const auto& p : tree.processes()) {
    if (p.zombie() || (p.full_pages() && tree.processes_size() > 1)) return 3;
    for (const auto& v : p.vmas())
      if (v.kind() == img::Vma::SYSV_SHM || (v.shmem_id() && !v.path().empty())) return 3;
  }
  for (const auto& p : tree.processes())
    if (p.posix_timers_size() > 0) return 2;
  return image::kOldestFormatVersion;
}

void ImageWriter::commit(const img::Tree& tree, img::Manifest& manifest) {
  std::string treeBytes;
  if (!tree.SerializeToString(&treeBytes)) fail("cannot serialise the process tree");
  img::FileDigest treeDigest = writeFile(tmp_ / std::string(image::kTreeFile), treeBytes);

  pages_->sync();
  img::FileDigest pagesDigest;
  pagesDigest.set_name(std::string(image::kPagesFile));
  pagesDigest.set_size(pages_->bytes());
  pagesDigest.set_xxh3(pages_->fileChecksum());

  if (manifest.image_id().empty()) manifest.set_image_id(newImageId());
  if (manifest.created_unix_ns() == 0)
    manifest.set_created_unix_ns(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count()));
  manifest.clear_files();
  *manifest.add_files() = treeDigest;
  *manifest.add_files() = pagesDigest;

  std::string payload;
  if (!manifest.SerializeToString(&payload)) fail("cannot serialise the manifest");
  std::string file(image::kMagic, sizeof image::kMagic);
  uint32_t version = formatVersionFor(tree);
  uint32_t len = static_cast<uint32_t>(payload.size());
  file.append(reinterpret_cast<const char*>(&version), 4);
  file.append(reinterpret_cast<const char*>(&len), 4);
  file += payload;
  uint64_t sum = Checksum::of(file.data(), file.size());
  file.append(reinterpret_cast<const char*>(&sum), 8);
  writeFile(tmp_ / std::string(image::kManifestFile), file);
  fsyncPath(tmp_, true);

  // Publish: a plain rename when nothing is there, else an atomic exchange with the old image.
  if (::rename(tmp_.c_str(), dir_.c_str()) != 0) {
    if (errno != ENOTEMPTY && errno != EEXIST) failErrno("cannot rename {} to {}", tmp_.string(),
                                                         dir_.string());
    if (::syscall(SYS_renameat2, AT_FDCWD, tmp_.c_str(), AT_FDCWD, dir_.c_str(),
                  2 /* RENAME_EXCHANGE */) != 0)
      failErrno("cannot exchange {} with {}", tmp_.string(), dir_.string());
    committed_ = true;
    fsyncPath(dir_.parent_path(), true);
    std::error_code ec;
    fs::remove_all(tmp_, ec);  // the old image now lives at tmp_
    if (ec) spdlog::warn("could not remove the replaced image {}: {}", tmp_.string(), ec.message());
    return;
  }
  committed_ = true;
  fsyncPath(dir_.parent_path(), true);
}

}  // namespace cryo
