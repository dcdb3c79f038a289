// Runs survive faults (issue 11, items 1-5), through the real `gan` binary:
//   - kill -9 at every step of a checkpoint save (the fault points of gan/fs_util.hpp), and at
//     random instants of training: the run still samples and resumes, losing at most the
//     iterations since the previous checkpoint;
//   - SIGTERM and SIGHUP save and exit like SIGINT;
//   - one writer per run; `gan sample` works while a run trains;
//   - `--out` never takes over a folder or file that is not gan's; outputs refuse devices,
//     FIFOs and sockets and write through symbolic links;
//   - a run that failed before its first checkpoint restarts in place;
//   - evaluation that cannot work fails before anything is written;
//   - a resume refuses a model.toml edited in ways that change training (unless --force);
//   - model paths that are not UTF-8 or hold a newline keep the run readable.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <regex>
#include <thread>

#include "bad_input_util.hpp"
#include "gan/fs_util.hpp"
#include "gan/json.hpp"
#include "gan/run_folder.hpp"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using gan::test::copy_run;
using gan::test::expect_all;
using gan::test::expect_clean_failure;
using gan::test::expect_sample_works;
using gan::test::Proc;
using gan::test::replaced;
using gan::test::Result;
using gan::test::run_gan;
using gan::test::slurp;
using gan::test::snapshot;
using gan::test::TempDir;
using gan::test::tiny_model_toml;

namespace {


// The tiny model with a checkpoint every iteration.
std::string every_iteration_model() {
  return replaced(replaced(tiny_model_toml(), "checkpoint_every = 2", "checkpoint_every = 1"), "sample_every = 2",
                  "sample_every = 1");
}

int64_t latest_iteration(const std::string& run) {
  return gan::Json::parse(slurp(run + "/checkpoints/latest.json"))["iteration"].integer();
}

// The iteration a resume reported starting from ("resumed RUN at iteration N"), or -1.
int64_t resumed_at(const Result& r) {
  std::smatch m;
  static const std::regex re("resumed .* at iteration ([0-9]+)");
  return std::regex_search(r.err, m, re) ? std::stoll(m[1]) : -1;
}

std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) out.push_back(e.path().string());
  }
  return out;
}

bool wait_for(const std::function<bool()>& cond, double seconds) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

// A long run in the background: waits until it has saved a checkpoint.
std::unique_ptr<Proc> start_long_run(const TempDir& tmp, const std::string& run) {
  std::string model = tmp.write("long.toml", replaced(tiny_model_toml(), "checkpoint_every = 2", "checkpoint_every = 3"));
  auto p = std::make_unique<Proc>(std::vector<std::string>{"train", model, "--out", run, "--iters", "1000000", "--device", "cpu"});
  bool started = wait_for([&] { return fs::exists(run + "/checkpoints/latest.json"); }, 120);
  if (!started) {
    ::kill(p->pid(), SIGKILL);
    FAIL("the background run saved no checkpoint in 120 s\n" + p->wait().all());
  }
  return p;
}

}  // namespace

// =============================================================================================
// 1. crash-safe checkpoints
// =============================================================================================

