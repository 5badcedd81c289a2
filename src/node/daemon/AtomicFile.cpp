// AtomicFile: temporary file (mode set at creation), fsync, rename over the target, fsync of the
// directory.
#include "node/daemon/AtomicFile.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace cryo::daemon {

namespace {

[[noreturn]] void sysFail(const std::string& what, const std::filesystem::path& p) {
  throw std::system_error(errno, std::generic_category(), what + " " + p.string());
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void AtomicFile::write(const std::filesystem::path& path, std::string_view data, int mode) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  ::unlink(tmp.c_str());  // a leftover of a crash
  {
    Fd f{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)};
    if (f.fd < 0) sysFail("cannot create", tmp);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(f.fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) sysFail("cannot write", tmp);
      done += static_cast<size_t>(n);
    }
    if (::fsync(f.fd) != 0) sysFail("cannot fsync", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) sysFail("cannot rename into place", path);
  Fd dir{::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd < 0 || ::fsync(dir.fd) != 0) sysFail("cannot fsync the directory of", path);
}

std::string AtomicFile::read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) sysFail("cannot read", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace cryo::daemon
