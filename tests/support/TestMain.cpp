// TestMain: the gtest entry point of the checkpoint tests; installs the subreaper environment first.
#include <gtest/gtest.h>

#include "SubreaperEnvironment.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new cryo::test::SubreaperEnvironment);
  return RUN_ALL_TESTS();
}
