// framework/src/data_loader.cpp — see gan/data_loader.hpp.
#include "gan/data_loader.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <utility>

#include "gan/error.hpp"

namespace gan {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<int64_t> DataLoader::epoch_order(int64_t n, uint64_t seed, int64_t epoch,
                                             bool shuffle) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  if (!shuffle || n < 2) return order;
  std::mt19937_64 rng(splitmix64(seed ^ splitmix64(static_cast<uint64_t>(epoch))));
  // Fisher-Yates with a multiply-shift index map instead of std::uniform_int_distribution, whose
  // algorithm differs between standard libraries.
  for (int64_t i = n - 1; i > 0; --i) {
    auto j = static_cast<int64_t>(
        (static_cast<unsigned __int128>(rng()) * static_cast<uint64_t>(i + 1)) >> 64);
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

DataLoader::DataLoader(const Dataset& dataset, DataLoaderOptions options)
    : dataset_(dataset), options_(options), n_(dataset.size()), sample_shape_(dataset.shape()) {
  if (n_ <= 0) throw Error("data loader: the data set is empty (" + dataset.describe() + ")");
  if (options_.batch_size < 1)
    throw Error("data loader: batch size must be at least 1, not " +
                std::to_string(options_.batch_size));
  if (options_.drop_last && n_ < options_.batch_size)
    throw Error("data loader: the data set has " + std::to_string(n_) +
                " images, fewer than one batch of " + std::to_string(options_.batch_size) +
                " (" + dataset.describe() + "): use a smaller batch size or more data");
  if (options_.prefetch < 0) options_.prefetch = 0;
  if (options_.shard_count < 1 || options_.shard_rank < 0 || options_.shard_rank >= options_.shard_count)
    throw Error("data loader: shard " + std::to_string(options_.shard_rank) + " of " +
                std::to_string(options_.shard_count) + " does not exist");
  if (options_.shard_count > options_.batch_size)
    throw Error("data loader: " + std::to_string(options_.shard_count) + " processes cannot share batches of " +
                std::to_string(options_.batch_size) + " images: use a batch_size of at least the number of processes");
  consumer_ = producer_ = DataState{options_.seed, 0, 0};
  start_worker();
}

DataLoader::~DataLoader() { stop_worker(); }

int64_t DataLoader::batches_per_epoch() const {
  const int64_t b = options_.batch_size;
  return options_.drop_last ? n_ / b : (n_ + b - 1) / b;
}

DataState DataLoader::advance(DataState s, int64_t taken) const {
  s.position += taken;
  const bool room = options_.drop_last ? s.position + options_.batch_size <= n_ : s.position < n_;
  if (!room) {
    ++s.epoch;
    s.position = 0;
  }
  return s;
}

const std::vector<int64_t>& DataLoader::order_for(const DataState& s) {
  if (order_epoch_ != s.epoch || order_seed_ != s.seed || order_.empty()) {
    order_ = epoch_order(n_, s.seed, s.epoch, options_.shuffle);
    order_epoch_ = s.epoch;
    order_seed_ = s.seed;
  }
  return order_;
}

Batch DataLoader::make_batch(const DataState& s, const std::vector<int64_t>& order) const {
  Batch b;
  b.global_size = std::min(options_.batch_size, n_ - s.position);
  b.offset = b.global_size * options_.shard_rank / options_.shard_count;
  b.size = b.global_size * (options_.shard_rank + 1) / options_.shard_count - b.offset;
  b.epoch = s.epoch;
  b.position = s.position;
  b.shape = {b.size};
  b.shape.insert(b.shape.end(), sample_shape_.begin(), sample_shape_.end());
  const int64_t numel = shape_numel(sample_shape_);
  b.data.resize(static_cast<size_t>(b.size * numel));
  b.labels.resize(static_cast<size_t>(b.size));
  b.indices.resize(static_cast<size_t>(b.size));
  for (int64_t i = 0; i < b.size; ++i) {
    const int64_t index = order[static_cast<size_t>(s.position + b.offset + i)];
    b.indices[static_cast<size_t>(i)] = index;
    b.labels[static_cast<size_t>(i)] = dataset_.label(index);
    dataset_.read(index, b.data.data() + i * numel);
  }
  return b;
}

void DataLoader::start_worker() {
  if (options_.prefetch == 0) return;
  stop_ = false;
  worker_ = std::thread([this] { worker_loop(); });
}

void DataLoader::stop_worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  space_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void DataLoader::worker_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    space_.wait(lock, [&] {
      return stop_ || static_cast<int>(queue_.size()) < options_.prefetch;
    });
    if (stop_) return;
    const DataState s = producer_;
    lock.unlock();
    Item item;
    try {
      item.batch = make_batch(s, order_for(s));
    } catch (...) {
      item.error = std::current_exception();
    }
    lock.lock();
    if (stop_) return;
    const bool error = static_cast<bool>(item.error);
    if (!error) producer_ = advance(s, item.batch.global_size);
    queue_.push_back(std::move(item));
    ready_.notify_all();
    if (error) {
      failed_ = true;
      return;  // the error item stays at the queue's end; next() rethrows it
    }
  }
}

Batch DataLoader::next() {
  if (options_.prefetch == 0) {
    Batch b = make_batch(producer_, order_for(producer_));
    producer_ = advance(producer_, b.global_size);
    std::lock_guard<std::mutex> lock(mutex_);
    consumer_ = producer_;
    return b;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait(lock, [&] { return !queue_.empty(); });
  Item& front = queue_.front();
  if (front.error) std::rethrow_exception(front.error);  // stays queued: later calls rethrow too
  Batch b = std::move(front.batch);
  queue_.pop_front();
  consumer_ = advance(DataState{consumer_.seed, b.epoch, b.position}, b.global_size);
  lock.unlock();
  space_.notify_all();
  return b;
}

DataState DataLoader::state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return consumer_;
}

void DataLoader::restore(const DataState& s) {
  const int64_t b = options_.batch_size;
  const bool boundary = s.position >= 0 && s.position % b == 0 &&
                        (options_.drop_last ? s.position + b <= n_ : s.position < n_);
  if (s.epoch < 0 || !boundary)
    throw Error("data loader: cannot resume at epoch " + std::to_string(s.epoch) + ", position " +
                std::to_string(s.position) + ": not the start of a batch of " + std::to_string(b) +
                " in a data set of " + std::to_string(n_) +
                " images; was the checkpoint written with another data set or batch size?");
  stop_worker();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.clear();
    failed_ = false;
    consumer_ = producer_ = s;
  }
  start_worker();
}

}  // namespace gan
