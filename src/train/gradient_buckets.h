#pragma once
// A block's gradients summed over the ranks in buckets, each started as soon as backward has made it final
// (PyTorch DDP's scheme): the classifier's bucket first, conv1's last, while backward goes on with the earlier
// layers. With buckets off, or where the ranks cannot sum in the background, it is one sum after backward.
// Either way all of a block's gradients, with the ranks' vote to stop, go in one buffer, and the sums are the
// same bits (each element's sum over the ranks does not depend on which others travel with it).
#include <cstddef>
#include <string>
#include <vector>

#include "squeezenet/model.h"
#include "squeezenet/train.h"
#include "train/distributed.h"
#include "train/gradient_listener.h"

namespace squeezenet::train {

class GradientBuckets final : public GradientListener {
 public:
  // Buckets of the parameters in `trained` (their names and shapes), whole layers of `model` in the order
  // backward finishes them, each closed when it reaches `bucket_bytes`; 0: one bucket, summed after backward.
  GradientBuckets(const Model& model, const Gradients& trained, Communicator& ranks, std::size_t bucket_bytes);

  std::size_t buckets() const { return buckets_.size(); }

  // A new block: backward is about to add into `grads`; `stop` is this rank's vote to stop the run.
  void begin(Gradients& grads, bool stop);
  void layer_done(const std::string& layer) override;
  void between_layers() override;
  // Starts what backward did not (all of it on a rank whose slice of the batch was empty, or without overlap),
  // waits for every sum and writes them into the block's gradients. Returns whether any rank voted to stop.
  bool finish();

 private:
  struct Part {
    std::string name;
    std::size_t offset, size;
  };
  struct Bucket {
    std::vector<std::string> layers;
    std::vector<Part> parts;
    std::size_t begin = 0, end = 0;  // in flat_
    std::size_t layers_left = 0;
  };
  void start_ready();  // starts, in order, every bucket whose layers are all final

  Communicator& ranks_;
  bool overlap_;  // more than one bucket, and ranks that sum in the background
  std::vector<Bucket> buckets_;
  std::vector<float> flat_;  // the buckets one after another, then the vote to stop
  Gradients* grads_ = nullptr;
  std::size_t next_ = 0;  // the first bucket not started
};

}  // namespace squeezenet::train
