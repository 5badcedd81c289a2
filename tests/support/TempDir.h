// TempDir: a private directory under /tmp (mkdtemp) that is removed with everything in it when the object goes away.
#pragma once

#include <filesystem>
#include <string>

namespace cryo::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "cryo-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace cryo::test
