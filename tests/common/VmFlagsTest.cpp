// VmFlagsTest: the VmFlags set keeps exactly the flags of a smaps line, letters or not.
#include "common/VmFlags.h"

#include <gtest/gtest.h>

namespace cryo {
namespace {

TEST(VmFlagsTest, parse_keeps_exactly_the_flags_of_the_line) {
  VmFlags f;
  f.parse(" rd wr mr mw me ac sd uw \t");
  for (const char* has : {"rd", "wr", "mr", "mw", "me", "ac", "sd", "uw"}) EXPECT_TRUE(f.has(has)) << has;
  for (const char* lacks : {"ex", "gd", "um", "ui", "r", "rdw", ""}) EXPECT_FALSE(f.has(lacks)) << lacks;
  EXPECT_FALSE(f.empty());
  EXPECT_TRUE(VmFlags{}.empty());
}

TEST(VmFlagsTest, flags_other_than_two_letters_are_kept_too) {
  VmFlags f;
  f.parse("rd 9z Zz abc");
  EXPECT_TRUE(f.has("rd"));
  EXPECT_TRUE(f.has("9z"));
  EXPECT_TRUE(f.has("Zz"));
  EXPECT_TRUE(f.has("abc"));
  EXPECT_FALSE(f.has("zz"));
}

TEST(VmFlagsTest, equal_when_the_same_flags_in_any_order) {
  VmFlags a, b, c;
  a.parse("rd wr x1");
  b.parse("x1 wr rd rd");
  c.parse("rd wr");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(c, (VmFlags{"wr", "rd"}));
}

}  // namespace
}  // namespace cryo
