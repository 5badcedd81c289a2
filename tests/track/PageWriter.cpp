// PageWriter: runs the page_writer target program with pipes on its stdin and stdout, sends it
// commands and reads its answers (see tests/programs/page_writer.c).
#include "PageWriter.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <sstream>

namespace cryo::test {

namespace {
using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kAnswerTimeout(20000);

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}
}  // namespace

uint64_t PageWriter::hex(const std::string& s) { return std::stoull(s, nullptr, 16); }

PageWriter::PageWriter(uint64_t pagesA, uint64_t pagesB) {
  int toChild[2], fromChild[2];
  if (::pipe2(toChild, O_CLOEXEC) || ::pipe2(fromChild, O_CLOEXEC))
    throw std::runtime_error("pipe failed");
  std::string a = std::to_string(pagesA), b = std::to_string(pagesB);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(toChild[0], 0);
    ::dup2(fromChild[1], 1);
    const char* argv[] = {PAGE_WRITER, a.c_str(), b.c_str(), nullptr};
    ::execv(PAGE_WRITER, const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(toChild[0]);
  ::close(fromChild[1]);
  in_ = toChild[1];
  out_ = fromChild[0];
  awaitReady();
}

PageWriter::~PageWriter() {
  if (pid_ > 0) {
    static const char q[] = "quit\n";
    if (::write(in_, q, sizeof q - 1) < 0) {
    }
    auto deadline = Clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      ::usleep(2000);
    }
  }
  if (in_ >= 0) ::close(in_);
  if (out_ >= 0) ::close(out_);
}

void PageWriter::awaitReady() {
  auto w = words(readLine(kAnswerTimeout));
  if (w.size() != 5 || w[0] != "ready") throw std::runtime_error("page_writer did not start");
  a_ = hex(w[1]);
  b_ = hex(w[2]);
  pagesA_ = std::stoull(w[3]);
  pagesB_ = std::stoull(w[4]);
}

std::string PageWriter::readLine(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto nl = buffered_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) throw std::runtime_error("page_writer did not answer in time");
    pollfd p{out_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(out_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("page_writer closed its output (it died)");
    buffered_.append(buf, static_cast<size_t>(n));
  }
}

std::vector<std::string> PageWriter::send(const std::string& command) {
  std::string line = command + "\n";
  if (::write(in_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    throw std::runtime_error("cannot send '" + command + "' to page_writer");
  if (command == "exec") {
    awaitReady();
    return {"ready"};
  }
  std::string answer = readLine(kAnswerTimeout);
  auto w = words(answer);
  if (w.empty() || (w[0] != "ok" && w[0] != "sum"))
    throw std::runtime_error("page_writer answered '" + answer + "' to '" + command + "'");
  return w;
}

int PageWriter::quit() {
  static const char q[] = "quit\n";
  if (::write(in_, q, sizeof q - 1) < 0) return -1;
  int status = 0;
  pid_t w = ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return w < 0 ? -1 : status;
}

}  // namespace cryo::test
