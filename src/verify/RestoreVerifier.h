// RestoreVerifier: `cryo restore --verify`: compares what the kernel shows of every restored
// process, before it runs, with the view the dump recorded, and refuses the restore on the
// first difference, naming the process, the object and the field.
#pragma once

#include "cryo.pb.h"

namespace cryo {

class RestoreVerifier {
 public:
  // Throws an Error listing every difference (the caller kills the restored tree). The tree
  // must be fully rebuilt and still held (not yet running).
  static void check(const img::Manifest& manifest, const img::Tree& tree);
  // Throws, before anything is built, if the image holds no view this cryo can compare with.
  static void requireView(const img::Manifest& manifest);
};

}  // namespace cryo
