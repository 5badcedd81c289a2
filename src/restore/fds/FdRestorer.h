// FdRestorer: the interface of one kind of file descriptor on the restore side; the
// counterpart of an FdDumper. FilesRestorer asks it to open each description of its kind,
// installs the result at the saved numbers, and lets it finish once every fd exists.
#pragma once

#include <string_view>

#include "cryo.pb.h"

namespace cryo {

class FdInstaller;
class RestoreContext;

class FdRestorer {
 public:
  virtual ~FdRestorer() = default;
  virtual std::string_view name() const = 0;
  virtual bool handles(img::FileDescription::Kind kind) const = 0;
  // Checks, before anything is built, that the description can be restored here.
  virtual void validate(RestoreContext& /*ctx*/, const img::FileDescription& /*d*/) {}
  // Creates the open file description inside the process and returns a temporary fd of it
  // above every restored number (FdInstaller::high); the files restorer installs it at the
  // saved numbers and closes it.
  virtual int open(FdInstaller& inst, const img::FileDescription& d) = 0;
  // Runs once every description of the process is installed, in registry order (what needs
  // other fds to exist: epoll interest lists; releasing what open() held back).
  virtual void finish(FdInstaller& /*inst*/) {}
};

}  // namespace cryo
