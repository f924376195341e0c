"""SqueezeNet 1.0 and 1.1, exactly torchvision's, on squeezenet.cpp's fast CPU kernels.

    import squeezenet
    model = squeezenet.load("squeezenet1_1.pth")      # any weights format the library reads
    for p in model.classify("cat.jpg", top=5):
        print(f"{p.score:.3f} {p.name}")

model.logits(x) takes a float32 NCHW numpy array (as squeezenet.preprocess or torchvision's transforms make)
and returns [N, num_classes] logits, with the GIL released while it runs.
"""
from ._core import Error, FinetuneResult, Model, Prediction, __version__, finetune, load, preprocess, save

__all__ = ["Error", "FinetuneResult", "Model", "Prediction", "__version__", "finetune", "load", "preprocess", "save"]
