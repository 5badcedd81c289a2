// AtomicFile: writes a small file so that readers see the old contents or the new, never a mix
// or a torn file, even across a crash (temporary file, fsync, rename, fsync of the directory).
#pragma once

#include <filesystem>
#include <string_view>

namespace cryo::daemon {

class AtomicFile {
 public:
  // Throws std::system_error naming the file.
  static void write(const std::filesystem::path& path, std::string_view data, int mode = 0600);
  static std::string read(const std::filesystem::path& path);
};

}  // namespace cryo::daemon
