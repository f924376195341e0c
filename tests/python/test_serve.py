"""`squeezenet serve` on a loopback ephemeral port: answers equal `squeezenet classify` / `predict`, the KServe v2
shapes (client written from the protocol document only, with urllib), hostile requests, overload, SIGTERM."""
import base64
import concurrent.futures
import json
import os
import re
import resource
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from conftest import CLI, DATA

WEIGHTS = os.path.join(DATA, "pnnx-ncnn-torchvision-squeezenet1.1-fp16", "squeezenet_v1.1.ncnn.param")
IMAGES = [os.path.join(DATA, "imagenet-sample-1000", n) for n in (
    "n02099601_golden_retriever.JPEG", "n01531178_goldfinch.JPEG", "n01440764_tench.JPEG",
    "n04037443_racer.JPEG", "n07753592_banana.JPEG", "n02123045_tabby.JPEG")]


class Server:
    def __init__(self, *args):
        self.proc = subprocess.Popen([CLI, "serve", "--weights", f"sq11={WEIGHTS}", "--host", "127.0.0.1",
                                      "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        assert m, f"server did not start: {line}{self.proc.stderr.read() if self.proc.poll() is not None else ''}"
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def request(self, path, body=None, headers=None, method=None):
        """(status, headers, body bytes) of one request; HTTP errors are answers too."""
        req = urllib.request.Request(self.url + path, data=body, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def json(self, path, payload=None, body=None, headers=None):
        if payload is not None:
            body = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json"}
        status, _, data = self.request(path, body, headers)
        return status, json.loads(data)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, out, err


@pytest.fixture(scope="module")
def server():
    assert os.path.exists(CLI), f"build the squeezenet command first ({CLI})"
    s = Server("--threads", "2")
    yield s
    code, out, _ = s.stop()
    assert code == 0
    # The access log: one JSON object per request.
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines and all({"method", "path", "status", "ms"} <= set(line) for line in lines)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def cli_top(images, k=5):
    p = subprocess.run([CLI, "classify", "--json", "-w", WEIGHTS, "-k", str(k), *images],
                       stdout=subprocess.PIPE, text=True, check=True)
    return {e["image"]: e["top"] for e in json.loads(p.stdout)}


def assert_same_top(ours, theirs):
    assert [(p["index"], p["name"]) for p in ours] == [(p["index"], p["name"]) for p in theirs]
    for a, b in zip(ours, theirs):
        assert abs(a["probability"] - b["probability"]) < 1e-5


def test_classify_equals_cli_one_at_a_time_and_batched(server):
    expected = cli_top(IMAGES, 5)
    for path in IMAGES:
        status, body = server.json("/v1/classify?top=5", body=read(path))
        assert status == 200
        assert body["preset"] == "torchvision" and body["model"] == "sq11"
        assert {"queue", "decode", "inference", "total"} <= set(body["timings_ms"])
        assert_same_top(body["top"], expected[path])
    # Concurrent requests are batched together; the answers must not change.
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda p: (p, server.json("/v1/classify", body=read(p))), IMAGES * 4))
    for path, (status, body) in answers:
        assert status == 200
        assert_same_top(body["top"], expected[path])
    assert max(body["batch_size"] for _, (_, body) in answers) > 1


def multipart(filename, data):
    boundary = "squeezenetboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_multipart_and_top_k(server):
    body, headers = multipart("goldfinch.jpg", read(IMAGES[1]))
    status, answer = server.json("/v1/classify?top=3", body=body, headers=headers)
    assert status == 200 and len(answer["top"]) == 3 and answer["top"][0]["name"] == "goldfinch"
    assert server.json("/v1/classify?top=0", body=read(IMAGES[1]))[0] == 400
    assert server.json("/v1/classify?model=nope", body=read(IMAGES[1]))[0] == 404


def test_cam_is_a_png_of_the_top_class(server):
    status, headers, png = server.request("/v1/cam", read(IMAGES[0]))
    assert status == 200 and headers["Content-Type"] == "image/png" and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert headers["X-Class-Name"] == "golden retriever"


def test_undecodable_image_gives_the_cli_message(server, tmp_path):
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(read(IMAGES[0])[:3000])
    p = subprocess.run([CLI, "classify", "-w", WEIGHTS, str(truncated)], stderr=subprocess.PIPE, text=True)
    assert p.returncode == 1
    cli_message = p.stderr.strip().splitlines()[0].removeprefix("squeezenet: error: ")
    body, headers = multipart(str(truncated), truncated.read_bytes())
    status, answer = server.json("/v1/classify", body=body, headers=headers)
    assert status == 400 and answer["error"] == cli_message


def lying_png():
    import struct
    import zlib
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 64


def raw_http(port, data, wait=10):
    """Sends raw bytes, returns what the server answers before closing or `wait` seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(data)
        got = b""
        try:
            while chunk := s.recv(65536):
                got += chunk
                if b"\r\n\r\n" in got:
                    break
        except socket.timeout:
            pass
        return got


def test_hostile_requests_get_4xx(server):
    for body in (read(IMAGES[2])[:1000], lying_png(), b"", b"GIF89a" + b"\x00" * 100):
        status, answer = server.json("/v1/classify", body=body)
        assert status == 400 and "error" in answer
    # 1 GB announced, nothing sent: refused from the headers at once.
    t0 = time.monotonic()
    head = raw_http(server.port, b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and time.monotonic() - t0 < 3
    chunked = raw_http(server.port, b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert chunked.startswith(b"HTTP/1.1 411")
    for garbage in (b"{not json", b"[1,2,3]", b'{"inputs": 7}', b'{"inputs": [{"name": "input"}]}'):
        status, answer = server.json("/v2/models/sq11/infer", body=garbage, headers={"Content-Type": "application/json"})
        assert status == 400 and answer["error"]
    status, answer = server.json("/v2/models/sq11/infer", {"inputs": [
        {"name": "input", "datatype": "FP32", "shape": [1, 3, 224, 224], "data": [0.0] * 10}]})
    assert status == 400 and "holds 10 numbers" in answer["error"]
    assert server.json("/v2/models/nope/infer", {"inputs": []})[0] == 404
    assert server.json("/no/such/thing")[0] == 404
    # The server is still well.
    assert server.json("/v1/classify", body=read(IMAGES[0]))[0] == 200


def test_kserve_v2_health_and_metadata(server):
    assert server.request("/v2/health/live")[0] == 200
    assert server.request("/v2/health/ready")[0] == 200
    assert server.request("/v2/models/sq11/ready")[0] == 200
    status, meta = server.json("/v2/models/sq11")
    assert status == 200 and meta["name"] == "sq11"
    assert isinstance(meta["versions"], list) and isinstance(meta["platform"], str)
    for tensor in meta["inputs"] + meta["outputs"]:
        assert isinstance(tensor["name"], str) and tensor["datatype"] in ("FP32", "BYTES")
        assert all(isinstance(d, int) for d in tensor["shape"])
    assert {"name": "input", "datatype": "FP32", "shape": [-1, 3, 224, 224]} in meta["inputs"]


def test_kserve_v2_infer_fp32_equals_predict(server, tmp_path):
    x = np.random.default_rng(7).standard_normal((2, 3, 224, 224)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    subprocess.run([CLI, "predict", "-w", WEIGHTS, "--input", str(tmp_path / "x.npy"), "--shape", "2,3,224,224",
                    "-o", str(tmp_path / "logits.bin")], check=True, stdout=subprocess.DEVNULL)
    expected = np.fromfile(tmp_path / "logits.bin", dtype=np.float32).reshape(2, 1000)
    # Nested arrays, as the protocol allows, and an id to echo.
    status, answer = server.json("/v2/models/sq11/infer", {
        "id": "req-1", "inputs": [{"name": "input", "shape": [2, 3, 224, 224], "datatype": "FP32",
                                   "data": x.tolist()}]})
    assert status == 200 and answer["model_name"] == "sq11" and answer["id"] == "req-1"
    (out,) = answer["outputs"]
    assert out["name"] == "logits" and out["datatype"] == "FP32" and out["shape"] == [2, 1000]
    np.testing.assert_allclose(np.array(out["data"], dtype=np.float32).reshape(2, 1000), expected, atol=1e-4)


def test_kserve_v2_infer_bytes_images(server):
    expected = cli_top(IMAGES[:2], 3)
    status, answer = server.json("/v2/models/sq11/infer", {
        "inputs": [{"name": "image", "shape": [2], "datatype": "BYTES",
                    "data": [base64.b64encode(read(p)).decode() for p in IMAGES[:2]]}],
        "outputs": [{"name": "classes", "parameters": {"classification": 3}}, {"name": "probabilities"}]})
    assert status == 200
    classes, probs = answer["outputs"]
    assert classes["datatype"] == "BYTES" and classes["shape"] == [2, 3]
    for i, path in enumerate(IMAGES[:2]):
        for j, p in enumerate(expected[path]):
            score, index, label = classes["data"][3 * i + j].split(":", 2)
            assert (int(index), label) == (p["index"], p["name"]) and abs(float(score) - p["probability"]) < 1e-5
    assert probs["shape"] == [2, 1000] and abs(sum(probs["data"][:1000]) - 1) < 1e-4


def test_metrics(server):
    server.json("/v1/classify", body=read(IMAGES[0]))
    status, _, text = server.request("/metrics")
    text = text.decode()
    assert status == 200
    assert re.search(r'squeezenet_requests_total\{endpoint="/v1/classify",code="200"\} [1-9]', text)
    for name in ("request_duration_seconds", "queue_duration_seconds", "decode_duration_seconds",
                 "inference_duration_seconds", "batch_size"):
        assert f"squeezenet_{name}_bucket{{" in text
    assert 'squeezenet_model_load_seconds{model="sq11"}' in text
    assert "squeezenet_in_flight_requests 1" in text  # this very request


def test_full_queue_answers_503_with_retry_after():
    s = Server("--threads", "1", "--queue", "1", "--max-batch", "1", "--no-access-log")
    try:
        data = read(IMAGES[0])
        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(lambda _: s.request("/v1/classify", data), range(48)))
        codes = [a[0] for a in answers]
        assert set(codes) <= {200, 503} and 200 in codes and 503 in codes
        assert all(h["Retry-After"] == "1" for c, h, _ in answers if c == 503)
    finally:
        assert s.stop()[0] == 0


def flat_png(side):
    """A real side x side RGB PNG of one colour: a few hundred KB that decode to 3 * side**2 bytes."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = (b"\x00" + b"\x80" * (3 * side)) * side
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b""))


