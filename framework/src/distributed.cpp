// Data-parallel training over c10d (gan/distributed.hpp).
#include "gan/distributed.hpp"

#include <torch/torch.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "gan/error.hpp"
#include "gan/log.hpp"

#ifdef GAN_HAVE_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
// GAN_HAVE_NCCL (a CUDA LibTorch with NCCL): the process group for GPU tensors comes from the
// module libgan_nccl.so (framework/nccl), loaded with the CUDA backend (gan/cuda_backend.hpp)
#ifdef GAN_HAVE_NCCL
#include "../nccl/nccl_backend.hpp"
#include "gan/cuda_backend.hpp"
#endif

extern char** environ;

namespace gan {
namespace {

#ifdef GAN_HAVE_NCCL
// libgan_nccl.so beside libgan (the anchor is one of libgan's functions); once per process
void* open_nccl_module(std::string* error) {
  static std::string first_error;
  static void* const handle = [] {
    if (!load_cuda_backend()) {
      first_error = "LibTorch's CUDA backend is " + cuda_backend_state().detail;
      return static_cast<void*>(nullptr);
    }
    return open_module_beside(reinterpret_cast<const void*>(&load_cuda_backend), "libgan_nccl.so", {}, &first_error);
  }();
  if (!handle && error) *error = first_error;
  return handle;
}
#endif

int env_int(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (*end != '\0' || x < lo || x > hi) {
    throw Error(std::string("environment variable ") + name + "=" + v + ": not an integer in [" + std::to_string(lo) +
                ", " + std::to_string(hi) + "]; it is set by the launcher (torchrun or `gan train --nproc N`)");
  }
  return static_cast<int>(x);
}

std::string first_line(const std::string& s) {
  std::string out = s.substr(0, s.find('\n'));
  return out.size() > 300 ? out.substr(0, 300) + "..." : out;
}

}  // namespace

std::optional<DistributedEnv> distributed_env() {
  const char* r = std::getenv("RANK");
  const char* w = std::getenv("WORLD_SIZE");
  if (!r && !w) return std::nullopt;
  if (!r || !w) throw Error("environment: RANK and WORLD_SIZE go together (a launcher sets both), only one is set");
  DistributedEnv e;
  e.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  e.rank = env_int("RANK", 0, 0, e.world_size - 1);
  e.local_rank = env_int("LOCAL_RANK", e.rank, 0, 1 << 20);
  e.local_world_size = env_int("LOCAL_WORLD_SIZE", e.world_size, 1, 1 << 20);
  e.master_port = env_int("MASTER_PORT", 29500, 1, 65535);
  e.restart_count = env_int("TORCHELASTIC_RESTART_COUNT", 0, 0, 1 << 20);
  if (const char* a = std::getenv("MASTER_ADDR"); a && *a) e.master_addr = a;
  const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
  e.agent_store = agent && (std::string(agent) == "True" || std::string(agent) == "true" || std::string(agent) == "1");
  return e;
}

#ifdef GAN_HAVE_GLOO

bool distributed_available() { return true; }
std::string distributed_unavailable() { return ""; }

struct ProcessGroup::Impl {
  DistributedEnv env;
  std::chrono::milliseconds timeout;
  c10::intrusive_ptr<c10d::Store> store;       // prefixed with this attempt's keys
  c10::intrusive_ptr<c10d::TCPStore> server;   // when this rank hosts the store
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;  // host tensors and the control values
#ifdef GAN_HAVE_NCCL
  c10::intrusive_ptr<c10d::Backend> nccl;  // ProcessGroupNCCL: tensors on the GPUs, when training on CUDA
#endif
  std::string prefix;
  std::thread heartbeat;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;

  c10::intrusive_ptr<c10d::Store> client(std::chrono::milliseconds t) const {
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(env.master_port);
    o.isServer = false;
    o.waitWorkers = false;
    o.timeout = t;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
    return c10::make_intrusive<c10d::PrefixStore>(prefix, tcp);
  }

  std::string where() const { return env.master_addr + ":" + std::to_string(env.master_port); }

