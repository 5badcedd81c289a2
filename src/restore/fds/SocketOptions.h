// SocketOptions: integer socket options saved by a dump (img::SockOpt) set again on a new
// socket through cryo's copy of it, where its value differs from the saved one.
#pragma once

#include <functional>
#include <string>

#include <google/protobuf/repeated_field.h>

#include "cryo.pb.h"

namespace cryo {

class SocketOptions {
 public:
  using List = google::protobuf::RepeatedPtrField<img::SockOpt>;
  // Sets every option of `opts` that `keep` accepts (all when empty) on `fd`.
  static void apply(int fd, const List& opts, const std::string& who,
                    const std::function<bool(const img::SockOpt&)>& keep = {});
  // The saved value of option (level, name), or `otherwise` if the image has none.
  static int value(const List& opts, int level, int name, int otherwise);
  // setsockopt of an int; throws naming `who` and the option.
  static void set(int fd, int level, int name, int value, const std::string& who);
};

}  // namespace cryo
