"""Data-parallel training over MPI: 2 ranks x batch 4, 4 ranks x 2, 2 ranks x 2 with --iter-size 2 and batch 4
with --iter-size 2, 2-rank runs with the sum in small buckets overlapping backward and as one sum after it, each
against 1 process x batch 8; an epoch whose last batch splits unevenly over the ranks;
checkpoints taken up by another number of ranks; a rank killed mid-epoch.

Equality. A step's gradient is the sum of one gradient per image, in the aligned pairwise tree over the images'
index in the step (src/train/pairwise_sum.h). One image's forward and backward are the same bits whatever batch
it sits in (tests/unit/test_pairwise_sum.cpp), so a rank's or micro-batch's power-of-two block of images sums
to exactly the subtree the batch of 8 computes, and the blocks' sums join in the same tree: over 2 ranks one
addition, over 4 a fixed-order sum of our own, since MPI promises no order. So all eight runs end bit for bit
equal after 10 steps, and any resumed run equals the uninterrupted one. Before the tree, a batch of 8 summed left
to right differed from 2 x 4 by rounding (3.6e-5 of the change after 1 step), which flipped ReLUs and near-tied
max-pool windows and grew to 2-4 % after 10 steps; a test allowing a bound could not tell that from a small bug.
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import time

import numpy as np
import pytest

CLI = os.environ.get("SQUEEZENET_CLI", "build/squeezenet")
DATA = os.environ.get("SQUEEZENET_DATA", "../shared/data")
HYMENOPTERA = os.path.join(DATA, "hymenoptera_data")
WEIGHTS = os.path.join(DATA, "pnnx-ncnn-torchvision-squeezenet1.1-fp16", "squeezenet_v1.1.ncnn.param")
MPIRUN = [os.environ.get("SQUEEZENET_MPIRUN", "mpirun"), "--allow-run-as-root", "--oversubscribe", "-np", "2"]


def finetune(out, ranks=1, batch=4, iter_size=1, steps=10, resume=None, extra=(), data=HYMENOPTERA):
    """A short all-layer fine-tune; returns its exit code and output."""
    cmd = [CLI, "finetune", "--weights", WEIGHTS, "--train", os.path.join(data, "train"),
           "--val", os.path.join(data, "val"), "--classes", "2", "--epochs", "2", "--max-steps", str(steps),
           "--lr", "0.01", "--momentum", "0.9", "--seed", "5", "--threads", "1", "--batch-size", str(batch),
           "--iter-size", str(iter_size), "--features-dropout", "0.2", "--quiet", "--out", str(out), *extra]
    if resume:
        cmd += ["--resume", str(resume)]
    if ranks > 1:
        cmd = MPIRUN[:-1] + [str(ranks)] + cmd
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    return p.returncode, p.stdout


def stopped_run(out, **kw):
    """A run that --max-steps stops mid-epoch (exit 130, 'stopped early'); returns its checkpoint."""
    code, log = finetune(out, **kw)
    assert code == 130 and "stopped early" in log, log
    return os.path.join(str(out), "checkpoint.safetensors")


def read_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        body = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", (name, info["dtype"])
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(body[begin:end], dtype=np.float32).reshape(info["shape"])
    return tensors, header.get("__metadata__", {})


def parameters(path):
    tensors, meta = read_safetensors(path)
    return {k: v for k, v in tensors.items() if not k.startswith("momentum.")}, meta


def assert_identical(a_path, b_path):
    a, meta_a = parameters(a_path)
    b, meta_b = parameters(b_path)
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name]), f"{name}: max |diff| {np.abs(a[name] - b[name]).max()}"
    assert meta_a["train.step"] == meta_b["train.step"]


def start_weights(base):
    """The pretrained weights the runs start from (the new classifier aside)."""
    path = base / "start.safetensors"
    if not path.exists():
        p = subprocess.run([CLI, "convert", WEIGHTS, str(path)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
    return parameters(path)[0]


def assert_moved(path, start):
    """Every parameter changed in training: equal runs that learn nothing would prove nothing."""
    params, _ = parameters(path)
    for name, value in params.items():
        if name in start and start[name].shape == value.shape:  # the new classifier has another shape
            assert not np.array_equal(value, start[name]), f"{name} did not change"


SPLITS = {  # the ways to take steps of 8 images: ranks, batch per rank, --iter-size, more options
    "2 ranks x 4": (2, 4, 1, ()),
    "4 ranks x 2": (4, 2, 1, ()),
    "1 x 4, iter-size 2": (1, 4, 2, ()),
    "2 ranks x 2, iter-size 2": (2, 2, 2, ()),
    # The sum over the ranks in buckets of 40 kB, 9 a micro-batch (a Fire's each, the classifier's with the
    # last Fire's, the stem's), each started while backward goes on; and as one sum after backward.
    "2 ranks x 4, small buckets": (2, 4, 1, ("--bucket-mb", "0.04")),
    "2 ranks x 2, iter-size 2, small buckets": (2, 2, 2, ("--bucket-mb", "0.04")),
    "2 ranks x 4, one sum after backward": (2, 4, 1, ("--bucket-mb", "0")),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """10 steps of 8 images, taken by one batch of 8 and by each split."""
    base = tmp_path_factory.mktemp("distributed")
    found = {"batch8": stopped_run(base / "batch8", batch=8), "base": base, "start": start_weights(base)}
    for i, (name, (ranks, batch, iter_size, extra)) in enumerate(SPLITS.items()):
        found[name] = stopped_run(base / f"split{i}", ranks=ranks, batch=batch, iter_size=iter_size, extra=extra)
    return found


def test_one_batch_of_eight_moved_every_parameter(runs):
    assert_moved(runs["batch8"], runs["start"])


@pytest.mark.parametrize("split", SPLITS)
def test_split_equals_one_batch_of_eight_bit_for_bit(runs, split):
    assert_identical(runs[split], runs["batch8"])


def test_checkpoints_cross_between_two_ranks_and_one(runs):
    base = runs["base"]
    # 10 steps on 2 ranks then 5 on one process, 10 on one process then 5 on 2 ranks, 15 on 2 ranks at once.
    one_after_two = stopped_run(base / "one_after_two", batch=4, iter_size=2, steps=5, resume=runs["2 ranks x 4"])
    two_after_one = stopped_run(base / "two_after_one", ranks=2, batch=4, steps=5, resume=runs["1 x 4, iter-size 2"])
    straight = stopped_run(base / "straight", ranks=2, batch=4, steps=15)
    assert_identical(one_after_two, straight)
    assert_identical(two_after_one, straight)
    # And a batch of 8 takes up the 2-rank checkpoint (position 80 images is 10 of its batches).
    eight_after_two = stopped_run(base / "eight_after_two", batch=8, steps=5, resume=runs["2 ranks x 4"])
    assert_identical(eight_after_two, straight)


def small_folder(base, images_per_class):
    """An ImageFolder of copies of the first hymenoptera training images of each class (the folder scan takes
    regular files only)."""
    for name, count in images_per_class.items():
        src = os.path.join(HYMENOPTERA, "train", name)
        os.makedirs(base / name)
        for f in sorted(os.listdir(src))[:count]:
            shutil.copy(os.path.join(src, f), base / name / f)
    return base


def test_an_uneven_last_batch_is_bit_identical_too(tmp_path):
    # 15 images: the epoch's second batch of 8 holds 7, which 2 ranks x 4 split 4 + 3. Each image's gradient
    # is divided by the step's 7 images itself, not by 3 times the inexact 7/3.
    small_folder(tmp_path / "data" / "train", {"ants": 8, "bees": 7})
    small_folder(tmp_path / "data" / "val", {"ants": 2, "bees": 2})
    for name, ranks, batch in (("one", 1, 8), ("two", 2, 4)):
        code, log = finetune(tmp_path / name, ranks=ranks, batch=batch, steps=0, data=tmp_path / "data")
        assert code == 0, log
    assert_identical(tmp_path / "one" / "checkpoint.safetensors", tmp_path / "two" / "checkpoint.safetensors")


def ranks_of(mpirun_pid):
    """The rank number -> pid of the processes mpirun started."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != mpirun_pid:
                continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
            if b"OMPI_COMM_WORLD_RANK" in env:
                found[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(entry)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return found


@pytest.mark.parametrize("victim", [0, 1])
def test_a_killed_rank_ends_the_run_within_seconds(tmp_path, victim):
    first = stopped_run(tmp_path / "first", ranks=2, batch=4, steps=2)
    cmd = MPIRUN + [CLI, "finetune", "--weights", WEIGHTS, "--train", os.path.join(HYMENOPTERA, "train"),
                    "--val", os.path.join(HYMENOPTERA, "val"), "--classes", "2", "--epochs", "2", "--seed", "5",
                    "--threads", "1", "--batch-size", "4", "--features-dropout", "0.2", "--quiet",
                    "--resume", first, "--out", str(tmp_path / "first")]
    job = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(ranks_of(job.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # well into the epoch: steps and sums under way
        pids = ranks_of(job.pid)
        assert len(pids) == 2 and job.poll() is None, job.communicate()[0]
        os.kill(pids[victim], signal.SIGKILL)
        killed = time.monotonic()
        log, _ = job.communicate(timeout=30)
        waited = time.monotonic() - killed
    finally:
        if job.poll() is None:
            job.kill()
    assert job.returncode != 0, log
    assert waited < 10, f"the job took {waited:.1f} s to end"
    survivor = 1 - victim
    assert f"rank {survivor} of 2" in log and "another rank of the run ended" in log, log
    # The checkpoint the killed run started from is whole, and a run takes it up.
    code, resumed = finetune(tmp_path / "after", batch=8, steps=1, resume=first)
    assert code == 130 and "stopped early" in resumed, resumed
