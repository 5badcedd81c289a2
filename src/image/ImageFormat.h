// ImageFormat: the constants that define an image on disk (magic, version, file names).
#pragma once

#include <cstdint>
#include <string_view>

namespace cryo::image {

inline constexpr char kMagic[8] = {'C', 'R', 'Y', 'O', 'I', 'M', 'G', '\n'};
// The newest format version this cryo writes and reads, and the oldest it reads. Version 2 is
// version 1 plus state that a version-1 reader would drop without a word (POSIX timers);
// version 3 adds shared memory objects and zombies of process trees, which a version-2 reader
// would misread (see docs/image-format.md); version 4 adds file locks, which a version-3 reader
// would drop without a word; version 5 adds state of process trees that a version-4 reader
// would restore differently without a word (fd tables and fs info shared between processes,
// see ImageWriter::formatVersionFor). An image written with the lowest version that holds all its
// state, which older readers restore fully.
inline constexpr uint32_t kFormatVersion = 5;
inline constexpr uint32_t kOldestFormatVersion = 1;
inline constexpr std::string_view kManifestFile = "manifest";
inline constexpr std::string_view kTreeFile = "tree.pb";
inline constexpr std::string_view kPagesFile = "pages.img";
inline constexpr uint64_t kPageSize = 4096;
// Manifest file: magic(8) | version u32 LE | length u32 LE | Manifest protobuf | xxh3-64 LE
inline constexpr size_t kManifestHeader = 16;

}  // namespace cryo::image