  // Why a collective failed: a rank's own report, or the rank whose heartbeat stopped.
  std::string explain(const std::string& what, const std::string& cause) const {
    std::string msg = "data-parallel training: rank " + std::to_string(env.rank) + "'s " + what + " failed (" +
                      first_line(cause) + "): ";
    try {
      auto s = client(std::chrono::milliseconds(3000));
      std::vector<int64_t> before(env.world_size);
      for (int r = 0; r < env.world_size; ++r) {
        const std::string key = "failed/" + std::to_string(r);
        if (r != env.rank && s->check({key})) {
          auto v = s->get(key);
          return msg + "rank " + std::to_string(r) + " stopped: " + std::string(v.begin(), v.end());
        }
        before[r] = s->add("hb/" + std::to_string(r), 0);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2500));
      std::string stale;
      for (int r = 0; r < env.world_size; ++r) {
        if (r == env.rank) continue;
        const std::string key = "failed/" + std::to_string(r);
        if (s->check({key})) {
          auto v = s->get(key);
          return msg + "rank " + std::to_string(r) + " stopped: " + std::string(v.begin(), v.end());
        }
        if (s->add("hb/" + std::to_string(r), 0) == before[r]) stale += (stale.empty() ? "" : ", ") + std::to_string(r);
      }
      if (!stale.empty()) {
        return msg + "rank " + stale + " stopped responding (no heartbeat for 2.5 s: killed, or the machine hangs)";
      }
      return msg + "every other rank is alive, so one is stuck inside a step for longer than the timeout of " +
             std::to_string(timeout.count() / 1000) + " s ([train] dist_timeout or --dist-timeout)";
    } catch (const std::exception&) {
      return msg + "the rendezvous store at " + where() + " is unreachable: " +
             (env.agent_store ? std::string("the launcher") : std::string("rank 0, which hosts it,")) + " stopped";
    }
  }

  template <class F>
  void run(const char* what, F&& start) {
    try {
      c10::intrusive_ptr<c10d::Work> work = start();
      work->wait(timeout);
    } catch (const std::exception& e) {
      throw Error(explain(what, e.what()));
    }
  }
};

ProcessGroup::ProcessGroup(const DistributedEnv& env, std::chrono::milliseconds timeout, bool cuda)
    : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.env = env;
  s.timeout = timeout;
  s.prefix = "gan/attempt_" + std::to_string(env.restart_count);
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<uint16_t>(env.master_port);
    o.isServer = !env.agent_store && env.rank == 0;
    o.numWorkers = std::nullopt;
    o.waitWorkers = false;
    o.timeout = timeout;
    auto tcp = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
    if (o.isServer) s.server = tcp;
    s.store = c10::make_intrusive<c10d::PrefixStore>(s.prefix, tcp);
  } catch (const std::exception& e) {
    throw Error("data-parallel training: rank " + std::to_string(env.rank) + " cannot reach the rendezvous store at " +
                s.where() + " (MASTER_ADDR, MASTER_PORT) within " + std::to_string(timeout.count() / 1000) +
                " s: " + first_line(e.what()) + "; start every rank with the same launcher command");
  }
  try {
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost") {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    opts->threads = 1;
    s.gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(s.store, env.rank, env.world_size, opts);
  } catch (const std::exception& e) {
    throw Error("data-parallel training: rank " + std::to_string(env.rank) + " could not connect to the other " +
                std::to_string(env.world_size - 1) + " rank(s) within " + std::to_string(timeout.count() / 1000) +
                " s: " + first_line(e.what()) +
                "; check that every rank was started (WORLD_SIZE), and GLOO_SOCKET_IFNAME across machines");
  }
  if (cuda) {
#ifdef GAN_HAVE_NCCL
    std::string error;
    c10d::Backend* b = nullptr;
    if (void* h = open_nccl_module(&error)) {
      if (auto create = reinterpret_cast<gan_nccl_create_fn>(::dlsym(h, "gan_nccl_create"))) {
        b = create(&s.store, env.rank, env.world_size, timeout.count(), env.local_rank, &error);
      } else {
        error = "libgan_nccl.so has no gan_nccl_create";
      }
    }
    if (!b) {
      throw Error("data-parallel training: rank " + std::to_string(env.rank) + " could not set up NCCL on cuda:" +
                  std::to_string(env.local_rank) + ": " + first_line(error));
    }
    s.nccl = c10::intrusive_ptr<c10d::Backend>::reclaim(b);
#else
    log::warn("data-parallel training on CUDA without NCCL (this LibTorch has none): tensors pass through host "
              "memory and Gloo, which is slow");
#endif
  }
  // the heartbeat: a counter per rank, on a connection of its own
  auto hb = s.client(timeout);
  s.heartbeat = std::thread([this, hb] {
    Impl& st = *impl_;
    const std::string key = "hb/" + std::to_string(st.env.rank);
    std::unique_lock<std::mutex> lock(st.mu);
    while (!st.stopping) {
      lock.unlock();
      try {
        hb->add(key, 1);
      } catch (const std::exception&) {
        // the store is gone; collectives report it
      }
      lock.lock();
      st.cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return st.stopping; });
    }
  });
}

