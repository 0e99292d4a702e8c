// The test binary's main: either a child entry point (process::spawn_self) or GoogleTest.
#include <gtest/gtest.h>

#include "support.hpp"

int main(int argc, char** argv) {
  npipe::test::run_child_if_requested(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
