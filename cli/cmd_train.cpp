// gan train MODEL.toml --out RUN [--iters N] [--device D] [--nproc N] | gan train --resume RUN
// (as one rank of torchrun: torchrun --nproc-per-node N --no-python gan train ...)
// gan sample RUN|CKPT [--n 64] [--out grid.png] [--seed S]
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
    auto* cmd = app.add_subcommand("sample", "write a grid of generated images from a run or checkpoint");
    struct Opts {
      std::string src, out = "samples.png", device = "auto", which = "latest";
      int64_t n = 64, seed = 0, nrow = 8;
    };
    auto o = std::make_shared<Opts>();
    cmd->add_option("run", o->src, "run folder or checkpoint file")->required()->type_name("RUN|CKPT");
    cmd->add_option("--n", o->n, "number of images")->check(CLI::Range(1, 4096));
    cmd->add_option("--out", o->out, "PNG file to write");
    cmd->add_option("--seed", o->seed, "noise seed");
    cmd->add_option("--nrow", o->nrow, "images per grid row")->check(CLI::Range(1, 256));
    cmd->add_option("--which", o->which, "checkpoint of a run folder: latest or best")
        ->check(CLI::IsMember({"latest", "best"}));
    add_device_option(cmd, o->device, /*model_default=*/false);
    cmd->callback([&g, o] {
      load_all_plugins(g);
      LoadedGenerator lg = load_generator(o->src, o->device, o->which);
      torch::NoGradGuard ng;
      auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(o->seed));
      auto z = torch::randn({o->n, lg.latent_dim}, gen, torch::kFloat32).to(lg.device);
      auto imgs = lg.G->forward(z);
      write_png_grid(imgs, o->out, o->nrow, /*user_path=*/true);
      log::info("wrote " + std::to_string(o->n) + " samples of " + lg.checkpoint + " (iteration " +
                std::to_string(lg.iteration) + (lg.ema ? ", EMA generator" : "") + ") to " + o->out);
    });
  }
}

}  // namespace gan::cli
