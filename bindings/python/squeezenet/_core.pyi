import os
from typing import Callable, Literal, Mapping, Sequence, overload

import numpy as np
import numpy.typing as npt
from PIL.Image import Image as PILImage

__version__: str

ImageLike = str | os.PathLike[str] | bytes | npt.NDArray[np.uint8] | PILImage
PresetName = Literal["torchvision", "caffe", "tflite"]

class Error(RuntimeError): ...

class Prediction:
    @property
    def index(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def score(self) -> float: ...
    def __iter__(self): ...

class Model:
    @property
    def arch(self) -> Literal["squeezenet1_0", "squeezenet1_1"]: ...
    @property
    def num_classes(self) -> int: ...
    @property
    def preset(self) -> PresetName: ...
    @overload
    def classify(self, image: ImageLike, top: int = 5) -> list[Prediction]: ...
    @overload
    def classify(self, image: Sequence[ImageLike], top: int = 5) -> list[list[Prediction]]: ...
    def logits(self, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]: ...
    def cam(self, image: ImageLike, class_index: int | None = None) -> npt.NDArray[np.float32]: ...
    def state_dict(self) -> dict[str, npt.NDArray[np.float32]]: ...

class FinetuneResult:
    @property
    def model(self) -> Model: ...
    @property
    def best_val_acc(self) -> float: ...
    @property
    def best_epoch(self) -> int: ...
    @property
    def interrupted(self) -> bool: ...
    @property
    def skipped_images(self) -> int: ...

def load(path: str | os.PathLike[str], preset: PresetName | None = None, threads: int = 0) -> Model: ...
def preprocess(image: ImageLike, preset: PresetName = "torchvision") -> npt.NDArray[np.float32]: ...
def save(
    weights: Model | Mapping[str, npt.ArrayLike], path: str | os.PathLike[str], preset: PresetName | None = None
) -> None: ...
def finetune(
    weights: str | os.PathLike[str],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    classes: int | None = None,
    epochs: int = 15,
    batch_size: int = 8,
    lr: float = 0.001,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    freeze: Literal["features", "none"] = "features",
    preset: PresetName | None = None,
    seed: int = 0,
    workers: int = 2,
    threads: int = 0,
    max_steps: int = 0,
    progress: Callable[[dict[str, float | int | bool]], object] | None = None,
) -> FinetuneResult: ...
