#pragma once
// Batches from a labelled image folder, decoded and augmented on worker threads while the previous batch
// trains. Shuffling and augmentation are drawn per (seed, epoch, image), so a batch is the same whatever the
// thread timing, and a resumed run sees exactly the batches the interrupted one would have. In a run of
// several ranks, a global batch is ranks x batch_size consecutive images of the epoch's order, and each rank
// loads its slice of it: together they see what one process with the whole batch sees.
#include <deque>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "squeezenet/dataset.h"
#include "squeezenet/image.h"
#include "squeezenet/tensor.h"

namespace squeezenet::train {

struct LoaderOptions {
  int batch_size = 32;
  bool augment = true;  // training: shuffle, RandomResizedCrop + flip; else in order, Resize + CenterCrop
  Preset preset = Preset::torchvision;
  uint64_t seed = 0;
  int workers = 2;
  int rank = 0, ranks = 1;  // this process's slice of every global batch
};

struct Batch {
  Tensor images;  // [n, 3, S, S]; n may be below the batch size when images failed to decode
  std::vector<int> labels;
  std::vector<uint64_t> samples;    // per image: its index in the folder, which its random draws depend on
  std::vector<std::string> errors;  // one line per image skipped
};

class BatchLoader {
 public:
  BatchLoader(const LabelledFolder& folder, LoaderOptions options);
  ~BatchLoader();
  // Global batches per epoch; the last may be partial, and a rank's slice of it empty.
  int64_t batches() const;
  // Images in global batch `index` over all ranks (before any fails to decode).
  int64_t images_in(int64_t index) const;
  // Starts epoch `epoch` at batch `first` and queues the decoding of the first batches.
  void start_epoch(int epoch, int64_t first = 0);
  // The next batch of the epoch (blocks until decoded); call at most batches() - first times per epoch.
  Batch next();

 private:
  Batch build(int epoch, int64_t index) const;
  void fill_queue();

  const LabelledFolder* folder_;
  LoaderOptions options_;
  int epoch_ = 0;
  int64_t queued_ = 0;
  std::vector<std::size_t> order_;
  std::deque<std::future<Batch>> queue_;
};

// Every batch of `images` in order, as eval takes them (Resize + CenterCrop, no shuffling), each handed to `fn`; an
// image that fails to decode is thrown as an Error rather than skipped, since calibration and tuning sets are small.
void for_each_eval_batch(const std::vector<LabelledImage>& images, Preset preset, int batch_size,
                         const std::function<void(Batch&&)>& fn);

}  // namespace squeezenet::train
