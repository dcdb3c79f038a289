// gan/log.hpp over spdlog. Compiled without LibTorch's include paths (see gan/log.hpp).
#include "gan/log.hpp"

#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace gan::log {
namespace {
spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto lg = spdlog::stderr_color_mt("gan");
    lg->set_pattern("%^[%l]%$ %v");
    lg->set_level(spdlog::level::info);
    // every line out at once: "loading plugin <path>" must be on stderr before a dlopen() that
    // may abort the process
    lg->flush_on(spdlog::level::trace);
    return lg;
  }();
  return *l;
}
Level current = Level::Info;
}  // namespace

void set_level(Level level) {
  current = level;
  switch (level) {
    case Level::Debug: logger().set_level(spdlog::level::debug); break;
    case Level::Info: logger().set_level(spdlog::level::info); break;
    case Level::Warn: logger().set_level(spdlog::level::warn); break;
    case Level::Error: logger().set_level(spdlog::level::err); break;
    case Level::Off: logger().set_level(spdlog::level::off); break;
  }
}
Level level() { return current; }
void debug(const std::string& msg) { logger().debug(msg); }
void info(const std::string& msg) { logger().info(msg); }
void warn(const std::string& msg) { logger().warn(msg); }
void error(const std::string& msg) { logger().error(msg); }

}  // namespace gan::log
