// A run's log.jsonl, TensorBoard event files and text log (run_records.hpp).
#include "run_records.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "gan/error.hpp"
#include "gan/log.hpp"

namespace gan {

namespace fs = std::filesystem;

RunRecords::RunRecords(const std::string& run_dir, int64_t start_iteration, bool tensorboard) : dir_(run_dir) {
  const std::string jsonl = (fs::path(run_dir) / "log.jsonl").string();
  jsonl_.open(jsonl, std::ios::app);
  if (!jsonl_) throw Error(jsonl + ": cannot open for writing");
  const std::string text = (fs::path(run_dir) / "train.log").string();
  try {
    log::open_file(text);
  } catch (const std::exception& e) {
    throw Error(text + ": cannot open the run's text log: " + e.what());
  }
  if (tensorboard) {
    try {
      tb_ = std::make_unique<TensorBoardWriter>((fs::path(run_dir) / "tensorboard").string(), start_iteration);
    } catch (const Error& e) {
      log::warn(std::string(e.what()) + ": training goes on without TensorBoard events");
    }
  }
}

RunRecords::~RunRecords() {
  if (tb_) {
    try {
      tb_->flush();
    } catch (const Error&) {
    }
  }
  log::close_file();
}

template <class F>
void RunRecords::to_tensorboard(F&& f) {
  if (!tb_) return;
  try {
    f(*tb_);
  } catch (const Error& e) {
    log::warn(std::string(e.what()) + ": no further TensorBoard events this run (log.jsonl and checkpoints go on)");
    tb_.reset();
  }
}

void RunRecords::record(Json rec) {
  rec["time"] = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  jsonl_ << rec.dump() << "\n";
  jsonl_.flush();
  if (!jsonl_) throw Error((fs::path(dir_) / "log.jsonl").string() + ": cannot write (is the disk full?)");
  const int64_t step = rec["iteration"].integer();
  const bool eval = rec.contains("kind") && rec["kind"].is_string() && rec["kind"].str() == "eval";
  to_tensorboard([&](TensorBoardWriter& tb) {
    for (const auto& [k, v] : rec.fields()) {
      if (k == "iteration" || k == "time" || k == "kind" || !v.is_number()) continue;
      if (std::isfinite(v.number())) tb.scalar((eval ? "eval/" : "train/") + k, step, v.number());
    }
    tb.flush();
  });
}

void RunRecords::samples(const PngImage& grid, int64_t iteration) {
  to_tensorboard([&](TensorBoardWriter& tb) {
    tb.image("samples", iteration, grid.png, grid.width, grid.height, grid.channels);
    tb.flush();
  });
}

void RunRecords::failed(const std::string& what) { log::file_only(log::Level::Error, what); }

}  // namespace gan