def test_running_out_of_memory_answers_503_and_serving_goes_on():
    # A real allocation failure: the running server's address space is capped a little above what it uses, then
    # sent an image within every input limit whose pixels need more than that.
    s = Server("--threads", "1", "--no-access-log")
    try:
        maps = read(f"/proc/{s.proc.pid}/maps")
        if b"libasan" in maps or b"libtsan" in maps:
            pytest.skip("a sanitizer's operator new reports running out of memory as a fatal error, not bad_alloc")
        good = read(IMAGES[1])
        assert s.request("/v1/classify", good)[0] == 200  # every lazy allocation of a request is made
        with open(f"/proc/{s.proc.pid}/status") as f:
            vm_kb = int(re.search(r"VmSize:\s+(\d+) kB", f.read()).group(1))
        _, hard = resource.prlimit(s.proc.pid, resource.RLIMIT_AS)
        resource.prlimit(s.proc.pid, resource.RLIMIT_AS, (vm_kb * 1024 + (48 << 20), hard))
        big = flat_png(6000)  # 36 megapixels, under the 40 allowed: 108 MB of RGB
        status, headers, body = s.request("/v1/classify", big)
        assert status == 503, body
        assert json.loads(body) == {"error": "out of memory while serving this request; try again later"}
        assert headers["Retry-After"] == "1"
        status, _, body = s.request("/v1/classify?top=1", good)
        assert status == 200 and json.loads(body)["top"][0]["name"] == cli_top([IMAGES[1]], 1)[IMAGES[1]][0]["name"]
    finally:
        assert s.stop()[0] == 0


