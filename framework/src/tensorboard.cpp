// TensorBoard event files (gan/tensorboard.hpp).
#include "gan/tensorboard.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "gan/error.hpp"
#include "gan/fs_util.hpp"
#include "tensorboard_event.pb.h"

namespace gan {
namespace {

double wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

uint32_t masked(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

uint32_t crc32c(const std::string& data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0x82f63b78u ^ (c >> 1) : c >> 1;  // reflected 0x1EDC6F41
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xffffffffu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

std::string tfrecord(const std::string& data) {
  std::string len;
  put_le(len, data.size(), 8);
  std::string out = len;
  put_le(out, masked(crc32c(len)), 4);
  out += data;
  put_le(out, masked(crc32c(data)), 4);
  return out;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir, int64_t start_step) {
  ensure_writable_dir(dir);
  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  // A new file per writer, never an existing one. TensorBoard reads a folder's files in name
  // order: the seconds, then the number of event files already there keep that the order written.
  const auto secs = static_cast<long long>(wall_time());
  int64_t existing = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().filename().string().find("tfevents") != std::string::npos) ++existing;
  for (int64_t k = existing; path_.empty(); ++k) {
    char seq[24];
    std::snprintf(seq, sizeof seq, "%04lld", static_cast<long long>(k));
    const std::string p = (std::filesystem::path(dir) / ("events.out.tfevents." + std::to_string(secs) + "." + host +
                                                         "." + seq)).string();
    if (!std::filesystem::exists(p, ec)) path_ = p;
  }
  file_ = std::fopen(path_.c_str(), "wbx");
  if (!file_) throw Error(path_ + ": cannot create the TensorBoard event file: " + std::strerror(errno));
  try {
    tensorboard::Event ev;
    ev.set_wall_time(wall_time());
    ev.set_file_version("brain.Event:2");
    write_record(ev.SerializeAsString());
    if (start_step > 0) {
      // TensorBoard drops the earlier files' events at this step and after: the iterations an
      // interrupted run logged after its last checkpoint, which this one repeats
      tensorboard::Event start;
      start.set_wall_time(wall_time());
      start.set_step(start_step + 1);
      start.mutable_session_log()->set_status(tensorboard::SessionLog::START);
      write_record(start.SerializeAsString());
    }
    flush();
  } catch (const Error&) {  // no half-begun file left behind (the destructor does not run)
    std::fclose(file_);
    file_ = nullptr;
    std::remove(path_.c_str());
    throw;
  }
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_) std::fclose(file_);
}

void TensorBoardWriter::write_record(const std::string& event_bytes) {
  const std::string rec = tfrecord(event_bytes);
  if (std::fwrite(rec.data(), 1, rec.size(), file_) != rec.size()) {
    throw Error(path_ + ": cannot write the TensorBoard event file: " + std::strerror(errno));
  }
}

void TensorBoardWriter::scalar(const std::string& tag, int64_t step, double value) {
  tensorboard::Event ev;
  ev.set_wall_time(wall_time());
  ev.set_step(step);
  auto* v = ev.mutable_summary()->add_value();
  v->set_tag(tag);
  v->set_simple_value(static_cast<float>(value));
  write_record(ev.SerializeAsString());
}

void TensorBoardWriter::image(const std::string& tag, int64_t step, const std::string& png, int64_t width,
                              int64_t height, int64_t channels) {
  tensorboard::Event ev;
  ev.set_wall_time(wall_time());
  ev.set_step(step);
  auto* v = ev.mutable_summary()->add_value();
  v->set_tag(tag);
  auto* img = v->mutable_image();
  img->set_width(static_cast<int32_t>(width));
  img->set_height(static_cast<int32_t>(height));
  img->set_colorspace(static_cast<int32_t>(channels));
  img->set_encoded_image_string(png);
  write_record(ev.SerializeAsString());
}

void TensorBoardWriter::flush() {
  if (std::fflush(file_) != 0) throw Error(path_ + ": cannot write the TensorBoard event file: " + std::strerror(errno));
}

}  // namespace gan