ProcessGroup::~ProcessGroup() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->heartbeat.joinable()) impl_->heartbeat.join();
}

int ProcessGroup::rank() const { return impl_->env.rank; }
int ProcessGroup::world_size() const { return impl_->env.world_size; }
std::chrono::milliseconds ProcessGroup::timeout() const { return impl_->timeout; }

void ProcessGroup::all_reduce_sum(std::vector<at::Tensor>& tensors) {
  if (tensors.empty()) return;
  // one flat buffer per call: one collective, whatever the number of tensors
  std::vector<at::Tensor> flat_parts;
  for (auto& t : tensors) flat_parts.push_back(t.reshape({-1}));
#ifdef GAN_HAVE_NCCL
  if (impl_->nccl && tensors[0].is_cuda()) {
    std::vector<at::Tensor> buf{torch::cat(flat_parts).contiguous()};
    impl_->run("all-reduce (NCCL)", [&] { return impl_->nccl->allreduce(buf); });
    int64_t off = 0;
    for (auto& t : tensors) {
      t.copy_(buf[0].narrow(0, off, t.numel()).view(t.sizes()));
      off += t.numel();
    }
    return;
  }
#endif
  // Gloo reduces host memory: tensors on a GPU are staged through it (NCCL is the GPU's backend)
  std::vector<at::Tensor> buf{torch::cat(flat_parts).to(torch::kCPU).contiguous()};
  impl_->run("all-reduce", [&] { return impl_->gloo->allreduce(buf); });
  int64_t off = 0;
  for (auto& t : tensors) {
    const int64_t n = t.numel();
    t.copy_(buf[0].narrow(0, off, n).view(t.sizes()));
    off += n;
  }
}

void ProcessGroup::broadcast(std::vector<at::Tensor>& tensors, int root) {
  for (auto& t : tensors) {
    c10d::BroadcastOptions o;
    o.rootRank = root;
#ifdef GAN_HAVE_NCCL
    if (impl_->nccl && t.is_cuda()) {
      std::vector<at::Tensor> one{t.contiguous()};
      impl_->run("broadcast (NCCL)", [&] { return impl_->nccl->broadcast(one, o); });
      if (!one[0].is_same(t)) t.copy_(one[0]);
      continue;
    }
#endif
    std::vector<at::Tensor> one{t.is_contiguous() && t.is_cpu() ? t : t.to(torch::kCPU).contiguous()};
    impl_->run("broadcast", [&] { return impl_->gloo->broadcast(one, o); });
    if (!one[0].is_same(t)) t.copy_(one[0]);
  }
}

at::Tensor ProcessGroup::all_gather_rows(const at::Tensor& rows) {
  const int w = world_size();
  at::Tensor x = rows.to(torch::kCPU).contiguous();
  std::vector<at::Tensor> n_in{torch::tensor({x.size(0)}, torch::kInt64)};
  std::vector<std::vector<at::Tensor>> n_out(1);
  for (int r = 0; r < w; ++r) n_out[0].push_back(torch::empty({1}, torch::kInt64));
  impl_->run("all-gather", [&] { return impl_->gloo->allgather(n_out, n_in); });
  int64_t most = 0;
  std::vector<int64_t> counts;
  for (auto& n : n_out[0]) {
    counts.push_back(n.item<int64_t>());
    most = std::max(most, counts.back());
  }
  std::vector<int64_t> shape = x.sizes().vec();
  shape[0] = most;
  std::vector<at::Tensor> in{torch::zeros(shape, x.options())};
  in[0].narrow(0, 0, x.size(0)).copy_(x);
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < w; ++r) out[0].push_back(torch::empty(shape, x.options()));
  impl_->run("all-gather", [&] { return impl_->gloo->allgather(out, in); });
  std::vector<at::Tensor> parts;
  for (int r = 0; r < w; ++r) parts.push_back(out[0][r].narrow(0, 0, counts[r]));
  return torch::cat(parts, 0).to(rows.device());
}

void ProcessGroup::barrier() {
  impl_->run("barrier", [&] { return impl_->gloo->barrier(); });
}

int64_t ProcessGroup::all_max(int64_t value) {
  std::vector<at::Tensor> t{torch::tensor({value}, torch::kInt64)};
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::MAX;
  impl_->run("all-reduce", [&] { return impl_->gloo->allreduce(t, o); });
  return t[0].item<int64_t>();
}

