// ExitStatus: how a waited-for process ended (exit code, signal, or not seen ending), comparable and printable.
#pragma once

#include <ostream>
#include <string>

namespace cryo::test {

class ExitStatus {
 public:
  enum class Kind { Exited, Signaled, TimedOut, NotAChild, Unknown };

  static ExitStatus fromWaitStatus(int status);
  static ExitStatus timedOut() { return ExitStatus(Kind::TimedOut, 0); }
  static ExitStatus notAChild() { return ExitStatus(Kind::NotAChild, 0); }

  ExitStatus() = default;
  Kind kind() const { return kind_; }
  bool exited() const { return kind_ == Kind::Exited; }
  bool signaled() const { return kind_ == Kind::Signaled; }
  bool exitedWith(int code) const { return exited() && value_ == code; }
  bool killedBy(int sig) const { return signaled() && value_ == sig; }
  int code() const { return exited() ? value_ : -1; }
  int signal() const { return signaled() ? value_ : 0; }
  std::string describe() const;

  bool operator==(const ExitStatus& o) const = default;

 private:
  ExitStatus(Kind k, int v) : kind_(k), value_(v) {}
  Kind kind_ = Kind::Unknown;
  int value_ = 0;
};

// gtest prints values through this.
inline void PrintTo(const ExitStatus& s, std::ostream* os) { *os << s.describe(); }
inline std::ostream& operator<<(std::ostream& os, const ExitStatus& s) { return os << s.describe(); }

}  // namespace cryo::test
