#!/usr/bin/env python3
"""Mixed load on a running `squeezenet serve`: CLIENTS threads for SECONDS, one request in ten hostile (truncated
JPEG, PNG header lying about its size, 1 GB Content-Length, garbage JSON, and, beside them, slowloris clients sending a byte every half second).
Checks every good answer (HTTP 200 naming the image's class) and that every hostile request is answered 4xx or
dropped by the server; prints counts, throughput and the server's peak RSS. Exit status 1 on any failure."""
import argparse
import http.client
import json
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse
import zlib


def lying_png():
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk + b"\x00" * 64


def post(host, port, path, body, content_type="application/octet-stream"):
    c = http.client.HTTPConnection(host, port, timeout=60)
    try:
        c.request("POST", path, body=body, headers={"Content-Type": content_type})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def raw(host, port, data, slow=False):
    """Status code the server answers to raw bytes, or 0 when it closes without answering."""
    with socket.create_connection((host, port), timeout=60) as s:
        if slow:
            for b in data:
                s.sendall(bytes([b]))
                time.sleep(0.5)
        else:
            s.sendall(data)
        head = s.recv(64)
        return int(head.split()[1]) if head.startswith(b"HTTP/1.1 ") else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, required=True, help="the server's process id, for its peak RSS")
    ap.add_argument("--image", required=True, help="a JPEG the server classifies; its top-1 is the expected answer")
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--slowloris", type=int, default=4, help="extra clients sending a byte every half second")
    args = ap.parse_args()
    u = urllib.parse.urlparse(args.url)
    host, port = u.hostname, u.port
    good = open(args.image, "rb").read()
    status, body = post(host, port, "/v1/classify", good)
    expected = json.loads(body)["top"][0]["name"]
    hostile = [
        ("truncated JPEG", lambda: post(host, port, "/v1/classify", good[: len(good) // 3])[0]),
        ("lying PNG header", lambda: post(host, port, "/v1/classify", lying_png())[0]),
        ("garbage JSON", lambda: post(host, port, "/v2/models/sq11/infer", b'{"inputs": [{"na', "application/json")[0]),
        ("1 GB Content-Length",
         lambda: raw(host, port, b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n")),
    ]
    slowloris = ("slowloris", lambda: raw(host, port, b"POST /v1/classify HTTP/1.1\r\nHost: x\r\n"
                                          b"Content-Length: 50000\r\n\r\n" + b"x" * 16, slow=True))
    lock = threading.Lock()
    counts = {"good ok": 0, "good wrong": 0, "good failed": 0, "hostile 4xx": 0, "hostile dropped": 0,
              "hostile other": 0}
    kinds = {name: 0 for name, _ in hostile + [slowloris]}
    failures = []
    end = time.monotonic() + args.seconds

    def client(seed):
        rng = random.Random(seed)
        while time.monotonic() < end:
            if seed < 0 or rng.random() < 0.1:
                name, send = slowloris if seed < 0 else rng.choice(hostile)
                try:
                    code = send()
                except OSError:
                    code = 0  # the server closed the connection: a slow or oversized client dropped
                key = "hostile 4xx" if 400 <= code < 500 else "hostile dropped" if code == 0 else "hostile other"
                with lock:
                    counts[key] += 1
                    kinds[name] += 1
                    if key == "hostile other":
                        failures.append(f"{name}: HTTP {code}")
            else:
                try:
                    code, body = post(host, port, "/v1/classify", good)
                    ok = code == 200 and json.loads(body)["top"][0]["name"] == expected
                    key = "good ok" if ok else "good wrong" if code == 200 else "good failed"
                except OSError as e:
                    key, code = "good failed", str(e)
                with lock:
                    counts[key] += 1
                    if key != "good ok":
                        failures.append(f"good request: {code}")

    t0 = time.monotonic()
    # Slowloris clients hold their connection for a minute each, so they get threads of their own.
    threads = [threading.Thread(target=client, args=(i,)) for i in range(-args.slowloris, args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    alive = post(host, port, "/v1/classify", good)[0] == 200
    with open(f"/proc/{args.pid}/status") as f:
        peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
    print(f"Hostile mix: {args.clients} clients, {args.seconds:.0f} s, {sum(counts.values())} requests "
          f"({sum(counts.values()) / wall:.0f}/s); " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    print("hostile kinds sent: " + ", ".join(f"{k}: {v}" for k, v in kinds.items()))
    print(f"server alive after the run: {alive}; server peak RSS {peak:.0f} MiB")
    for f in failures[:10]:
        print("FAILED:", f)
    sys.exit(0 if alive and not failures else 1)


if __name__ == "__main__":
    main()
