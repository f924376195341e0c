"""finetune on a small slice of hymenoptera_data (ants vs bees): a real run, end to end, with progress."""
import os

import pytest

import squeezenet
from conftest import DATA, TORCHVISION_11


@pytest.fixture
def ants_and_bees(tmp_path):
    source = os.path.join(DATA, "hymenoptera_data")
    for split, count in (("train", 6), ("val", 3)):
        for label in ("ants", "bees"):
            folder = tmp_path / "data" / split / label
            folder.mkdir(parents=True)
            for name in sorted(os.listdir(os.path.join(source, split, label)))[:count]:
                os.symlink(os.path.join(source, split, label, name), folder / name)
    return tmp_path / "data"


def test_finetune_reports_progress_and_returns_the_model(ants_and_bees, tmp_path):
    seen = []
    result = squeezenet.finetune(TORCHVISION_11, ants_and_bees, tmp_path / "run", epochs=2, batch_size=4,
                                 threads=1, workers=1, progress=seen.append)
    assert [(p["epoch"], p["batch"], p["epoch_done"]) for p in seen] == [
        (1, 1, False), (1, 2, False), (1, 3, False), (1, 3, True),
        (2, 1, False), (2, 2, False), (2, 3, False), (2, 3, True)]
    assert all(p["batches"] == 3 and p["epochs"] == 2 and p["lr"] == pytest.approx(0.001) for p in seen)
    last = seen[-1]
    assert 0 <= last["val_acc"] <= 1 and last["val_loss"] > 0 and last["loss"] > 0
    assert result.best_epoch in (1, 2) and not result.interrupted
    assert result.best_val_acc == max(p["val_acc"] for p in seen if p["epoch_done"])
    assert (result.model.num_classes, result.model.preset) == (2, "torchvision")
    best = squeezenet.load(tmp_path / "run" / "best.safetensors")
    assert best.num_classes == 2
    assert len(result.model.classify(os.path.join(ants_and_bees, "val", "ants", os.listdir(ants_and_bees / "val" / "ants")[0]))) == 2


def test_finetune_errors(ants_and_bees, tmp_path):
    with pytest.raises(squeezenet.Error, match="freeze takes 'features' or 'none'"):
        squeezenet.finetune(TORCHVISION_11, ants_and_bees, tmp_path / "run", freeze="all")
    with pytest.raises(squeezenet.Error, match="missing"):
        squeezenet.finetune(TORCHVISION_11, tmp_path / "missing", tmp_path / "run")

    def stop(progress):
        raise KeyboardInterrupt("enough")

    with pytest.raises(KeyboardInterrupt, match="enough"):
        squeezenet.finetune(TORCHVISION_11, ants_and_bees, tmp_path / "run", epochs=1, batch_size=4, threads=1,
                            workers=1, progress=stop)
