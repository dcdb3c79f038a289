// gan/fs_util.hpp — files written so that a crash or a full disk never leaves a half-written
// file under the final name (write to a temp file in the same folder, fsync, rename, fsync the
// folder), output paths that are checked before anything is replaced, the run-folder lock, and
// the test-only fault points that kill the process at a chosen step of a checkpoint save.
#pragma once

#include <cstdint>
#include <string>

namespace gan {

// "<dir>/.<name>.tmp.<pid>" beside `path`.
std::string temp_path_for(const std::string& path);
// True for names temp_path_for makes (".<name>.tmp.<digits>"): stale ones are ours to remove.
bool is_temp_name(const std::string& filename);
// fsyncs `tmp`, renames it onto `path`, fsyncs the folder. Throws gan::Error on failure
// (removing tmp).
void commit_temp(const std::string& tmp, const std::string& path);
// Writes `data` to temp_path_for(path), checking every write, and returns that temp path (to
// commit_temp later). Throws gan::Error naming `path` and the reason, leaving no temp file.
std::string write_temp_for(const std::string& path, const std::string& data);
// Writes `data` to `path` atomically. Throws gan::Error naming the path and the reason.
// The path is checked first (output_target): a symbolic link is written through (its target is
// replaced, the link stays); a device, FIFO, socket or folder is refused.
void write_file_atomic(const std::string& path, const std::string& data);
// As write_file_atomic, for a path the user named: an existing file is replaced only when it
// starts like `data` (the same kind of file: a PNG over a PNG, a CSV with the same header),
// so `--out model.toml` cannot turn the user's model into a picture.
void write_user_file(const std::string& path, const std::string& data);
// The file a write to `path` replaces: `path` itself, or the final target of a symbolic link.
// Throws gan::Error naming `path` if that is a device node, FIFO, socket or folder.
std::string output_target(const std::string& path);
std::string read_file(const std::string& path);  // throws gan::Error if unreadable
// Creates `dir` (and parents); throws gan::Error naming it if that fails or it is not writable.
void ensure_writable_dir(const std::string& dir);
// fsyncs a folder (after renames or removals in it); errors are ignored.
void fsync_dir(const std::string& dir);
uint32_t crc32_of_file(const std::string& path, uint64_t* size = nullptr);
uint32_t crc32_of(const std::string& data);
std::string sha256_hex(const std::string& data);

// True when `s` is valid UTF-8 (what TOML and JSON files may hold).
bool is_valid_utf8(const std::string& s);
// `s` with bytes that are not valid UTF-8 and control characters written as \xNN: for
// messages and comments.
std::string printable(const std::string& s);

// An exclusive advisory lock (fcntl record lock) on RUN/train.lock, held while the object lives
// and released by the kernel when the process dies, even by kill -9. A second writer gets a
// gan::Error naming the PID that holds the lock. The lock file is created empty and never
// written, so taking the lock changes no byte of the run folder.
class RunLock {
 public:
  explicit RunLock(const std::string& run_dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

// ---- fault injection (tests only) ----
// While a FaultScope is alive, every step of the file protocol (open, a write, fsync, rename,
// unlink, folder fsync) calls fault_point(), which counts it. With GAN_TEST_KILL_SAVE=S and
// GAN_TEST_KILL_STEP=K in the environment, the K-th step of the S-th scope of the process
// kills the process with SIGKILL (after printing "[fault] ..." on stderr), as a power cut or
// kill -9 would at that instant. Without those variables fault_point() does nothing.
class FaultScope {
 public:
  FaultScope();
  ~FaultScope();
};
void fault_point(const char* what);

}  // namespace gan
