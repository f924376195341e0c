"""Data-parallel training over MPI: 2 ranks x batch 4 against 1 process x batch 8 and against batch 4 with
--iter-size 2, checkpoints taken up by another number of ranks, and a rank killed mid-epoch.

Bounds. Both ranks' batches of 4, summed by MPI_Allreduce (one addition for 2 ranks), are the same floats as
one process adding its two micro-batches of 4: so 2 x 4 and 4 with --iter-size 2 are bit-identical. One batch of
8 sums the 8 images' weight gradients in another order (8 terms in one pass, not 4 + 4): after one step the
weights' change differs by at most 3.6e-5 of itself (measured), rounding. Later steps see slightly different
weights, so pre-activations near 0 and near-tied max-pool windows fall the other way for a few pixels: each
such flip changes a gradient by a whole term, not a rounding, and the difference grows by about 10x a step
for the first steps (measured 3.4e-4 after 2 steps, 5.8e-3 after 3, 2-4 % of the change after 10). The bounds:
after 1 step 1e-3 of the change; after 10 steps 15 % of the change of every `features` tensor and 3 % of the
size of the new classifier's tensors (measured 0.5 %). A wrong gradient scale, a batch missed or seen twice
changes the update by 50 % or more, and fails them.
"""
import json
import os
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
FIRST_STEP_BOUND, TEN_STEPS_BOUND, CLASSIFIER_BOUND = 1e-3, 0.15, 0.03


def finetune(out, ranks=1, batch=4, iter_size=1, steps=10, resume=None, extra=()):
    """A short all-layer fine-tune; returns its exit code and output."""
    cmd = [CLI, "finetune", "--weights", WEIGHTS, "--train", os.path.join(HYMENOPTERA, "train"),
           "--val", os.path.join(HYMENOPTERA, "val"), "--classes", "2", "--epochs", "2", "--max-steps", str(steps),
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


def assert_within_bound(a_path, b_path, start, bound):
    """Every `features` tensor of the two runs differs by at most `bound` of how far it moved from `start`, and
    the new classifier's by CLASSIFIER_BOUND of its size. Returns the worst `features` ratio."""
    a, _ = parameters(a_path)
    b, _ = parameters(b_path)
    worst = 0.0
    for name in a:
        diff = float(np.abs(a[name] - b[name]).max())
        if name.startswith("classifier."):
            assert diff <= CLASSIFIER_BOUND * float(np.abs(a[name]).max()), name
            continue
        moved = float(np.abs(a[name] - start[name]).max())
        assert moved > 0, f"{name} did not change"
        worst = max(worst, diff / moved)
        assert diff <= bound * moved, f"{name}: differs by {diff:.3g}, {diff / moved:.3g} of its change {moved:.3g}"
    return worst


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The three ways to take 10 steps of 8 images each."""
    base = tmp_path_factory.mktemp("distributed")
    return {
        "ranks": stopped_run(base / "ranks", ranks=2, batch=4),
        "iter": stopped_run(base / "iter", batch=4, iter_size=2),
        "batch8": stopped_run(base / "batch8", batch=8),
        "base": base,
        "start": start_weights(base),
    }


def test_two_ranks_equal_iter_size_bit_for_bit(runs):
    assert_identical(runs["ranks"], runs["iter"])


def test_two_ranks_equal_one_batch_of_eight_within_bound(runs):
    worst = assert_within_bound(runs["ranks"], runs["batch8"], runs["start"], TEN_STEPS_BOUND)
    print(f"2 ranks x 4 against 1 x 8 after 10 steps: {worst:.3g} of the change")


def test_first_step_differs_by_rounding_only(runs):
    base = runs["base"]
    ranks = stopped_run(base / "ranks1", ranks=2, batch=4, steps=1)
    batch8 = stopped_run(base / "batch81", batch=8, steps=1)
    worst = assert_within_bound(ranks, batch8, runs["start"], FIRST_STEP_BOUND)
    print(f"2 ranks x 4 against 1 x 8 after 1 step: {worst:.3g} of the change")


def test_checkpoints_cross_between_two_ranks_and_one(runs):
    base = runs["base"]
    # 10 steps on 2 ranks then 5 on one process, 10 on one process then 5 on 2 ranks, 15 on 2 ranks at once.
    one_after_two = stopped_run(base / "one_after_two", batch=4, iter_size=2, steps=5, resume=runs["ranks"])
    two_after_one = stopped_run(base / "two_after_one", ranks=2, batch=4, steps=5, resume=runs["iter"])
    straight = stopped_run(base / "straight", ranks=2, batch=4, steps=15)
    assert_identical(one_after_two, straight)
    assert_identical(two_after_one, straight)
    # And a batch of 8 takes up the 2-rank checkpoint (position 80 images is 10 of its batches).
    eight_after_two = stopped_run(base / "eight_after_two", batch=8, steps=5, resume=runs["ranks"])
    assert_within_bound(eight_after_two, straight, runs["start"], TEN_STEPS_BOUND)


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
