// PageWriter: runs the page_writer target program with pipes on its stdin and stdout, sends it
// commands and reads its answers (see tests/programs/page_writer.c).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace cryo::test {

class PageWriter {
 public:
  static constexpr uint64_t kPage = 4096;

  // Starts the program with `pagesA` pages in region 0 (all written) and `pagesB` in region 1
  // (never touched); waits for its "ready" line.
  explicit PageWriter(uint64_t pagesA = 2048, uint64_t pagesB = 256);
  PageWriter(const PageWriter&) = delete;
  PageWriter& operator=(const PageWriter&) = delete;
  // Sends "quit", then kills it if it does not end.
  ~PageWriter();

  pid_t pid() const { return pid_; }
  uint64_t regionA() const { return a_; }
  uint64_t regionB() const { return b_; }
  uint64_t pagesA() const { return pagesA_; }
  uint64_t pagesB() const { return pagesB_; }

  // Sends one command line; returns its answer split into words ("ok", ...). A missing or
  // "error" answer fails the test (an exception, so the test stops there).
  std::vector<std::string> send(const std::string& command);
  // The "ready" line after an exec: the regions move.
  void awaitReady();
  // Waits for the program to end after "quit"; its exit status as waitpid gives it.
  int quit();

  static uint64_t hex(const std::string& s);

 private:
  std::string readLine(std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::string buffered_;
  uint64_t a_ = 0, b_ = 0, pagesA_ = 0, pagesB_ = 0;
};

}  // namespace cryo::test