// The third save of a 3-iteration run (checkpoint_every = 1, keep_checkpoints = 2) is the first
// that also prunes, so it has every kind of step: temp file written in two halves, fsync,
// rename, folder fsync for the .pt, its .json and the pointer, the convenience link, the removal
// of the oldest pair. The process is killed with SIGKILL at step k, for k = 1, 2, ... until a run
// is not killed (k is past the last step). Every killed run must sample, resume to iteration 4,
// and leave no temp file behind.
TEST_CASE("faults: kill -9 at every step of a checkpoint save leaves a run that samples and resumes",
          "[faults][checkpoint]") {
  const int kParallel = 4;
  int covered = 0, resumed_before = 0, resumed_after = 0;
  bool past_last = false;
  for (int base = 1; !past_last && base < 80; base += kParallel) {
    std::vector<std::unique_ptr<TempDir>> dirs;
    std::vector<std::unique_ptr<Proc>> trains;
    for (int k = base; k < base + kParallel; ++k) {
      dirs.push_back(std::make_unique<TempDir>("gan-fault"));
      std::string model = dirs.back()->write("m.toml", every_iteration_model());
      trains.push_back(std::make_unique<Proc>(
          std::vector<std::string>{"train", model, "--out", *dirs.back() / "run", "--iters", "3", "--device", "cpu"},
          std::vector<std::string>{"GAN_TEST_KILL_SAVE=3", "GAN_TEST_KILL_STEP=" + std::to_string(k)}));
    }
    std::vector<int> killed;
    for (int i = 0; i < kParallel; ++i) {
      Result r = trains[static_cast<size_t>(i)]->wait();
      INFO("kill step " << base + i << "\n" << r.all());
      if (r.code == 0) {
        past_last = true;
        CHECK(latest_iteration(*dirs[static_cast<size_t>(i)] / "run") == 3);
        continue;
      }
      REQUIRE(r.code == 128 + SIGKILL);
      CHECK_THAT(r.err, Contains("[fault] killed at save 3, step " + std::to_string(base + i) + " ("));
      killed.push_back(i);
    }
    // each killed run: sample (before any repair), then resume
    std::vector<std::unique_ptr<Proc>> samples, resumes;
    for (int i : killed) {
      const TempDir& d = *dirs[static_cast<size_t>(i)];
      samples.push_back(std::make_unique<Proc>(
          std::vector<std::string>{"sample", d / "run", "--n", "4", "--out", d / "s.png", "--device", "cpu"}));
    }
    for (size_t j = 0; j < killed.size(); ++j) {
      Result s = samples[j]->wait();
      INFO("kill step " << base + killed[j] << ": sample\n" << s.all());
      CHECK(s.code == 0);
      CHECK(fs::is_regular_file(*dirs[static_cast<size_t>(killed[j])] / "s.png"));
    }
    for (int i : killed) {
      const TempDir& d = *dirs[static_cast<size_t>(i)];
      resumes.push_back(std::make_unique<Proc>(
          std::vector<std::string>{"train", "--resume", d / "run", "--iters", "4", "--device", "cpu"}));
    }
    for (size_t j = 0; j < killed.size(); ++j) {
      const TempDir& d = *dirs[static_cast<size_t>(killed[j])];
      Result r = resumes[j]->wait();
      INFO("kill step " << base + killed[j] << ": resume\n" << r.all());
      CHECK(r.code == 0);
      int64_t from = resumed_at(r);
      CHECK((from == 2 || from == 3));  // at most the iteration being saved is lost
      (from == 2 ? resumed_before : resumed_after) += 1;
      CHECK(latest_iteration(d / "run") == 4);
      CHECK(temp_files(d / "run").empty());
      // keep_checkpoints = 2: iterations 3 and 4 (or 2 and 4 ... never more than two pairs)
      int pairs = 0;
      for (const auto& e : fs::directory_iterator(d / "run/checkpoints")) {
        std::string f = e.path().filename().string();
        if (f.rfind("latest-", 0) == 0 && f.size() > 3 && f.substr(f.size() - 3) == ".pt") ++pairs;
      }
      CHECK(pairs == 2);
      ++covered;
    }
  }
  CHECK(past_last);
  CHECK(covered >= 15);          // the save has at least 15 write/fsync/rename/unlink steps
  CHECK(resumed_before >= 1);    // killed before the pointer's rename: the previous checkpoint
  CHECK(resumed_after >= 1);     // killed after it: the new one
  std::printf("fault injection: %d kill points of a checkpoint save covered; every one sampled and resumed "
              "(%d from the previous checkpoint, %d from the one being saved)\n",
              covered, resumed_before, resumed_after);
}

