"""Other engines running an .onnx file: ONNX Runtime (npm onnxruntime-node, through node) and OpenCV DNN."""
import os
import shutil
import subprocess

import numpy as np
import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
NODE_MODULES = os.environ.get("SQUEEZENET_NODE_MODULES", os.path.join(ROOT, "bench", "node_modules"))
ORT_RUN = os.path.join(os.path.dirname(__file__), "ort_run.js")


def onnxruntime_logits(model, x, tmp_path):
    """ONNX Runtime's first output for x; skips the test, saying why, when node or the module is missing."""
    if shutil.which("node") is None:
        pytest.skip("ONNX Runtime check skipped: no `node` (apt-get install nodejs)")
    if not os.path.isdir(os.path.join(NODE_MODULES, "onnxruntime-node")):
        pytest.skip(f"ONNX Runtime check skipped: no onnxruntime-node in {NODE_MODULES} "
                    "(npm install --prefix bench --ignore-scripts; scripts/test.sh does it when the registry answers)")
    src, dst = tmp_path / "ort_in.bin", tmp_path / "ort_out.bin"
    np.ascontiguousarray(x, "<f4").tofile(src)
    env = dict(os.environ, NODE_PATH=NODE_MODULES)
    p = subprocess.run(["node", ORT_RUN, str(model), str(src), ",".join(map(str, x.shape)), str(dst)], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, p.stdout
    return np.fromfile(dst, "<f4")


def opencv_logits(model, x):
    cv2 = pytest.importorskip("cv2")
    net = cv2.dnn.readNetFromONNX(str(model))
    net.setInput(np.ascontiguousarray(x, np.float32))
    return net.forward().reshape(-1)
