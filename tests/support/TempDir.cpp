// TempDir: a private directory under /tmp (mkdtemp) that is removed with everything in it when the object goes away.
#include "TempDir.h"

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <vector>

namespace cryo::test {

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  path_ = buf.data();
}

TempDir::~TempDir() {
  // CRYO_TEST_KEEP=1 keeps the directory (images, outputs) for a look after a failure.
  if (const char* keep = std::getenv("CRYO_TEST_KEEP"); keep && *keep && std::strcmp(keep, "0")) {
    std::cout << "[tempdir] kept " << path_ << "\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
  if (ec) std::cerr << "[tempdir] could not remove " << path_ << ": " << ec.message() << "\n";
}

}  // namespace cryo::test
