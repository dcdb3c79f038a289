// Atomic file writes, output checks, the run lock, fault points (gan/fs_util.hpp).
#include "gan/fs_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "gan/error.hpp"

namespace fs = std::filesystem;

namespace gan {

// ---- fault points ----
namespace {
std::atomic<int> g_fault_depth{0};
std::atomic<long> g_fault_scope{0};  // scopes opened so far in this process
std::atomic<long> g_fault_step{0};   // steps counted in the current scope

long env_long(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::atol(v) : -1;
}
}  // namespace

FaultScope::FaultScope() {
  if (g_fault_depth.fetch_add(1) == 0) {
    g_fault_scope.fetch_add(1);
    g_fault_step.store(0);
  }
}
FaultScope::~FaultScope() { g_fault_depth.fetch_sub(1); }

void fault_point(const char* what) {
  if (g_fault_depth.load() == 0) return;
  static const long kill_save = env_long("GAN_TEST_KILL_SAVE");
  static const long kill_step = env_long("GAN_TEST_KILL_STEP");
  long step = g_fault_step.fetch_add(1) + 1;
  if (kill_save < 0 || kill_step < 0) return;
  if (g_fault_scope.load() == kill_save && step == kill_step) {
    std::fprintf(stderr, "[fault] killed at save %ld, step %ld (%s)\n", kill_save, kill_step, what);
    std::fflush(stderr);
    std::raise(SIGKILL);
  }
}

// ---- names ----
std::string temp_path_for(const std::string& path) {
  fs::path p(path);
  // appended piece by piece: `"." + std::string&&` trips GCC 12's -Wrestrict false positive
  std::string name = ".";
  name += p.filename().string();
  name += ".tmp.";
  name += std::to_string(::getpid());
  return (p.parent_path() / name).string();
}

bool is_temp_name(const std::string& f) {
  if (f.size() < 7 || f[0] != '.') return false;
  auto pos = f.rfind(".tmp.");
  if (pos == std::string::npos || pos == 0) return false;
  std::string pid = f.substr(pos + 5);
  return !pid.empty() && std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string printable(const std::string& s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 0x2;
    if (ok && len == 1 && (c < 0x20 || c == 0x7F)) ok = false;
    if (ok && len > 1) ok = is_valid_utf8(s.substr(i, len));
    if (!ok) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
      ++i;
    } else {
      out.append(s, i, len);
      i += len;
    }
  }
  return out;
}

bool is_valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c >> 5) == 0x6) len = 2, cp = c & 0x1F;
    else if ((c >> 4) == 0xE) len = 3, cp = c & 0x0F;
    else if ((c >> 3) == 0x1E) len = 4, cp = c & 0x07;
    else return false;
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;  // overlong or out of range
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // surrogates
    i += len;
  }
  return true;
}

// ---- writes ----
void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

namespace {
std::string errno_text(int e) { return e ? std::strerror(e) : std::string("unknown error"); }
}  // namespace

void commit_temp(const std::string& tmp, const std::string& path) {
  fault_point("fsync the temp file");
  {
    int fd = ::open(tmp.c_str(), O_RDONLY);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }
  fault_point("rename the temp file onto its name");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw Error(path + ": cannot replace the file: " + errno_text(e));
  }
  fault_point("fsync the folder");
  auto parent = fs::path(path).parent_path();
  fsync_dir(parent.string());
}

std::string write_temp_for(const std::string& path, const std::string& data) {
  std::string tmp = temp_path_for(path);
  fault_point("create the temp file");
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int e = errno;
    throw Error(path + ": cannot write: " + errno_text(e) + " (is the folder writable?)");
  }
  size_t done = 0, half = data.size() / 2;
  bool halfway_hit = data.size() < 2;
  while (done < data.size()) {
    size_t want = data.size() - done;
    if (!halfway_hit) want = std::min(want, half - done);  // a kill can land mid-file
    ssize_t n = ::write(fd, data.data() + done, want);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : ENOSPC;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(path + ": write failed: " + errno_text(e) + " (disk full?); the previous file is intact");
    }
    done += static_cast<size_t>(n);
    if (!halfway_hit && done >= half) {
      halfway_hit = true;
      fault_point("write the second half of the temp file");
    }
  }
  if (::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw Error(path + ": write failed: " + errno_text(e) + " (disk full?); the previous file is intact");
  }
  return tmp;
}

