// gan/schedule.hpp — learning-rate schedules ([train] lr_schedule, warmup).
//
// The rate of update t (0-based, counted in generator iterations; the discriminator's updates of
// an iteration share its rate) is lr * factor(t): a pure function of the iteration, so a resumed
// run continues the schedule exactly. Torch-free.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>

namespace gan {

struct LrSchedule {
  std::string kind = "constant";  // "constant" | "linear" (to zero at `horizon`)
  int64_t warmup = 0;             // iterations of linear warm-up from 0
  int64_t horizon = 1;            // [train] iterations

  double factor(int64_t t) const {
    double f = 1.0;
    if (warmup > 0 && t < warmup) f *= static_cast<double>(t + 1) / static_cast<double>(warmup);
    if (kind == "linear" && horizon > 0) f *= std::max(0.0, 1.0 - static_cast<double>(t) / static_cast<double>(horizon));
    return f;
  }
};

}  // namespace gan
