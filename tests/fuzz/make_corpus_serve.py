#!/usr/bin/python3
"""Seed corpora for the server's fuzz targets, from a fixed seed.

    python3 tests/fuzz/make_corpus_serve.py --out build-fuzz/corpus

writes OUT/fuzz_kserve/* (KServe v2 inference request bodies for a model with [N, 3, 4, 4] inputs and 10 classes,
as fuzz_kserve sets it up) and OUT/fuzz_http/* (whole HTTP requests to every route of a server whose model is
"m", squeezenet1_1 with 224x224 inputs: raw and multipart images, KServe JSON, the refusals of bodies by header).
No seed asks for /v1/cam: a heat map takes minutes under the fuzzer's instrumentation.
"""
import argparse
import base64
import io
import json

import numpy as np
from PIL import Image
from seed_corpus import write_seeds

SEED = 1614


def image_bytes(rng, fmt, size):
    rgb = rng.integers(0, 256, (size, size + 3, 3), np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt)
    return buf.getvalue()


def kserve_seeds(rng, side):
    png = base64.b64encode(image_bytes(rng, "PNG", 9)).decode()
    jpg = base64.b64encode(image_bytes(rng, "JPEG", 12)).decode()
    flat = [round(float(v), 3) for v in rng.standard_normal(3 * side * side)]
    nested = np.array(flat).reshape(1, 3, side, side).tolist()
    outputs = [{"name": "logits"}, {"name": "probabilities"}, {"name": "classes", "parameters": {"classification": 3}}]
    fp32 = {"name": "input", "datatype": "FP32", "shape": [1, 3, side, side]}
    return {
        "fp32_flat.json": {"id": "a", "inputs": [dict(fp32, data=flat)]},
        "fp32_nested_outputs.json": {"id": 7, "inputs": [dict(fp32, data=nested)], "outputs": outputs},
        "fp32_batch2.json": {"inputs": [dict(fp32, shape=[2, 3, side, side], data=flat + flat)]},
        "bytes_one.json": {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [1], "data": [png]}]},
        "bytes_two.json": {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [2], "data": [png, jpg]}],
                           "outputs": [{"name": "classes"}]},
        "wrong_datatype.json": {"inputs": [{"name": "input", "datatype": "INT8", "shape": [1], "data": [1]}]},
        "no_inputs.json": {"outputs": [{"name": "logits"}]},
    }


def http(method, path, body=b"", headers=()):
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost"] + list(headers)
    if method == "POST" and not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def multipart(fields):
    boundary = "----fuzzboundary1614"
    body = b""
    for name, filename, data in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"Content-Type: multipart/form-data; boundary={boundary}"


def http_seeds(rng):
    jpg = image_bytes(rng, "JPEG", 20)
    png = image_bytes(rng, "PNG", 16)
    form, form_type = multipart([("note", "", b"hello"), ("image", "cat.jpg", jpg)])
    infer = "/v2/models/m/infer"
    seeds = {f"get_{i}.http": http("GET", p) for i, p in enumerate(
        ["/", "/metrics", "/v1/models", "/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/m",
         "/v2/models/m/ready", "/v2/models/nope", "/nowhere"])}
    seeds.update({
        "classify_raw.http": http("POST", "/v1/classify?top=3", jpg, ["Content-Type: image/jpeg"]),
        "classify_png_model.http": http("POST", "/v1/classify?model=m&top=1000", png),
        "classify_multipart.http": http("POST", "/v1/classify", form, [form_type]),
        "infer_bytes.http": http("POST", infer, json.dumps(kserve_seeds(rng, 224)["bytes_two.json"]).encode(),
                                 ["Content-Type: application/json"]),
        "infer_fp32.http": http("POST", infer, json.dumps({"inputs": [{
            "name": "input", "datatype": "FP32", "shape": [1, 3, 224, 224], "data": [0] * (3 * 224 * 224)}],
            "outputs": [{"name": "classes", "parameters": {"classification": 2}}]}).encode()),
        "chunked.http": http("POST", "/v1/classify", b"4\r\nabcd\r\n0\r\n\r\n", ["Transfer-Encoding: chunked"]),
        "bad_length.http": http("POST", "/v1/classify", b"xx", ["Content-Length: 2x"]),
        "over_limit.http": http("POST", "/v1/classify", b"", ["Content-Length: 99999999999"]),
        "short_body.http": http("POST", "/v1/classify", b"", ["Content-Length: 100"]),
        "keep_alive_two.http": http("GET", "/v2", headers=["Connection: keep-alive"]) + http("GET", "/metrics"),
    })
    return seeds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(SEED)
    corpora = {
        "fuzz_kserve": {n: json.dumps(doc).encode() for n, doc in kserve_seeds(rng, 4).items()},
        "fuzz_http": http_seeds(rng),
    }
    for target, seeds in corpora.items():
        write_seeds(args.out, target, seeds)


if __name__ == "__main__":
    main()
