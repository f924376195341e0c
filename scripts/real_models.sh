# Sourced by the accuracy scripts: every real weights file in ../shared/data, as "name|path|preset", with the
# preprocessing preset each was trained with. Needs DATA (the shared data folder) set.
models=(
  "deep-compression-v1.0|$DATA/deep-compression-squeezenet-v1.0/compressed_SqueezeNet.net|caffe"
  "torchvision-1.1-fp16|$DATA/pnnx-ncnn-torchvision-squeezenet1.1-fp16/squeezenet_v1.1.ncnn.param|torchvision"
  "onnx-zoo-1.1|$DATA/webnn-squeezenet1.1-nchw-npy/weights|torchvision"
  "caffe-1.1-fp16|$DATA/ncnn-caffe-squeezenet1.1-fp16/squeezenet_v1.1.param|caffe"
)