def test_sigterm_finishes_requests_in_flight():
    # A long batching delay keeps the requests queued when the signal comes.
    s = Server("--threads", "2", "--max-delay-ms", "1000", "--max-batch", "64", "--no-access-log")
    data = read(IMAGES[0])
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(s.request, "/v1/classify", data) for _ in range(8)]
        # Signal once all eight are in (the ninth in flight is this /metrics request).
        while "squeezenet_in_flight_requests 9" not in s.request("/metrics")[2].decode():
            time.sleep(0.02)
        s.proc.send_signal(signal.SIGTERM)
        codes = [f.result()[0] for f in futures]
    assert codes == [200] * 8
    assert s.proc.wait(timeout=20) == 0


def test_slow_client_is_dropped_and_others_are_served():
    s = Server("--threads", "2", "--timeout-s", "1", "--no-access-log")
    try:
        with socket.create_connection(("127.0.0.1", s.port)) as slow:
            slow.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
            assert s.request("/v1/classify", read(IMAGES[0]))[0] == 200
            slow.settimeout(10)
            t0 = time.monotonic()
            slow.recv(65536)  # the server gives up on the body and closes
            assert time.monotonic() - t0 < 5
    finally:
        assert s.stop()[0] == 0


def dribble(port, data, every):
    """Sends `data` a byte every `every` seconds until the server answers or closes: (seconds, what it answered)."""
    import select
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        try:
            for b in data:
                if select.select([s], [], [], 0)[0]:
                    break
                s.sendall(bytes([b]))
                time.sleep(every)
            else:
                return None, b""  # all sent: the server never gave up
            return time.monotonic() - t0, s.recv(64)
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - t0, b""