std::string ProcessGroup::broadcast_bytes(const std::string& bytes, int root) {
  std::vector<at::Tensor> n{torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kInt64)};
  broadcast(n, root);
  const int64_t size = n[0].item<int64_t>();
  std::vector<at::Tensor> data{torch::empty({size}, torch::kUInt8)};
  if (rank() == root) std::memcpy(data[0].data_ptr(), bytes.data(), bytes.size());
  if (size > 0) broadcast(data, root);
  return std::string(static_cast<const char*>(data[0].data_ptr()), static_cast<size_t>(size));
}

void ProcessGroup::report_failure(const std::string& message) noexcept {
  try {
    auto s = impl_->client(std::chrono::milliseconds(2000));
    const std::string m = first_line(message);
    s->set("failed/" + std::to_string(rank()), std::vector<uint8_t>(m.begin(), m.end()));
  } catch (...) {
  }
}

#else  // no Gloo

bool distributed_available() { return false; }
std::string distributed_unavailable() {
  return "this gan was built without torch.distributed's Gloo backend (its headers come from Debian's "
         "libgloo-dev): run scripts/setup.sh, which installs it, then scripts/build.sh";
}

struct ProcessGroup::Impl {};
ProcessGroup::ProcessGroup(const DistributedEnv&, std::chrono::milliseconds, bool) {
  throw Error("data-parallel training is unavailable: " + distributed_unavailable());
}
ProcessGroup::~ProcessGroup() = default;
int ProcessGroup::rank() const { return 0; }
int ProcessGroup::world_size() const { return 1; }
std::chrono::milliseconds ProcessGroup::timeout() const { return {}; }
void ProcessGroup::all_reduce_sum(std::vector<at::Tensor>&) {}
void ProcessGroup::broadcast(std::vector<at::Tensor>&, int) {}
at::Tensor ProcessGroup::all_gather_rows(const at::Tensor& rows) { return rows; }
void ProcessGroup::barrier() {}
int64_t ProcessGroup::all_max(int64_t v) { return v; }
std::string ProcessGroup::broadcast_bytes(const std::string& b, int) { return b; }
void ProcessGroup::report_failure(const std::string&) noexcept {}

#endif

// ---------------------------------------------------------------------------------------------
// gan train --nproc N

namespace {
std::atomic<int> g_launcher_signal{0};
extern "C" void on_launcher_signal(int sig) { g_launcher_signal.store(sig); }

const char* sig_name(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    default: return "a signal";
  }
}
}  // namespace

