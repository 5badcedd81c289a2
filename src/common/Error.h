// The error type cryo throws: a message that carries its context (pid, mapping, fd, file).
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace cryo {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// An error caused by a failed system call: appends strerror(errno).
class SysError : public Error {
 public:
  SysError(const std::string& what, int err)
      : Error(what + ": " + std::strerror(err)), err_(err) {}
  int code() const { return err_; }

 private:
  int err_;
};

template <typename... Args>
[[noreturn]] inline void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] inline void failErrno(fmt::format_string<Args...> f, Args&&... args) {
  int e = errno;
  throw SysError(fmt::format(f, std::forward<Args>(args)...), e);
}

}  // namespace cryo