def test_slowloris_is_dropped_at_the_read_deadline():
    # Each byte comes well within --timeout-s; only the total deadline can end these.
    s = Server("--threads", "2", "--http-threads", "4", "--timeout-s", "10", "--read-deadline-s", "2",
               "--no-access-log")
    try:
        head = b"POST /v1/classify HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
        slow_body = b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n" + b"b" * 300
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            # Eight slow clients on four HTTP threads: they would hold all of them.
            slow = [pool.submit(dribble, s.port, data, 0.1) for data in [head] * 4 + [slow_body] * 4]
            time.sleep(3)
            assert s.request("/v1/classify", read(IMAGES[0]))[0] == 200  # served while they dribble
            answers = [f.result() for f in slow]
        assert all(t is not None and t < 10 for t, _ in answers), answers
        # Answered before the close: 408 while the request line was late, 400 when the headers or the body were.
        assert all(a[:10] == b"HTTP/1.1 4" for _, a in answers), answers
    finally:
        assert s.stop()[0] == 0


@pytest.mark.parametrize("precision", ["bf16", "int8"])
def test_precision_answers_as_classify_does(precision):
    p = subprocess.run([CLI, "classify", "--json", "-w", WEIGHTS, "-k", "5", "--precision", precision, *IMAGES],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0 and "AVX512-BF16" in p.stderr:
        pytest.skip(p.stderr.strip())
    expected = {e["image"]: e["top"] for e in json.loads(p.stdout)}
    s = Server("--threads", "2", "--precision", precision, "--no-access-log")
    try:
        with concurrent.futures.ThreadPoolExecutor(12) as pool:  # alone and batched
            answers = list(pool.map(lambda p: (p, s.json("/v1/classify", body=read(p))), IMAGES * 2))
        for path, (status, body) in answers:
            assert status == 200
            assert_same_top(body["top"], expected[path])
    finally:
        assert s.stop()[0] == 0


def test_unknown_precision_is_one_line_and_status_1():
    p = subprocess.run([CLI, "serve", "--weights", WEIGHTS, "--port", "0", "--precision", "fp8"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and "fp8" in p.stderr
