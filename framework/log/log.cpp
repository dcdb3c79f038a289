// gan/log.hpp over spdlog. Compiled without LibTorch's include paths (see gan/log.hpp).
#include "gan/log.hpp"

#include <cstdio>
#include <mutex>

#include "spdlog/details/file_helper.h"
#include "spdlog/sinks/base_sink.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace gan::log {
namespace {

// The run's text log: every line written and flushed at once. A failing write (a full disk) ends
// the text log with one warning on stderr and nothing else: the log must never stop the run or
// change the error it reports.
class TextLogSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit TextLogSink(const std::string& path) : path_(path) { file_.open(path, /*truncate=*/false); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (failed_) return;
    try {
      spdlog::memory_buf_t buf;
      formatter_->format(msg, buf);
      file_.write(buf);
      file_.flush();
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }
  void flush_() override {
    if (failed_) return;
    try {
      file_.flush();
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }

 private:
  void fail(const char* why) {
    failed_ = true;
    std::fprintf(stderr, "[warning] %s: the run's text log stopped here (%s); training goes on\n", path_.c_str(), why);
  }
  std::string path_;
  spdlog::details::file_helper file_;
  bool failed_ = false;
};

spdlog::logger& logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto lg = spdlog::stderr_color_mt("gan");
    lg->set_pattern("%H:%M:%S %^[%l]%$ %v");
    lg->set_level(spdlog::level::debug);
    lg->sinks().front()->set_level(spdlog::level::info);
    // every line out at once: "loading plugin <path>" must be on stderr before a dlopen() that
    // may abort the process
    lg->flush_on(spdlog::level::trace);
    return lg;
  }();
  return *l;
}
Level current = Level::Info;
std::shared_ptr<spdlog::sinks::sink> file_sink;
}  // namespace

void open_file(const std::string& path) {
  close_file();
  auto sink = std::make_shared<TextLogSink>(path);
  sink->set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] %v");
  sink->set_level(current == Level::Debug ? spdlog::level::debug : spdlog::level::info);
  logger().sinks().push_back(sink);
  file_sink = sink;
}

void close_file() {
  if (!file_sink) return;
  auto& sinks = logger().sinks();
  for (auto it = sinks.begin(); it != sinks.end(); ++it) {
    if (*it == file_sink) {
      sinks.erase(it);
      break;
    }
  }
  file_sink->flush();
  file_sink.reset();
}

void file_only(Level level, const std::string& msg) {
  if (!file_sink) return;
  const auto l = level == Level::Error ? spdlog::level::err : level == Level::Warn ? spdlog::level::warn
                                                                                     : spdlog::level::info;
  spdlog::details::log_msg m("gan", l, msg);
  file_sink->log(m);
  file_sink->flush();
}

// The logger passes everything; each sink filters: stderr at the chosen level, the run's text
// log at info (debug with -v), so `gan -q train` still keeps the whole story in RUN/train.log.
void set_level(Level level) {
  current = level;
  spdlog::level::level_enum l = spdlog::level::info;
  switch (level) {
    case Level::Debug: l = spdlog::level::debug; break;
    case Level::Info: l = spdlog::level::info; break;
    case Level::Warn: l = spdlog::level::warn; break;
    case Level::Error: l = spdlog::level::err; break;
    case Level::Off: l = spdlog::level::off; break;
  }
  logger().sinks().front()->set_level(l);
  if (file_sink) file_sink->set_level(level == Level::Debug ? spdlog::level::debug : spdlog::level::info);
}
Level level() { return current; }
void debug(const std::string& msg) { logger().debug(msg); }
void info(const std::string& msg) { logger().info(msg); }
void warn(const std::string& msg) { logger().warn(msg); }
void error(const std::string& msg) { logger().error(msg); }

}  // namespace gan::log
