// DeletedFileMaker: files deleted while open or mapped, made again at restore once per inode of
// the tree (cryo keeps each in TreeFiles): in their directory, under their old name while cryo
// opens them, with their owner, mode and bytes (or a FIFO's), then unlinked, so that /proc
// shows them as before ("NAME (deleted)") and the task's fds and mappings of one deleted file
// share one inode again.
#include "restore/DeletedFileMaker.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <utility>

#include <spdlog/spdlog.h>

#include "common/Error.h"
#include "common/FaultPoint.h"
#include "image/StoredFile.h"
#include "restore/RestoreContext.h"

namespace cryo {

namespace {

// The name a file made again has while cryo opens it: unlinked when it goes out of scope, on
// success as on failure.
class TempName {
 public:
  TempName(int dirfd, std::string name, std::string path)
      : dirfd_(dirfd), name_(std::move(name)), path_(std::move(path)) {}
  TempName(const TempName&) = delete;
  TempName& operator=(const TempName&) = delete;
  ~TempName() {
    if (!name_.empty() && ::unlinkat(dirfd_, name_.c_str(), 0) != 0)
      spdlog::warn("could not remove {} again: {}", path_, std::strerror(errno));
  }
  void unlinkNow(const std::string& who) {
    std::string n = std::exchange(name_, {});
    if (::unlinkat(dirfd_, n.c_str(), 0) != 0) failErrno("{}: cannot unlink {} again", who, path_);
  }

 private:
  int dirfd_;
  std::string name_, path_;
};

UniqueFd openDir(const std::string& path, const std::string& who) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) failErrno("{}: cannot open directory {} to make the deleted file again", who, dir);
  return fd;
}

std::string baseName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

bool sameInode(int a, int b) {
  struct stat sa {}, sb {};
  return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

void writeAll(int fd, const std::string& data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) failErrno("{}: cannot put back {} bytes", what, data.size() - done);
    done += static_cast<size_t>(n);
  }
}

}  // namespace

std::string DeletedFileMaker::key(const img::FileId& id) {
  return fmt::format("deleted:{}:{}", id.dev(), id.ino());
}

const img::DeletedFileData* DeletedFileMaker::findData(const img::Tree& tree,
                                                       const img::FileId& id) {
  auto same = [&](const img::FileId& o) { return o.dev() == id.dev() && o.ino() == id.ino(); };
  for (const auto& p : tree.processes()) {
    for (const auto& d : p.files())
      if (d.kind() == img::FileDescription::DELETED_FILE && d.has_deleted_data() && same(d.file()))
        return &d.deleted_data();
    for (const auto& v : p.vmas())
      if (v.deleted() && v.has_deleted_data() && same(v.file())) return &v.deleted_data();
  }
  return nullptr;
}

void DeletedFileMaker::validate(RestoreContext& ctx, const img::FileId& id,
                                const std::string& path, const std::string& who) {
  auto dir = std::filesystem::path(path).parent_path();
  if (!std::filesystem::is_directory(dir))
    fail("{}: directory {} (where the deleted file was) does not exist", who, dir.string());
  if (S_ISFIFO(id.mode())) return;
  const img::DeletedFileData* data = findData(ctx.image().tree(), id);
  if (data) return StoredFile::check(ctx.image(), *data, who);
  if (ctx.image().formatVersion() >= 5)
    fail("{}: the image holds no bytes of deleted file {}: the image is corrupt", who, path);
}

void DeletedFileMaker::setOwnerAndMode(int fd, const img::FileId& id, const std::string& who) {
  // (chown first: it clears set-user-ID and set-group-ID bits)
  if (id.has_uid() && id.has_gid() && ::fchown(fd, id.uid(), id.gid()) != 0)
    failErrno("{}: cannot give the remade deleted file owner {}:{}", who, id.uid(), id.gid());
  if (::fchmod(fd, id.mode() & 07777) != 0)
    failErrno("{}: cannot give the remade deleted file mode {:o}", who, id.mode() & 07777);
}

