#include "common/status_macros.h"

#include <gtest/gtest.h>

#include "common/check.h"

namespace pom {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  POM_ASSIGN_OR_RETURN(int half, Half(x));
  POM_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int x) {
  POM_RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

TEST(StatusMacros, AssignOrReturnPropagatesErrorsAndValues) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Quarter(7).status().message(), "odd");
}

TEST(StatusMacros, ReturnIfErrorPropagates) {
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(3).code(), absl::StatusCode::kInvalidArgument);
}

TEST(CheckDeathTest, FailedCheckAbortsWithConditionAndMessage) {
  EXPECT_DEATH(POM_CHECK(1 + 1 == 3), "POM_CHECK failed at .*status_macros_test.cc:[0-9]+: 1 \\+ 1 == 3");
  EXPECT_DEATH(POM_CHECK_MSG(false, "the reason"), "false: the reason");
  EXPECT_DEATH(POM_CHECK_OK(absl::DataLossError("disk")), "DATA_LOSS: disk");
  POM_CHECK(true);  // a passing check does nothing
}

}  // namespace
}  // namespace pom
