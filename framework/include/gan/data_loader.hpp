// gan/data_loader.hpp — batches from a Dataset: per-epoch shuffling, drop-last, prefetching on a
// worker thread, and a resumable position. Torch-free (the trainer turns batches into tensors).
//
//   gan::DataLoader loader(dataset, {.batch_size = 64, .seed = 1});
//   for (int it = 0; it < iters; ++it) {
//     gan::Batch b = loader.next();   // b.data: [B*C*H*W] floats in [-1, 1], NCHW
//     auto x = torch::from_blob(b.data.data(), {b.size, C, H, W}).clone();
//     ...
//   }
//   checkpoint.data = loader.state();   // {seed, epoch, position}
//   ...
//   loader.restore(checkpoint.data);    // continues with exactly the batches that would follow
//
// Sharding (data-parallel training): with shard_rank/shard_count every process walks the same
// batches and reads only its rows of each, so N processes together read what one would, and a
// state() saved by one process resumes under any other number of processes.
//
// Order: epoch e visits the dataset in the permutation epoch_order(n, seed, e) — a Fisher-Yates
// shuffle driven by std::mt19937_64 seeded from (seed, e) with our own index mapping, so the order
// is the same with every standard library — and cuts it into batches of batch_size. With
// drop_last the final n % batch_size indices of each epoch are skipped; without it the last batch
// of an epoch is smaller. A batch never spans two epochs. The batches depend only on (dataset size,
// options, seed), never on timing: prefetching changes speed, not content.
//
// One consumer thread calls next()/state()/restore(); the dataset's read() runs on the worker
// thread. An exception thrown while reading (a gan::Error from the dataset) is rethrown by the
// next() that would have returned that batch, and again by every later next().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "gan/dataset.hpp"
#include "gan/shape.hpp"

namespace gan {

struct DataLoaderOptions {
  int64_t batch_size = 64;  // >= 1
  uint64_t seed = 0;        // shuffling seed (the position's seed; restore() may replace it)
  bool shuffle = true;      // false: every epoch in dataset order
  bool drop_last = true;    // skip the incomplete batch at the end of each epoch
  int prefetch = 2;         // batches prepared ahead on the worker thread; 0: no thread
  // Data-parallel training: this process reads only its share of every batch, the rows
  // [global * shard_rank / shard_count, global * (shard_rank + 1) / shard_count) of the batch of
  // `global` indices one process would read. Order, batches and state() are those of one process.
  int shard_rank = 0;
  int shard_count = 1;
};

// Where the loader stands: the next batch is the one starting at `position` (an offset into
// epoch `epoch`'s order, a multiple of batch_size) under shuffling seed `seed`.
struct DataState {
  uint64_t seed = 0;
  int64_t epoch = 0;
  int64_t position = 0;
  bool operator==(const DataState&) const = default;
};

struct Batch {
  int64_t size = 0;              // B (batch_size, or fewer for a final batch without drop_last);
                                 // with sharding, this process's share of the global batch
  int64_t global_size = 0;       // the whole batch's size over all shards (= size unsharded)
  int64_t offset = 0;            // this share's first row in the whole batch (0 unsharded)
  Shape shape;                   // {B, C, H, W}
  std::vector<float> data;       // B*C*H*W floats, NCHW
  std::vector<int64_t> labels;   // B labels (-1 when the dataset has none)
  std::vector<int64_t> indices;  // B dataset indices
  int64_t epoch = 0;             // epoch this batch belongs to
  int64_t position = 0;          // offset of its first sample in the epoch's order
};

class DataLoader {
 public:
  // Starts at epoch 0, position 0, with options.seed. Throws gan::Error on an empty dataset, a
  // batch_size < 1, or (with drop_last) a dataset smaller than one batch. `dataset` must outlive
  // the loader.
  DataLoader(const Dataset& dataset, DataLoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // The next batch (waits for the worker if it is not ready yet).
  Batch next();

  // The position after the last batch next() returned (not the worker's read-ahead position).
  DataState state() const;
  // Continues from `s` (seed included): discards prefetched batches and restarts the worker.
  // Throws gan::Error if s.position is not a batch boundary inside the epoch.
  void restore(const DataState& s);

  int64_t batches_per_epoch() const;
  const DataLoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return dataset_; }

  // The permutation of [0, n) visited in `epoch` (identity when shuffle is false).
  static std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle);

 private:
  struct Item {
    Batch batch;
    std::exception_ptr error;
  };
  // Moves `s` past a batch of `taken` samples, wrapping to the next epoch when no further
  // (full, with drop_last) batch fits.
  DataState advance(DataState s, int64_t taken) const;
  Batch make_batch(const DataState& s, const std::vector<int64_t>& order) const;
  void start_worker();
  void stop_worker();
  void worker_loop();

  const Dataset& dataset_;
  DataLoaderOptions options_;
  int64_t n_ = 0;
  Shape sample_shape_;

  DataState consumer_;  // what state() reports
  DataState producer_;  // next batch the worker (or next() without a worker) makes

  // Order cache for the producer's current epoch (used by one thread at a time).
  int64_t order_epoch_ = -1;
  uint64_t order_seed_ = 0;
  std::vector<int64_t> order_;
  const std::vector<int64_t>& order_for(const DataState& s);

  mutable std::mutex mutex_;
  std::condition_variable ready_;  // worker -> consumer: an item was queued
  std::condition_variable space_;  // consumer -> worker: an item was taken, or stop
  std::deque<Item> queue_;
  bool stop_ = false;
  bool failed_ = false;
  std::thread worker_;
};

}  // namespace gan