int run_local_ranks(int nproc, const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
#ifndef GAN_HAVE_GLOO
  (void)nproc;
  (void)args;
  (void)timeout;
  throw Error("gan train --nproc: data-parallel training is unavailable: " + distributed_unavailable());
#else
  if (nproc < 1) throw Error("gan train --nproc N: N must be at least 1");
  // the store, as torchrun's agent hosts it; port 0: the system picks a free one
  c10d::TCPStoreOptions o;
  o.port = 0;
  o.isServer = true;
  o.waitWorkers = false;
  o.timeout = timeout;
  auto store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", o);
  const int port = store->getPort();

  std::vector<std::string> base_env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    std::string k = kv.substr(0, kv.find('='));
    if (k == "RANK" || k == "WORLD_SIZE" || k == "LOCAL_RANK" || k == "LOCAL_WORLD_SIZE" || k == "MASTER_ADDR" ||
        k == "MASTER_PORT" || k == "TORCHELASTIC_USE_AGENT_STORE" || k == "GROUP_RANK" ||
        k == "TORCHELASTIC_RESTART_COUNT")
      continue;
    base_env.push_back(kv);
  }
  if (!std::getenv("OMP_NUM_THREADS")) {
    // share the cores between the ranks, as torchrun does (it sets 1)
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    base_env.push_back("OMP_NUM_THREADS=" + std::to_string(std::max(1u, hw / static_cast<unsigned>(nproc))));
  }
  const std::string exe = "/proc/self/exe";
  struct sigaction sa {}, old_int{}, old_term{}, old_hup{};
  sa.sa_handler = on_launcher_signal;
  sigemptyset(&sa.sa_mask);
  g_launcher_signal.store(0);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGHUP, &sa, &old_hup);

  std::vector<pid_t> pids(nproc, -1);
  std::vector<int> status(nproc, -1);
  for (int r = 0; r < nproc; ++r) {
    std::vector<std::string> env = base_env;
    env.push_back("RANK=" + std::to_string(r));
    env.push_back("LOCAL_RANK=" + std::to_string(r));
    env.push_back("GROUP_RANK=0");
    env.push_back("WORLD_SIZE=" + std::to_string(nproc));
    env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
    env.push_back("MASTER_ADDR=127.0.0.1");
    env.push_back("MASTER_PORT=" + std::to_string(port));
    env.push_back("TORCHELASTIC_USE_AGENT_STORE=True");
    env.push_back("TORCHELASTIC_RESTART_COUNT=0");
    std::vector<char*> envp, argv;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string arg0 = "gan";
    argv.push_back(arg0.data());
    std::vector<std::string> a = args;
    for (auto& x : a) argv.push_back(x.data());
    argv.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    // a process group of its own: a Ctrl-C reaches the launcher, which passes it on once
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGHUP);
    posix_spawnattr_setsigdefault(&attr, &def);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, exe.c_str(), nullptr, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      for (int k = 0; k < r; ++k) ::kill(pids[k], SIGKILL);
      throw Error("gan train --nproc: cannot start rank " + std::to_string(r) + ": " + std::strerror(rc));
    }
    pids[r] = pid;
  }
  log::info("started " + std::to_string(nproc) + " ranks (store 127.0.0.1:" + std::to_string(port) + ")");

  int running = nproc, forwarded = 0;
  bool interrupted = false;
  bool failing = false;  // a rank failed: the others get until kill_at
  std::chrono::steady_clock::time_point kill_at{};
  // after a failure: each rank's heartbeat counter (gan/attempt_0/hb/R in our store) and when it
  // last moved; a rank whose counter stands still for 3 s is hung and is killed at once
  std::vector<int64_t> beats(nproc, -1);
  std::vector<std::chrono::steady_clock::time_point> moved(nproc, std::chrono::steady_clock::now());
  auto last_poll = std::chrono::steady_clock::now();
  while (running > 0) {
    if (int sig = g_launcher_signal.exchange(0)) {
      interrupted = true;
      ++forwarded;
      for (int r = 0; r < nproc; ++r)
        if (status[r] < 0) ::kill(pids[r], sig);
      log::warn("launcher: " + std::string(sig_name(sig)) + " passed to the ranks" +
                (forwarded == 1 ? ": they save a checkpoint and stop (again to stop at once)" : ""));
    }
    int st = 0;
    pid_t done = ::waitpid(-1, &st, WNOHANG);
    if (done > 0) {
      for (int r = 0; r < nproc; ++r) {
        if (pids[r] != done) continue;
        status[r] = st;
        --running;
        const bool ok = WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 130);
        if (!ok && !failing) {
          failing = true;
          kill_at = std::chrono::steady_clock::now() + timeout + std::chrono::seconds(10);
        }
      }
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (failing && now - last_poll > std::chrono::milliseconds(500)) {
      last_poll = now;
      for (int r = 0; r < nproc; ++r) {
        if (status[r] >= 0) continue;
        int64_t b = -1;
        try {
          b = store->add("gan/attempt_0/hb/" + std::to_string(r), 0);
        } catch (const std::exception&) {
        }
        if (b != beats[r]) {
          beats[r] = b;
          moved[r] = now;
        } else if (now - moved[r] > std::chrono::seconds(3)) {
          log::error("launcher: rank " + std::to_string(r) + " shows no heartbeat for 3 s after another rank "
                     "failed (hung, or still waiting to connect to it): stopping it");
          ::kill(pids[r], SIGKILL);
          moved[r] = now + std::chrono::hours(1);
        }
      }
    }
    if (failing && now > kill_at) {
      for (int r = 0; r < nproc; ++r) {
        if (status[r] < 0) {
          log::error("launcher: rank " + std::to_string(r) + " did not stop after another rank failed: killing it");
          ::kill(pids[r], SIGKILL);
        }
      }
      kill_at = now + std::chrono::hours(24);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGHUP, &old_hup, nullptr);

  std::string failed;
  bool all_interrupted = true;
  for (int r = 0; r < nproc; ++r) {
    const int st = status[r];
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
      all_interrupted = false;
      continue;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 130) continue;
    all_interrupted = false;
    failed += "\n  rank " + std::to_string(r) +
              (WIFSIGNALED(st) ? std::string(" was killed by ") + sig_name(WTERMSIG(st))
                               : " exited with status " + std::to_string(WEXITSTATUS(st)));
  }
  if (!failed.empty()) {
    log::error("gan train --nproc " + std::to_string(nproc) + ": the run failed:" + failed +
               "\nits last checkpoint is intact: continue with `gan train --resume RUN` (any --nproc)");
    return 1;
  }
  return interrupted && all_interrupted ? 130 : 0;
#endif
}

}  // namespace gan
