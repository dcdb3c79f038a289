// gan train MODEL.toml --out RUN [--iters N] [--device D] [--nproc N] | gan train --resume RUN
// (as one rank of torchrun: torchrun --nproc-per-node N --no-python gan train ...)
// gan sample RUN|CKPT [--n 64] [--out grid.png | DIR | FILE.npz] [--seed S | --latents Z.npy]
#include <CLI/CLI.hpp>

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "commands.hpp"
#include "options.hpp"
#include "gan/distributed.hpp"
#include "gan/error.hpp"
#include "gan/eval_preflight.hpp"
#include "gan/image_io.hpp"
#include "gan/npy.hpp"
#include "gan/log.hpp"
#include "gan/trainer.hpp"

namespace gan::cli {

// The evaluator used for [train] eval_every; defined with `gan evaluate` (cmd_evaluate.cpp).
Evaluator make_evaluator_for(const std::string& run_dir);

void add_train_commands(CLI::App& app, GlobalOptions& g) {
  {
    auto* cmd = app.add_subcommand("train", "train a model into a run folder, or resume one");
    struct Opts {
      std::string model, out, resume, device;
      int64_t iters = -1;
      int nproc = 0;
      double dist_timeout = 0;
      bool force = false;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("model", o->model, "model file")->type_name("MODEL.toml");
    cmd->add_option("--out", o->out, "run folder to create")->type_name("RUN");
    cmd->add_option("--resume", o->resume, "continue the run in this folder from its latest checkpoint")
        ->type_name("RUN");
    // Same bounds as [train] iterations. (CLI::PositiveNumber's message for 0 read "Value 0 not in
    // range 0.000000 to 1.797...e308".)
    cmd->add_option("--iters", o->iters, "train until this iteration (overrides [train] iterations)")
        ->check(CLI::Range(int64_t{1}, int64_t{1000000000}));
    add_device_option(cmd, o->device, /*model_default=*/true);
    cmd->add_flag("--force", o->force,
                  "with --resume: continue even though the run's model.toml was edited in ways that change "
                  "training (the differences are printed)");
    cmd->add_option("--nproc", o->nproc,
                    "data-parallel training on N local processes (ranks over torch.distributed's Gloo; "
                    "[train] batch_size stays the whole batch): starts them as torchrun would")
        ->check(CLI::Range(1, 1024));
    cmd->add_option("--dist-timeout", o->dist_timeout,
                    "data-parallel training: seconds a rank waits for the others before it stops, naming the "
                    "missing rank (overrides [train] dist_timeout)")
        ->check(CLI::Range(1.0, 86400.0));
    cmd->callback([&g, o] {
      std::optional<DistributedEnv> env = distributed_env();
      if (o->nproc > 0) {
        if (env) {
          throw Error("train: --nproc starts the ranks itself; this process already is rank " +
                      std::to_string(env->rank) + " of a launcher's (RANK is set): drop --nproc");
        }
        // the same command line, without --nproc, in every rank
        std::vector<std::string> args;
        for (size_t i = 0; i < g.args.size(); ++i) {
          if (g.args[i] == "--nproc") {
            ++i;
            continue;
          }
          if (g.args[i].rfind("--nproc=", 0) == 0) continue;
          args.push_back(g.args[i]);
        }
        const double t = o->dist_timeout > 0 ? o->dist_timeout : 300.0;
        const int rc = run_local_ranks(o->nproc, args, std::chrono::milliseconds(static_cast<int64_t>(t * 1000)));
        if (rc != 0) std::exit(rc);
        return;
      }
      if (env && env->rank > 0 && !g.verbose) log::set_level(log::Level::Warn);  // rank 0 reports progress
      load_all_plugins(g);
      TrainOptions opt;
      opt.distributed = env;
      opt.dist_timeout_s = o->dist_timeout;
      opt.iterations = o->iters;
      opt.device = o->device;
      opt.force = o->force;
      opt.preflight = preflight_evaluation;
      TrainStatus st;
      if (!o->resume.empty()) {
        if (!o->model.empty()) throw Error("train: give either MODEL.toml --out RUN or --resume RUN, not both");
        opt.run_dir = o->resume;
        opt.evaluator = make_evaluator_for(opt.run_dir);
        st = train_resume(opt);
      } else {
        if (o->model.empty()) throw Error("train: MODEL.toml is required (or --resume RUN)");
        if (o->out.empty()) throw Error("train: --out RUN is required: the folder for checkpoints, samples and logs");
        if (o->force) throw Error("train: --force goes with --resume RUN (a new run has nothing to force)");
        opt.run_dir = o->out;
        opt.evaluator = make_evaluator_for(o->out);
        st = train_new(o->model, opt);
      }
      if (st == TrainStatus::Interrupted) std::exit(130);
    });
  }
  {
    auto* cmd = app.add_subcommand("sample", "generate images from a run or checkpoint: a PNG grid, a folder of "
                                             "PNGs, or float32 arrays in an .npz");
    struct Opts {
      std::string src, out = "samples.png", device = "auto", latents;
      WhichGenerator which;
      int64_t n = 64, seed = 0, nrow = 8, batch = 256;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("run", o->src, "run folder or checkpoint file")->required()->type_name("RUN|CKPT");
    auto* n_opt = cmd->add_option("--n", o->n, "number of images (default 64; with --latents, the file's rows)")
                      ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
    cmd->add_option("--out", o->out,
                    "FILE.png: a grid; FILE.npz: float32 arrays 'images' [N, C, H, W] in [-1, 1] and 'latents' "
                    "[N, latent_dim] (numpy.load); DIR/ (or a new name without an extension, or a folder of "
                    "earlier samples): one 8-bit PNG per image, 000000.png ... (for clean-fid, torch-fidelity)");
    cmd->add_option("--seed", o->seed, "noise seed (without --latents)");
    cmd->add_option("--latents", o->latents,
                    "a .npy file of float32/float64 latents [N, latent_dim] to generate from, instead of --seed")
        ->type_name("FILE.npy");
    cmd->add_option("--nrow", o->nrow, "images per grid row")->check(CLI::Range(1, 256));
    cmd->add_option("--batch", o->batch, "images generated per forward pass")->check(CLI::Range(1, 65536));
    add_which_option(cmd, o->which);
    add_device_option(cmd, o->device, /*model_default=*/false);
    cmd->callback([&g, o, n_opt] {
      auto ends_with = [](const std::string& s, const std::string& e) {
        return s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
      };
      // a folder of PNGs: --out ending in '/', a new path without an extension, or a folder that is
      // empty or holds only gan's numbered PNGs; otherwise a grid file (refused on a folder)
      const bool npz = ends_with(o->out, ".npz");
      bool grid = !npz;
      if (!npz && !ends_with(o->out, ".png")) {
        std::error_code ec;
        const std::filesystem::path p(o->out);
        if (ends_with(o->out, "/") || (!std::filesystem::exists(std::filesystem::symlink_status(p, ec)) &&
                                       p.extension().empty())) {
          grid = false;
        } else if (std::filesystem::is_directory(p, ec)) {
          bool ours = true;
          for (const auto& e : std::filesystem::directory_iterator(p, ec)) {
            const std::string name = e.path().filename().string();
            ours = ours && name.size() == 10 && name.substr(6) == ".png" &&
                   name.find_first_not_of("0123456789") == 6;
          }
          grid = !ours;
        }
      }
      load_all_plugins(g);
      // the latents first: a wrong file fails before the generator is loaded
      torch::Tensor z;
      int64_t n = o->n;
      if (!o->latents.empty()) {
        NpyArray a = read_npy(o->latents);
        if (a.shape.size() != 2) {
          throw Error(o->latents + ": --latents must be a 2-d array [N, latent_dim], not " +
                      std::to_string(a.shape.size()) + "-d");
        }
        if (n_opt->count() > 0 && a.shape[0] != o->n) {
          throw Error("--n " + std::to_string(o->n) + " but " + o->latents + " holds " + std::to_string(a.shape[0]) +
                      " latents: drop --n, or give a file of that many");
        }
        n = a.shape[0];
        z = torch::from_blob(a.data.data(), {a.shape[0], a.shape[1]}, torch::kFloat32).clone();
      }
      if (grid && n > 4096) throw Error("--out " + o->out + ": a grid holds at most 4096 images; write a folder");
      resolve_which(o->which);
      LoadedGenerator lg = load_generator(o->src, o->device, o->which.checkpoint, o->which.generator);
      if (z.defined() && z.size(1) != lg.latent_dim) {
        throw Error(o->latents + ": latents of size " + std::to_string(z.size(1)) + ", but the generator of " +
                    lg.checkpoint + " takes " + std::to_string(lg.latent_dim) + " ([generator] latent_dim)");
      }
      if (!z.defined()) {
        auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(o->seed));
        z = torch::randn({n, lg.latent_dim}, gen, torch::kFloat32);
      }
      torch::NoGradGuard ng;
      std::vector<torch::Tensor> parts;
      for (int64_t i = 0; i < n; i += o->batch) {
        torch::Tensor x = lg.G->forward(z.narrow(0, i, std::min(o->batch, n - i)).to(lg.device)).to(torch::kCPU);
        if (!grid && !npz) {
          write_png_files(x, o->out, i);
        } else {
          parts.push_back(x);
        }
        if (n > 4 * o->batch && (i / o->batch) % 10 == 9) {
          log::info("sample: " + std::to_string(i + x.size(0)) + "/" + std::to_string(n) + " images");
        }
      }
      if (grid) {
        write_png_grid(torch::cat(parts), o->out, o->nrow, /*user_path=*/true);
      } else if (npz) {
        torch::Tensor imgs = torch::cat(parts).to(torch::kFloat32).contiguous();
        torch::Tensor lat = z.to(torch::kFloat32).contiguous();
        write_npz(o->out, {{"images", npy_bytes(imgs.sizes().vec(), imgs.data_ptr<float>())},
                           {"latents", npy_bytes(lat.sizes().vec(), lat.data_ptr<float>())}});
      }
      log::info("wrote " + std::to_string(n) + " samples of " + lg.checkpoint + " (iteration " +
                std::to_string(lg.iteration) + (lg.ema ? ", EMA generator" : "") + ", " +
                (o->latents.empty() ? "seed " + std::to_string(o->seed) : "latents of " + o->latents) + ") to " +
                o->out + (grid ? "" : npz ? " (images, latents)" : " (one PNG each)"));
    });
  }
}

}  // namespace gan::cli
