// OutputCompare: reads files and compares two outputs, pointing at the first line where they differ.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace cryo::test {

class OutputCompare {
 public:
  static std::string readFile(const std::filesystem::path& p);
  static void writeFile(const std::filesystem::path& p, std::string_view data);

  // Empty when equal; otherwise where and how they first differ.
  static std::string firstDifference(std::string_view expected, std::string_view actual);

  // For EXPECT_TRUE: the two files have identical contents.
  static ::testing::AssertionResult sameContents(const std::filesystem::path& expected,
                                                 const std::filesystem::path& actual);
};

}  // namespace cryo::test