UniqueFd DeletedFileMaker::makeFile(RestoreContext& ctx, const img::FileId& id,
                                    const std::string& path, const std::string& who,
                                    const std::string* legacy) {
  UniqueFd dir = openDir(path, who);
  UniqueFd tmp(::openat(dir.get(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!tmp) failErrno("{}: cannot make deleted file {} again (O_TMPFILE)", who, path);
  if (const img::DeletedFileData* data = findData(ctx.image().tree(), id))
    StoredFile::writeTo(ctx.image(), *data, tmp.get(), who + ": deleted file " + path);
  else if (legacy)
    writeAll(tmp.get(), *legacy, who + ": deleted file " + path);
  else
    fail("{}: the image holds no bytes of deleted file {}", who, path);
  setOwnerAndMode(tmp.get(), id, who);
  timespec times[2] = {{0, UTIME_OMIT},
                       {static_cast<time_t>(id.mtime_ns() / 1000000000),
                        static_cast<long>(id.mtime_ns() % 1000000000)}};
  if (::futimens(tmp.get(), times) != 0)
    failErrno("{}: cannot give the remade deleted file its modification time", who);
  // Named as it was while cryo opens it: the description opened by name shows that name.
  std::string self = fmt::format("/proc/self/fd/{}", tmp.get());
  std::string name = baseName(path);
  if (::linkat(AT_FDCWD, self.c_str(), dir.get(), name.c_str(), AT_SYMLINK_FOLLOW) != 0) {
    if (errno != EEXIST) failErrno("{}: cannot link the remade deleted file as {}", who, path);
    spdlog::warn("{}: {} names another file now: deleted file {} is made again without a name "
                 "(/proc shows it under another one)",
                 who, path, path);
    return tmp;
  }
  TempName linked(dir.get(), name, path);
  FaultPoint::hit("restore-deleted-file-named");
  UniqueFd named(::openat(dir.get(), name.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!named) failErrno("{}: cannot open the remade deleted file {}", who, path);
  if (!sameInode(named.get(), tmp.get()))
    fail("{}: {} was replaced while the deleted file was made again", who, path);
  linked.unlinkNow(who);
  return named;
}

UniqueFd DeletedFileMaker::makeFifo(const img::FileDescription& d, const std::string& who) {
  UniqueFd dir = openDir(d.path(), who);
  std::string name = baseName(d.path());
  if (::mkfifoat(dir.get(), name.c_str(), 0600) != 0) {
    if (errno != EEXIST) failErrno("{}: cannot make deleted FIFO {} again", who, d.path());
    spdlog::warn("{}: {} names another file now: the deleted FIFO is made again under another "
                 "name (/proc shows that one)",
                 who, d.path());
    name = fmt::format(".cryo-fifo-{}-{}", ::getpid(), d.file().ino());
    if (::mkfifoat(dir.get(), name.c_str(), 0600) != 0)
      failErrno("{}: cannot make deleted FIFO {} again", who, d.path());
  }
  TempName made(dir.get(), name, d.path());
  FaultPoint::hit("restore-deleted-file-named");
  UniqueFd fifo(::openat(dir.get(), name.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW));
  if (!fifo) failErrno("{}: cannot open the remade deleted FIFO {}", who, d.path());
  struct stat st {};
  if (::fstat(fifo.get(), &st) != 0 || !S_ISFIFO(st.st_mode))
    fail("{}: {} was replaced while the deleted FIFO was made again", who, d.path());
  setOwnerAndMode(fifo.get(), d.file(), who);
  made.unlinkNow(who);
  return fifo;
}

int DeletedFileMaker::reopenInProcess(RestoreContext& ctx, int cryoFd, int flags,
                                      const std::string& who) {
  int got = ctx.receiveFd(cryoFd, who);
  int fd = -1;
  try {
    fd = ctx.openInProcess(fmt::format("/proc/self/fd/{}", got), flags);
  } catch (...) {
    ctx.closeInProcess(got);
    throw;
  }
  ctx.closeInProcess(got);
  // (Not left for the files restorer to close: a child forked once the memory is in place
  // would inherit it.)
  ctx.closeCryoPidfd();
  return fd;
}

int DeletedFileMaker::openFile(RestoreContext& ctx, const img::FileId& id, const std::string& path,
                               int flags, const std::string& who, const std::string* legacy) {
  TreeFiles& tree = ctx.treeFiles();
  if (!tree.has(key(id))) tree.put(key(id), makeFile(ctx, id, path, who, legacy));
  return reopenInProcess(ctx, tree.get(key(id)), flags, who);
}

int DeletedFileMaker::openFifo(RestoreContext& ctx, const img::FileDescription& d, int flags,
                               const std::string& who) {
  TreeFiles& tree = ctx.treeFiles();
  if (!tree.has(key(d.file()))) tree.put(key(d.file()), makeFifo(d, who));
  int fifo = tree.get(key(d.file()));
  if (d.pipe_size() != 0 && ::fcntl(fifo, F_GETPIPE_SZ) != static_cast<int>(d.pipe_size()) &&
      ::fcntl(fifo, F_SETPIPE_SZ, static_cast<int>(d.pipe_size())) < 0)
    failErrno("{}: cannot give the FIFO its size of {} bytes", who, d.pipe_size());
  writeAll(fifo, d.pipe_data(), who);
  return reopenInProcess(ctx, fifo, flags, who);
}

}  // namespace cryo
