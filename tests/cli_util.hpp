// Runs the `gan` binary (GAN_EXE) as a child process, capturing stdout, stderr and the exit code.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <map>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core_util.hpp"

extern char** environ;

namespace gan::test {

struct Result {
  int code = -1;  // exit status, or 128 + signal
  std::string out, err;
  std::string all() const { return "exit " + std::to_string(code) + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err; }
};

inline std::string gan_exe() { return env_or("GAN_EXE", binary_dir() + "/bin/gan"); }

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A started child; wait() collects it. Several can run at once (process start-up is mostly
// waiting for LibTorch's libraries, so a few in parallel finish sooner).
class Proc {
 public:
  Proc(const std::vector<std::string>& args, const std::vector<std::string>& env_overrides = {},
       const std::string& exe = gan_exe()) {
    static int counter = 0;
    std::string base = std::filesystem::temp_directory_path().string() + "/gan-cli-" + std::to_string(::getpid()) +
                       "-" + std::to_string(counter++);
    out_path_ = base + ".out";
    err_path_ = base + ".err";
    std::vector<std::string> argv_s = {exe};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    // environment: ours, with overrides. "NAME=value" sets NAME, also to an empty value
    // ("CUDA_VISIBLE_DEVICES=" hides every GPU, which an unset variable would not); "-NAME"
    // removes NAME.
    auto override_name = [](const std::string& o) {
      return o.rfind('-', 0) == 0 ? o.substr(1) : o.substr(0, o.find('='));
    };
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      std::string name = kv.substr(0, kv.find('='));
      bool overridden = false;
      for (const auto& o : env_overrides) overridden = overridden || override_name(o) == name;
      if (!overridden) env_s.push_back(kv);
    }
    for (const auto& o : env_overrides) {
      if (o.rfind('-', 0) != 0 && o.find('=') != std::string::npos) env_s.push_back(o);
    }
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn(&pid_, exe.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start " + exe + ": " + std::strerror(rc));
  }
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;
  ~Proc() {
    if (pid_ > 0) wait();
  }

  pid_t pid() const { return pid_; }

  Result wait() {
    Result r;
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out_path_);
    r.err = slurp(err_path_);
    ::unlink(out_path_.c_str());
    ::unlink(err_path_.c_str());
    return r;
  }

 private:
  pid_t pid_ = -1;
  std::string out_path_, err_path_;
};

inline Result run_gan(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  Proc p(args, env);
  return p.wait();
}

// For the cases that need a machine without a GPU (a "--device cuda" error): the child sees
// none even where one is present.
inline const std::string kNoGpu = "CUDA_VISIBLE_DEVICES=";

// Runs `gan` as on a disk that is full after `max_file_bytes` bytes of any one file: the child
// gets RLIMIT_FSIZE (a write past it fails with EFBIG) and ignores SIGXFSZ, both inherited through
// posix_spawn. Needs no root and no tmpfs, unlike a real full disk. (/dev/full does not work for
// gan's outputs: they are written to a temporary file next to the target and renamed over it.)
// The limit also applies to the child's captured stdout/stderr files: pass -q to keep them short.
inline Result run_gan_disk_full(const std::vector<std::string>& args, uint64_t max_file_bytes) {
  struct rlimit old_lim {};
  ::getrlimit(RLIMIT_FSIZE, &old_lim);
  struct rlimit lim = old_lim;
  lim.rlim_cur = static_cast<rlim_t>(max_file_bytes);
  void (*old_handler)(int) = std::signal(SIGXFSZ, SIG_IGN);
  ::setrlimit(RLIMIT_FSIZE, &lim);
  std::unique_ptr<Proc> p;
  try {
    p = std::make_unique<Proc>(args);
  } catch (...) {
    ::setrlimit(RLIMIT_FSIZE, &old_lim);
    std::signal(SIGXFSZ, old_handler);
    throw;
  }
  ::setrlimit(RLIMIT_FSIZE, &old_lim);
  std::signal(SIGXFSZ, old_handler);
  return p->wait();
}

// Every file below `dir` with its contents: to show that a command left a folder untouched.
inline std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out[std::filesystem::relative(e.path(), dir).string()] = slurp(e.path().string());
  }
  return out;
}

}  // namespace gan::test
