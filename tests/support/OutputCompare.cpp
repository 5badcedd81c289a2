// OutputCompare: reads files and compares two outputs, pointing at the first line where they differ.
#include "OutputCompare.h"

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace cryo::test {

namespace {

std::vector<std::string_view> splitLines(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string_view::npos) {
      lines.push_back(s.substr(pos));
      break;
    }
    lines.push_back(s.substr(pos, nl - pos + 1));
    pos = nl + 1;
  }
  return lines;
}

std::string show(std::string_view line) {
  std::string s;
  for (char c : line) {
    if (c == '\n') s += "\\n";
    else if (c == '\0') s += "\\0";
    else s += c;
  }
  return "\"" + s + "\"";
}

}  // namespace

std::string OutputCompare::readFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void OutputCompare::writeFile(const std::filesystem::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + p.string());
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string OutputCompare::firstDifference(std::string_view expected, std::string_view actual) {
  if (expected == actual) return {};
  auto e = splitLines(expected);
  auto a = splitLines(actual);
  std::ostringstream o;
  o << "expected " << expected.size() << " bytes in " << e.size() << " lines, got "
    << actual.size() << " bytes in " << a.size() << " lines; ";
  size_t i = 0;
  while (i < e.size() && i < a.size() && e[i] == a[i]) ++i;
  if (i < e.size() && i < a.size()) {
    o << "first difference at line " << i + 1 << ":\n    expected: " << show(e[i])
      << "\n    actual:   " << show(a[i]);
  } else if (i < e.size()) {
    o << "actual output stops after line " << i << "; next expected line " << i + 1 << ": "
      << show(e[i]);
  } else {
    o << "actual output has extra lines from line " << i + 1 << ": " << show(a[i]);
  }
  return o.str();
}

::testing::AssertionResult OutputCompare::sameContents(const std::filesystem::path& expected,
                                                       const std::filesystem::path& actual) {
  std::string e, a;
  try {
    e = readFile(expected);
    a = readFile(actual);
  } catch (const std::exception& ex) {
    return ::testing::AssertionFailure() << ex.what();
  }
  std::string diff = firstDifference(e, a);
  if (diff.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << actual.string() << " differs from " << expected.string()
                                       << ": " << diff;
}

}  // namespace cryo::test