// kill -9 at random instants of a long run (seeded, so a failure can be replayed), three times,
// resuming in between; then the run finishes and samples.
TEST_CASE("faults: kill -9 at random instants of training, then resume to the end", "[faults][checkpoint]") {
  TempDir tmp("gan-fault");
  std::string model = tmp.write("m.toml", every_iteration_model());
  std::string run = tmp / "run";
  std::mt19937 rng(20261202);
  std::uniform_int_distribution<int> delay_ms(200, 1500);
  int64_t last = 0;
  for (int round = 0; round < 3; ++round) {
    std::vector<std::string> args = round == 0 || !fs::exists(run + "/checkpoints/latest.json")
                                        ? std::vector<std::string>{"train", model, "--out", run, "--iters", "100000", "--device", "cpu"}
                                        : std::vector<std::string>{"train", "--resume", run, "--device", "cpu"};
    Proc p(args);
    // let it get past start-up (its first checkpoint), then a random instant later
    wait_for([&] { return fs::exists(run + "/checkpoints/latest.json") && latest_iteration(run) > last; }, 120);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(p.pid(), SIGKILL);
    Result r = p.wait();
    INFO("round " << round << "\n" << r.all());
    CHECK(r.code == 128 + SIGKILL);
    int64_t now = latest_iteration(run);
    CHECK(now > last);
    last = now;
    expect_sample_works(run, tmp);
  }
  Result fin = run_gan({"train", "--resume", run, "--iters", std::to_string(last + 3), "--device", "cpu"});
  INFO(fin.all());
  CHECK(fin.code == 0);
  CHECK(resumed_at(fin) == last);
  CHECK(latest_iteration(run) == last + 3);
  CHECK(temp_files(run).empty());
}

TEST_CASE("faults: SIGTERM and SIGHUP save a checkpoint and exit 130 like SIGINT", "[faults][signal]") {
  for (int sig : {SIGTERM, SIGHUP}) {
    const char* name = sig == SIGTERM ? "SIGTERM" : "SIGHUP";
    INFO(name);
    TempDir tmp("gan-fault");
    std::string run = tmp / "run";
    auto p = start_long_run(tmp, run);
    ::kill(p->pid(), sig);
    Result r = p->wait();
    INFO(r.all());
    CHECK(r.code == 130);
    CHECK_THAT(r.err, Contains(std::string("interrupted by ") + name + " at iteration") && Contains("--resume"));
    std::smatch m;
    REQUIRE(std::regex_search(r.err, m, std::regex("at iteration ([0-9]+)")));
    int64_t it = std::stoll(m[1]);
    CHECK(latest_iteration(run) == it);  // saved where it stopped, not at the last multiple of 3
    Result c = run_gan({"train", "--resume", run, "--iters", std::to_string(it + 1), "--device", "cpu"});
    INFO(c.all());
    CHECK(c.code == 0);
    CHECK(resumed_at(c) == it);
  }
}

TEST_CASE("faults: the newest checkpoint failing to verify is skipped with a warning naming it", "[faults][checkpoint]") {
  TempDir tmp("gan-fault");
  std::string model = tmp.write("m.toml", every_iteration_model());
  std::string run = tmp / "run";
  REQUIRE(run_gan({"-q", "train", model, "--out", run, "--iters", "3", "--device", "cpu"}).code == 0);
  SECTION("a truncated newest checkpoint") {
    fs::resize_file(run + "/checkpoints/latest-0000003.pt", 100);
  }
  SECTION("a pointer cut mid-write") {
    std::ofstream(run + "/checkpoints/latest.json", std::ios::trunc) << "{\"file\": \"lat";
    fs::remove(run + "/checkpoints/latest-0000003.json");
  }
  Result r = run_gan({"train", "--resume", run, "--iters", "4", "--device", "cpu"});
  INFO(r.all());
  CHECK(r.code == 0);
  CHECK_THAT(r.err, Contains("skipped") && Contains(run + "/checkpoints/latest") &&
                        Contains("latest-0000002.pt (iteration 2), the newest that verifies"));
  CHECK(resumed_at(r) == 2);
  CHECK(latest_iteration(run) == 4);
}

