// .npy / .npz (gan/npy.hpp).
#include "gan/npy.hpp"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "gan/error.hpp"
#include "gan/fs_util.hpp"

namespace gan {
namespace {

void put16(std::string& s, uint32_t v) {
  s.push_back(static_cast<char>(v & 0xff));
  s.push_back(static_cast<char>((v >> 8) & 0xff));
}
void put32(std::string& s, uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}

// The value of `key` in a .npy header dict ("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }").
std::string header_field(const std::string& h, const std::string& key) {
  const size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) return "";
  size_t v = h.find(':', k);
  if (v == std::string::npos) return "";
  ++v;
  while (v < h.size() && h[v] == ' ') ++v;
  size_t e = v;
  if (h[v] == '(') e = h.find(')', v) + 1;
  else if (h[v] == '\'') e = h.find('\'', v + 1) + 1;
  else e = h.find_first_of(",}", v);
  return h.substr(v, e - v);
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string b = ss.str();
  auto bad = [&](const std::string& why) {
    return Error(path + ": not a NumPy .npy array gan can read (" + why +
                 "); write one with numpy.save(path, z.astype(numpy.float32)), a C-ordered 2-d array");
  };
  if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0) throw bad("no .npy magic");
  const int major = static_cast<unsigned char>(b[6]);
  size_t hlen = 0, off = 0;
  if (major == 1) {
    hlen = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
    off = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw bad("truncated header");
    hlen = 0;
    for (int i = 0; i < 4; ++i) hlen |= static_cast<size_t>(static_cast<unsigned char>(b[8 + i])) << (8 * i);
    off = 12;
  } else {
    throw bad("format version " + std::to_string(major));
  }
  if (off + hlen > b.size()) throw bad("truncated header");
  const std::string h = b.substr(off, hlen);
  const std::string descr = header_field(h, "descr"), fortran = header_field(h, "fortran_order"),
                    shape_s = header_field(h, "shape");
  if (descr != "'<f4'" && descr != "'<f8'") throw bad("dtype " + descr + ", not float32 or float64");
  if (fortran != "False") throw bad("Fortran order");
  if (shape_s.size() < 2 || shape_s.front() != '(') throw bad("no shape");
  NpyArray a;
  std::string inner = shape_s.substr(1, shape_s.size() - 2);
  std::stringstream sh(inner);
  std::string item;
  int64_t count = 1;
  while (std::getline(sh, item, ',')) {
    if (item.find_first_not_of(' ') == std::string::npos) continue;
    try {
      const int64_t d = std::stoll(item);
      if (d < 0 || d > (int64_t{1} << 40)) throw bad("shape " + shape_s);
      a.shape.push_back(d);
      count *= d;
      if (count > (int64_t{1} << 34)) throw bad("too large");
    } catch (const std::logic_error&) {
      throw bad("shape " + shape_s);
    }
  }
  const size_t width = descr == "'<f4'" ? 4 : 8;
  const size_t data_off = off + hlen;
  if (b.size() - data_off != static_cast<size_t>(count) * width) {
    throw bad("its data holds " + std::to_string(b.size() - data_off) + " bytes, the shape " + shape_s + " needs " +
              std::to_string(static_cast<size_t>(count) * width));
  }
  a.data.resize(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    if (width == 4) {
      std::memcpy(&a.data[static_cast<size_t>(i)], b.data() + data_off + 4 * i, 4);
    } else {
      double d;
      std::memcpy(&d, b.data() + data_off + 8 * i, 8);
      a.data[static_cast<size_t>(i)] = static_cast<float>(d);
    }
  }
  return a;
}

std::string npy_bytes(const std::vector<int64_t>& shape, const float* data) {
  std::string dims;
  int64_t count = 1;
  for (int64_t d : shape) {
    dims += std::to_string(d) + ", ";
    count *= d;
  }
  if (shape.size() > 1) dims.erase(dims.size() - 2);  // "(2, 3)"; one dimension keeps "(2,)"
  else if (shape.size() == 1) dims.erase(dims.size() - 1);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  // magic (6) + version (2) + length (2) + header + '\n', padded with spaces to a multiple of 64
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  put16(out, static_cast<uint32_t>(header.size()));
  out += header;
  out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(count) * 4);
  return out;
}

void write_npz(const std::string& path, const std::vector<std::pair<std::string, std::string>>& members) {
  std::string zip, central;
  uint16_t n = 0;
  for (const auto& [name_no_ext, bytes] : members) {
    const std::string name = name_no_ext + ".npy";
    if (bytes.size() >= 0xffffffffu) throw Error(path + ": member " + name + " is over 4 GiB (no zip64 here)");
    const uint32_t crc = static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()),
                                                     static_cast<uInt>(bytes.size())));
    const uint32_t offset = static_cast<uint32_t>(zip.size());
    // local file header: stored (method 0), no data descriptor
    put32(zip, 0x04034b50);
    put16(zip, 20);
    put16(zip, 0);
    put16(zip, 0);
    put16(zip, 0);
    put16(zip, 0x21);  // time/date: 1980-01-01 00:00
    put32(zip, crc);
    put32(zip, static_cast<uint32_t>(bytes.size()));
    put32(zip, static_cast<uint32_t>(bytes.size()));
    put16(zip, static_cast<uint32_t>(name.size()));
    put16(zip, 0);
    zip += name;
    zip += bytes;
    // its central directory entry
    put32(central, 0x02014b50);
    put16(central, 20);
    put16(central, 20);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0x21);
    put32(central, crc);
    put32(central, static_cast<uint32_t>(bytes.size()));
    put32(central, static_cast<uint32_t>(bytes.size()));
    put16(central, static_cast<uint32_t>(name.size()));
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put32(central, 0);
    put32(central, offset);
    central += name;
    ++n;
  }
  const uint32_t cd_offset = static_cast<uint32_t>(zip.size());
  zip += central;
  put32(zip, 0x06054b50);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, n);
  put16(zip, n);
  put32(zip, static_cast<uint32_t>(central.size()));
  put32(zip, cd_offset);
  put16(zip, 0);
  write_user_file(path, zip);
}

}  // namespace gan