std::string output_target(const std::string& path) {
  std::string target = path;
  for (int hops = 0;; ++hops) {
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0) return target;  // a new file
    if (S_ISLNK(st.st_mode)) {
      if (hops >= 40) throw Error(path + ": too many levels of symbolic links");
      std::error_code ec;
      fs::path link = fs::read_symlink(target, ec);
      if (ec) throw Error(path + ": cannot read the symbolic link: " + ec.message());
      target = (link.is_absolute() ? link : fs::path(target).parent_path() / link).string();
      continue;
    }
    if (S_ISREG(st.st_mode)) return target;
    const char* what = S_ISDIR(st.st_mode)    ? "a folder"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    throw Error(path + ": is " + std::string(what) + (target != path ? " (the symbolic link points at " + target + ")" : "") +
                "; gan writes only regular files: give the path of a new or existing regular file");
  }
}

void write_file_atomic(const std::string& path, const std::string& data) {
  std::string target = output_target(path);
  commit_temp(write_temp_for(target, data), target);
}

void write_user_file(const std::string& path, const std::string& data) {
  std::string target = output_target(path);
  std::error_code ec;
  if (fs::exists(target, ec)) {
    std::ifstream in(target, std::ios::binary);
    std::string head(16, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(std::max<std::streamsize>(in.gcount(), 0)));
    size_t n = std::min(head.size(), data.size());
    if (n == 0 || head.compare(0, n, data, 0, n) != 0) {
      throw Error(path + ": exists and is not the kind of file gan writes here, so it was left alone: "
                  "remove it yourself or give another path");
    }
  }
  commit_temp(write_temp_for(target, data), target);
}

uint32_t crc32_of(const std::string& data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  size_t done = 0;
  while (done < data.size()) {  // crc32() takes a uInt length
    uInt n = static_cast<uInt>(std::min<size_t>(data.size() - done, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + done), n);
    done += n;
  }
  return static_cast<uint32_t>(crc);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int e = errno;
    throw Error(path + ": cannot read: " + errno_text(e));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create the folder: " + ec.message());
  if (::access(dir.c_str(), W_OK) != 0) {
    int e = errno;
    throw Error(dir + ": the folder is not writable: " + errno_text(e));
  }
}

uint32_t crc32_of_file(const std::string& path, uint64_t* size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int e = errno;
    throw Error(path + ": cannot read: " + errno_text(e));
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto got = in.gcount();
    if (got <= 0) break;
    crc = crc32(crc, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(got));
    total += static_cast<uint64_t>(got);
  }
  if (size) *size = total;
  return static_cast<uint32_t>(crc);
}

// ---- SHA-256 (FIPS 180-4) ----
std::string sha256_hex(const std::string& data) {
  static const uint32_t k[64] = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  auto rotr = [](uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  std::string msg = data;
  uint64_t bits = static_cast<uint64_t>(data.size()) * 8;
  msg += static_cast<char>(0x80);
  while (msg.size() % 64 != 56) msg += '\0';
  for (int i = 7; i >= 0; --i) msg += static_cast<char>((bits >> (8 * i)) & 0xFF);
  for (size_t off = 0; off < msg.size(); off += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(msg.data() + off + 4 * i);
      w[i] = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
    }
    for (int i = 16; i < 64; ++i) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      uint32_t ch = (e & f) ^ (~e & g);
      uint32_t t1 = hh + S1 + ch + k[i] + w[i];
      uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
      uint32_t t2 = S0 + mj;
      hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  }
  char out[65];
  for (int i = 0; i < 8; ++i) std::snprintf(out + 8 * i, 9, "%08x", h[i]);
  return std::string(out, 64);
}

// ---- the run lock ----
RunLock::RunLock(const std::string& run_dir) {
  std::string path = (fs::path(run_dir) / "train.lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    int e = errno;
    throw Error(path + ": cannot open the run's lock file: " + errno_text(e));
  }
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (::fcntl(fd_, F_SETLK, &fl) == 0) return;
  int e = errno;
  struct flock who {};
  who.l_type = F_WRLCK;
  who.l_whence = SEEK_SET;
  std::string holder = "another process";
  if (::fcntl(fd_, F_GETLK, &who) == 0 && who.l_type != F_UNLCK) holder = "process " + std::to_string(who.l_pid);
  ::close(fd_);
  fd_ = -1;
  if (e == EACCES || e == EAGAIN) {
    throw Error(run_dir + ": the run is being written by " + holder + " (it holds " + path +
                "); only one `gan train` may write a run: wait for it to finish or stop it (kill " +
                (holder.rfind("process ", 0) == 0 ? holder.substr(8) : std::string("PID")) +
                "); `gan sample` and `gan evaluate` work meanwhile");
  }
  throw Error(path + ": cannot lock the run: " + errno_text(e));
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace gan