TEST_CASE("faults: stale temp files of a killed gan are removed on resume, live ones kept", "[faults][checkpoint]") {
  TempDir tmp("gan-fault");
  std::string run = copy_run(tmp);
  // pid 2^22 + 12345 is above Linux's pid_max default range on this machine's kernels? Use a pid
  // that certainly is not running: fork a child, let it exit, and use its pid.
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  std::string stale = run + "/checkpoints/.latest-0000004.pt.tmp." + std::to_string(dead);
  std::string stale2 = run + "/samples/.latest.png.tmp." + std::to_string(dead);
  std::string live = run + "/checkpoints/.latest-0000004.pt.tmp." + std::to_string(::getpid());
  for (const auto& f : {stale, stale2, live}) std::ofstream(f) << "half";
  Result r = run_gan({"train", "--resume", run, "--iters", "3", "--device", "cpu"});
  INFO(r.all());
  CHECK(r.code == 0);
  CHECK_FALSE(fs::exists(stale));
  CHECK_FALSE(fs::exists(stale2));
  CHECK(fs::exists(live));
  CHECK_THAT(r.err, Contains("removed 2 temp file(s)"));
}

// =============================================================================================
// 2. one writer per run
// =============================================================================================

TEST_CASE("bad input: run lock: a second writer exits 1 naming the PID; sample and evaluate still work",
          "[bad_input][faults][lock]") {
  TempDir tmp("gan-fault");
  std::string run = tmp / "run";
  auto p = start_long_run(tmp, run);
  Result second = run_gan({"train", "--resume", run, "--iters", "5", "--device", "cpu"});
  INFO(second.all());
  expect_clean_failure(second);
  expect_all(second.err, {run, "being written by process " + std::to_string(p->pid()), "train.lock",
                          "only one `gan train`"});
  std::string model = tmp / "long.toml";
  // a new run into the same folder is refused too (it holds a run with a checkpoint)
  Result third = run_gan({"train", model, "--out", run, "--iters", "5", "--device", "cpu"});
  INFO(third.all());
  expect_clean_failure(third);
  // readers work meanwhile, from a verified checkpoint
  for (int i = 0; i < 3; ++i) expect_sample_works(run, tmp);
  ::kill(p->pid(), SIGINT);
  Result r = p->wait();
  INFO(r.all());
  CHECK(r.code == 130);
  // the lock went with the process: the run resumes
  Result c = run_gan({"train", "--resume", run, "--iters", std::to_string(latest_iteration(run) + 1), "--device", "cpu"});
  INFO(c.all());
  CHECK(c.code == 0);
}

TEST_CASE("faults: the lock of a run killed with -9 is released by the kernel", "[faults][lock]") {
  TempDir tmp("gan-fault");
  std::string run = tmp / "run";
  auto p = start_long_run(tmp, run);
  ::kill(p->pid(), SIGKILL);
  p->wait();
  Result c = run_gan({"train", "--resume", run, "--iters", std::to_string(latest_iteration(run) + 1), "--device", "cpu"});
  INFO(c.all());
  CHECK(c.code == 0);
}

// =============================================================================================
// 3. never touch what is not ours
// =============================================================================================

TEST_CASE("bad input: output: train --out a folder of the user's files is refused untouched", "[bad_input][output]") {
  TempDir tmp("gan-bad");
  // the user's own folder: their model and a log of their own (`--out .` beside model.toml)
  std::string model = tmp.write("mine/model.toml", tiny_model_toml());
  tmp.write("mine/log.jsonl", "{\"my\": \"notes\"}\n");
  auto before = snapshot(tmp / "mine");
  Result r = run_gan({"train", model, "--out", tmp / "mine", "--iters", "2", "--device", "cpu"});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {tmp / "mine", "not empty and is not a gan run", "nothing was changed", "new folder"});
  CHECK(snapshot(tmp / "mine") == before);
  CHECK(std::vector<std::string>{} == temp_files(tmp / "mine"));
  CHECK_FALSE(fs::exists(tmp / "mine/train.lock"));
}

