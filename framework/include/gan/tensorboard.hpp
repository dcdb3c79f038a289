// gan/tensorboard.hpp — TensorBoard event files, written with protobuf (no TensorFlow, no Python):
//
//   gan::TensorBoardWriter tb("runs/a/tensorboard", /*start_step=*/0);
//   tb.scalar("train/d_loss", 100, 0.71);
//   tb.image("samples", 100, png_bytes, width, height, channels);
//   tb.flush();
//
// Each writer appends to a new file events.out.tfevents.<seconds>.<host>.<NNNN> in its folder (a
// TFRecord stream: length, masked CRC-32C, Event, masked CRC-32C). A writer that starts at step
// S > 0 (a resumed run) first writes a SessionLog START at S + 1, so TensorBoard drops the
// earlier files' events from S + 1 on, which the resumed run repeats.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace gan {

class TensorBoardWriter {
 public:
  TensorBoardWriter(const std::string& dir, int64_t start_step);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  void scalar(const std::string& tag, int64_t step, double value);
  // png: an encoded PNG image of width x height with 1 (grey) or 3 (RGB) channels
  void image(const std::string& tag, int64_t step, const std::string& png, int64_t width, int64_t height,
             int64_t channels);
  void flush();  // to the file system (called after each log interval)
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& event_bytes);
  std::string path_;
  std::FILE* file_ = nullptr;
};

// CRC-32C (Castagnoli), and the TFRecord framing of one record (exposed for tests).
uint32_t crc32c(const std::string& data);
std::string tfrecord(const std::string& data);

}  // namespace gan
