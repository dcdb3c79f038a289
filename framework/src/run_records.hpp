// The records a training run keeps beside its checkpoints, written by rank 0 only:
//   log.jsonl     one JSON line per log interval and per evaluation, each with "time" (seconds
//                 since the epoch) beside "elapsed_s"
//   tensorboard/  TensorBoard event files: every numeric field of those lines as a scalar
//                 (train/d_loss, train/it_per_s, train/lr_g, ..., eval/fid, ...) and the sample
//                 grids as images (samples); one new file per start or resume
//   train.log     the text log of every start and resume, each line with date and time
// A failing event file (a full disk) stops the TensorBoard records with one warning, not the run:
// log.jsonl and the checkpoints are what training needs.
#pragma once

#include <fstream>
#include <memory>
#include <string>

#include "gan/image_io.hpp"
#include "gan/json.hpp"
#include "gan/tensorboard.hpp"

namespace gan {

class RunRecords {
 public:
  // start_iteration: where this start (0) or resume (> 0) begins.
  RunRecords(const std::string& run_dir, int64_t start_iteration, bool tensorboard);
  ~RunRecords();
  RunRecords(const RunRecords&) = delete;
  RunRecords& operator=(const RunRecords&) = delete;

  // rec["iteration"] is the step; "kind" = "eval" records go under eval/, others under train/
  void record(Json rec);
  void samples(const PngImage& grid, int64_t iteration);
  // the error that ends the run, into train.log (main() prints it on stderr)
  void failed(const std::string& what);
  std::string tensorboard_path() const { return tb_ ? tb_->path() : std::string(); }

 private:
  template <class F>
  void to_tensorboard(F&& f);
  std::string dir_;
  std::ofstream jsonl_;
  std::unique_ptr<TensorBoardWriter> tb_;
};

}  // namespace gan