TEST_CASE("output: train --out an empty folder works", "[faults][output]") {
  TempDir tmp("gan-fault");
  fs::create_directories(tmp / "empty");
  std::string model = tmp.write("m.toml", tiny_model_toml());
  Result r = run_gan({"-q", "train", model, "--out", tmp / "empty", "--iters", "2", "--device", "cpu"});
  INFO(r.all());
  CHECK(r.code == 0);
  CHECK(latest_iteration(tmp / "empty") == 2);
}

TEST_CASE("bad input: output: sample --out a device, a FIFO or a socket is refused", "[bad_input][output]") {
  TempDir tmp("gan-bad");
  std::string run = copy_run(tmp);
  std::string fifo = tmp / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  std::string sock = tmp / "sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string link_to_null = tmp / "null-link.png";
  fs::create_symlink("/dev/null", link_to_null);
  struct Case {
    std::string path, what;
  };
  for (const Case& c : {Case{"/dev/null", "a character device"}, Case{fifo, "a FIFO"}, Case{sock, "a socket"},
                        Case{link_to_null, "a character device (the symbolic link points at /dev/null)"},
                        Case{tmp.path(), "a folder"}}) {
    INFO(c.path);
    Result r = run_gan({"sample", run, "--n", "4", "--out", c.path, "--device", "cpu"});
    INFO(r.all());
    expect_clean_failure(r);
    expect_all(r.err, {c.path, c.what, "gan writes only regular files"});
  }
  ::close(fd);
  struct stat st {};
  REQUIRE(::stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  REQUIRE(::lstat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  REQUIRE(::lstat(sock.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK(fs::is_symlink(link_to_null));
  for (const auto& e : fs::directory_iterator(tmp.path())) CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("output: sample --out through a symbolic link replaces its target and keeps the link", "[faults][output]") {
  TempDir tmp("gan-fault");
  std::string run = copy_run(tmp);
  fs::create_directories(tmp / "real");
  fs::create_symlink(tmp / "real/grid.png", tmp / "link.png");  // dangling: the target is new
  Result a = run_gan({"sample", run, "--n", "4", "--out", tmp / "link.png", "--device", "cpu"});
  INFO(a.all());
  CHECK(a.code == 0);
  CHECK(fs::is_symlink(tmp / "link.png"));
  CHECK(slurp(tmp / "real/grid.png").substr(0, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  // again, over the existing target (a PNG), with a relative link
  fs::remove(tmp / "link.png");
  fs::create_symlink("real/grid.png", tmp / "link.png");
  Result b = run_gan({"sample", run, "--n", "9", "--seed", "5", "--out", tmp / "link.png", "--device", "cpu"});
  INFO(b.all());
  CHECK(b.code == 0);
  CHECK(fs::is_symlink(tmp / "link.png"));
  CHECK(fs::read_symlink(tmp / "link.png") == fs::path("real/grid.png"));
}

TEST_CASE("bad input: output: sample --out an existing file that is not a PNG is left alone", "[bad_input][output]") {
  TempDir tmp("gan-bad");
  std::string run = copy_run(tmp);
  std::string mine = tmp.write("model.toml", tiny_model_toml());
  Result r = run_gan({"sample", run, "--n", "4", "--out", mine, "--device", "cpu"});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {mine, "not the kind of file gan writes here", "left alone"});
  CHECK(slurp(mine) == tiny_model_toml());
}

TEST_CASE("faults: a run that failed before its first checkpoint restarts in place", "[faults][output]") {
  TempDir tmp("gan-fault");
  std::string model = tmp.write("m.toml", tiny_model_toml());
  std::string run = tmp / "run";
  Result bad = run_gan({"train", model, "--out", run, "--iters", "4", "--device", "cpu"}, {"GAN_TEST_NAN_AT=1"});
  REQUIRE(bad.code == 1);
  REQUIRE(fs::exists(run + "/run.json"));
  // resume says how to restart
  Result res = run_gan({"train", "--resume", run, "--device", "cpu"});
  INFO(res.all());
  expect_clean_failure(res);
  expect_all(res.err, {"stopped before its first checkpoint", "gan train", "--out " + run});
  Result again = run_gan({"train", model, "--out", run, "--iters", "2", "--device", "cpu"});
  INFO(again.all());
  CHECK(again.code == 0);
  CHECK_THAT(again.err, Contains("starting it again in place"));
  CHECK(latest_iteration(run) == 2);
  CHECK(gan::test::line_of(slurp(run + "/log.jsonl"), "\"iteration\":3") == 0);
}

TEST_CASE("bad input: output: a run without a checkpoint that holds the user's files is not restarted",
          "[bad_input][output]") {
  TempDir tmp("gan-bad");
  std::string model = tmp.write("m.toml", tiny_model_toml());
  std::string run = tmp / "run";
  REQUIRE(run_gan({"train", model, "--out", run, "--iters", "4", "--device", "cpu"}, {"GAN_TEST_NAN_AT=1"}).code == 1);
  tmp.write("run/my-notes.txt", "keep me\n");
  auto before = snapshot(run);
  Result r = run_gan({"train", model, "--out", run, "--iters", "2", "--device", "cpu"});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {run, "never saved a checkpoint", "my-notes.txt", "nothing was changed"});
  CHECK(snapshot(run) == before);
}

// =============================================================================================
// 4. fail before writing
// =============================================================================================

TEST_CASE("bad input: eval: a feature network that cannot take the model's images fails before anything is written",
          "[bad_input][eval]") {
  TempDir tmp("gan-bad");
  // an RGB model (CIFAR-10 files written here) with the shipped 1-channel Fashion-MNIST classifier
  std::string records;
  for (int i = 0; i < 16; ++i) records += char(3) + std::string(3072, '\x80');
  for (const char* f : {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                        "data_batch_5.bin", "test_batch.bin"}) {
    tmp.write(std::string("cifar/") + f, records);
  }
  std::string text = replaced(tiny_model_toml(), "type = \"idx\"\npath = \"/usr/share/datasets/fashion-mnist\"\nlimit = 256\npad = 2\nchannels = 1",
                              "type = \"cifar10\"\npath = \"cifar\"\nchannels = 3");
  text = replaced(text, "out_channels = 1\n", "out_channels = 3\n");
  text = replaced(text, "n_samples = 10", "n_samples = 10\nfeature_net = \"" + gan::test::source_dir() +
                                               "/models/fmnist/fmnist_classifier.pt\"");
  text = replaced(text, "checkpoint_every = 2", "checkpoint_every = 2\neval_every = 2");
  std::string model = tmp.write("m.toml", text);
  Result chk = run_gan({"check", model});
  INFO(chk.all());
  REQUIRE(chk.code == 0);  // the model itself is fine
  Result r = run_gan({"train", model, "--out", tmp / "run", "--iters", "4", "--device", "cpu"});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {model + ":", "[eval] feature_net", "before anything was written", "fmnist_classifier.pt",
                     "3x32x32", "eval_every = 0"});
  CHECK_FALSE(fs::exists(tmp / "run"));
}

TEST_CASE("bad input: eval: a feature network that is not TorchScript fails before anything is written",
          "[bad_input][eval]") {
  TempDir tmp("gan-bad");
  tmp.write("net.pt", "not a TorchScript archive");
  std::string text = replaced(tiny_model_toml(), "n_samples = 10", "n_samples = 10\nfeature_net = \"net.pt\"");
  text = replaced(text, "checkpoint_every = 2", "checkpoint_every = 2\neval_every = 2");
  std::string model = tmp.write("m.toml", text);
  Result r = run_gan({"train", model, "--out", tmp / "run", "--iters", "4", "--device", "cpu"});
  INFO(r.all());
  expect_clean_failure(r);
  expect_all(r.err, {model + ":", "[eval] feature_net", tmp / "net.pt", "TorchScript"});
  CHECK_FALSE(fs::exists(tmp / "run"));
}

// =============================================================================================
// 5. exact resume
// =============================================================================================

TEST_CASE("bad input: resume: model.toml edited in ways that change training is refused, listing the differences",
          "[bad_input][resume]") {
  struct Edit {
    std::string from, to;
    std::vector<std::string> shown;
  };
  for (const Edit& e : {Edit{"negative_slope = 0.1", "negative_slope = 0.2",
                             {"[[discriminator.layers]] \"a1\"", "negative_slope: 0.1 -> 0.2"}},
                        Edit{"type = \"minimax\"", "type = \"hinge\"", {"[loss] type: \"minimax\" -> \"hinge\""}},
                        Edit{"name = \"relu2\"\ntype = \"relu\"", "name = \"relu2\"\ntype = \"tanh\"",
                             {"type: \"relu\" -> \"tanh\""}}}) {
    INFO(e.to);
    TempDir tmp("gan-bad");
    std::string run = copy_run(tmp);
    std::string text = slurp(run + "/model.toml");
    std::ofstream(run + "/model.toml", std::ios::trunc) << replaced(text, e.from, e.to);
    auto before = snapshot(run);
    Result r = run_gan({"train", "--resume", run, "--iters", "3", "--device", "cpu"});
    INFO(r.all());
    expect_clean_failure(r);
    expect_all(r.err, {run + "/model.toml", "edited since the run began", "--force"});
    for (const auto& s : e.shown) CHECK_THAT(r.err, Contains(s));
    CHECK(snapshot(run) == before);
    // --force resumes, and the edited model becomes the run's
    Result f = run_gan({"train", "--resume", run, "--iters", "3", "--device", "cpu", "--force"});
    INFO(f.all());
    CHECK(f.code == 0);
    CHECK_THAT(f.err, Contains("resuming anyway (--force)"));
    Result again = run_gan({"train", "--resume", run, "--iters", "4", "--device", "cpu"});
    INFO(again.all());
    CHECK(again.code == 0);
  }
}

TEST_CASE("resume: edits that only change how long or how often the run goes are accepted", "[faults][resume]") {
  TempDir tmp("gan-fault");
  std::string run = copy_run(tmp);
  std::string text = slurp(run + "/model.toml");
  text = replaced(text, "log_every = 1", "log_every = 2");
  text = replaced(text, "sample_every = 2", "sample_every = 3");
  text = replaced(text, "iterations = 4", "iterations = 9");
  std::ofstream(run + "/model.toml", std::ios::trunc) << text;
  Result r = run_gan({"train", "--resume", run, "--iters", "4", "--device", "cpu"});
  INFO(r.all());
  CHECK(r.code == 0);
  CHECK_THAT(r.err, !Contains("edited since"));
}

TEST_CASE("runs: a model path that is not UTF-8 or holds a newline keeps the run readable", "[faults][resume]") {
  for (const std::string name : {std::string("m\xff\xfe.toml"), std::string("two\nlines.toml"), std::string("d\xe9j\xe0/m.toml")}) {
    INFO(gan::printable(name));
    TempDir tmp("gan-fault");
    std::string model = tmp.write(name, tiny_model_toml());
    std::string run = tmp / "run";
    Result t = run_gan({"-q", "train", model, "--out", run, "--iters", "2", "--device", "cpu"});
    INFO(t.all());
    REQUIRE(t.code == 0);
    Result chk = run_gan({"check", run + "/model.toml"});
    INFO(chk.all());
    CHECK(chk.code == 0);
    expect_sample_works(run, tmp);
    Result r = run_gan({"train", "--resume", run, "--iters", "3", "--device", "cpu"});
    INFO(r.all());
    CHECK(r.code == 0);
    // run.json keeps the exact bytes
    gan::Json info = gan::Json::parse(slurp(run + "/run.json"));
    CHECK(gan::is_valid_utf8(slurp(run + "/run.json")));
    CHECK(gan::read_run_info(run).model_file == fs::absolute(model).lexically_normal().string());
  }
}
