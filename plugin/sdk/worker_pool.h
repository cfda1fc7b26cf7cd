// A fixed set of threads running queued tasks, with a bounded queue so that a
// flood of calls is refused (RESOURCE_EXHAUSTED) instead of growing memory.
#ifndef MCPREG_PLUGIN_SDK_WORKER_POOL_H_
#define MCPREG_PLUGIN_SDK_WORKER_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace mcpreg::sdk {

class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queued);
  ~WorkerPool();  // Runs what is queued, then joins.

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the queue is full or the pool is stopping; the task is then
  // not run and the caller reports the refusal.
  bool TrySubmit(std::function<void()> task);

  // Stops accepting, runs every queued task, joins the threads. Idempotent.
  void Shutdown();

 private:
  void Run();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace mcpreg::sdk

#endif  // MCPREG_PLUGIN_SDK_WORKER_POOL_H_
