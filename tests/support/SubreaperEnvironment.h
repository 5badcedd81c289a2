// SubreaperEnvironment: makes the test process a child subreaper, so restored tasks (children of a cryo that has exited) become its children and can be waited for.
#pragma once

#include <gtest/gtest.h>

namespace cryo::test {

class SubreaperEnvironment : public ::testing::Environment {
 public:
  void SetUp() override;
};

}  // namespace cryo::test
