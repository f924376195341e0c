"""Python threads calling logits at once: on different models (the GIL released, each its own engine) and on a
shared one (calls take turns). Each answer must be what the same call gives alone."""
import threading
import time

import numpy as np

import squeezenet
from conftest import random_input


def run_in_threads(jobs):
    results = [None] * len(jobs)
    errors = []

    def work(i):
        try:
            results[i] = jobs[i]()
        except Exception as e:  # surfaced below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_two_models_in_two_threads(v11_pth):
    path, _ = v11_pth
    models = [squeezenet.load(path, threads=1) for _ in range(2)]
    inputs = [random_input((4, 3, 160, 160), seed=s) for s in (1, 2)]
    expected = [m.logits(x) for m, x in zip(models, inputs)]
    for _ in range(3):
        got = run_in_threads([lambda m=m, x=x: m.logits(x) for m, x in zip(models, inputs)])
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)


def test_threads_sharing_one_model_take_turns(v11_pth):
    path, _ = v11_pth
    model = squeezenet.load(path, threads=1)
    shapes = [(1, 3, 96, 96), (2, 3, 128, 112), (1, 3, 224, 224), (3, 3, 64, 64)]
    inputs = [random_input(s, seed=i) for i, s in enumerate(shapes)]
    expected = [model.logits(x) for x in inputs]
    got = run_in_threads([lambda x=x: model.logits(x) for x in inputs * 2])
    for g, e in zip(got, expected * 2):
        np.testing.assert_array_equal(g, e)



def test_python_runs_while_logits_computes(v11_pth):
    """The GIL is released while the network runs: a Python thread that wakes every millisecond keeps ticking
    during one long logits call. Were the GIL held, it could tick only just before and just after the call."""
    path, _ = v11_pth
    model = squeezenet.load(path, threads=1)
    x = random_input((16, 3, 224, 224))
    model.logits(x)
    ticks, done = [], threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    time.sleep(0.01)
    begin = time.perf_counter()
    model.logits(x)
    end = time.perf_counter()
    done.set()
    t.join()
    inside = sum(begin < tick < end for tick in ticks)
    assert inside >= 10, (inside, end - begin)
