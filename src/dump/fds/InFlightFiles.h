// InFlightFiles: the open files in flight in a UNIX socket's receive queue (SCM_RIGHTS), from
// the copies that peeking at the queue hands cryo: an fd of the tree that is the very same
// open file (kcmp), or else a regular file or an anonymous pipe end that only the queue keeps
// alive, described like an fd of its kind; anything else is refused by name.
#pragma once

#include <sys/stat.h>

#include <string>

#include "common/UniqueFd.h"
#include "cryo.pb.h"

namespace cryo {

class DumpContext;

class InFlightFiles {
 public:
  // Describes `file` (cryo's copy of a file in flight) into `out`; `who` names the socket and
  // the message in errors.
  static void describe(DumpContext& ctx, const UniqueFd& file, const std::string& who,
                       img::InFlightFile& out);

 private:
  // A file no fd of the tree holds: a regular file by path, or a pipe end.
  static void describeAlone(DumpContext& ctx, const UniqueFd& file, const struct stat& st,
                            const std::string& who, img::FileDescription& d);
};

}  // namespace cryo
