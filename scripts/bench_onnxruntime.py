#!/usr/bin/env python3
"""The command line's anchor: ONNX Runtime's native CPU runtime on the same EfficientNet-Lite0
weights (the ONNX file of scripts/onnx_export.py), timed the way scripts/bench-cli.sh times
`headstart embed`, and checked against it.

Usage: bench_onnxruntime.py MODEL.onnx HEADSTART_CLI PHOTO...

Prints, for 1 thread and for every core: milliseconds per photo for the network alone at
batch 1 and 32 (median of rounds after a warm-up), and photos per second with decoding
included (Pillow: decode, centre crop of 224/256, bicubic resize, (x - 127) / 128), one photo at
a time as the command line's default. Then the cosine and largest difference between ONNX
Runtime's embedding and `HEADSTART_CLI embed --model-inputs` of the same 224x224 input.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime
from PIL import Image

SIDE = 224


def model_input(path):
    """A photo as the 224x224 RGB image the network sees."""
    image = Image.open(path).convert("RGB")
    short = min(image.size)
    size = short * 224 / 256
    left, top = (image.width - size) / 2, (image.height - size) / 2
    return image.resize((SIDE, SIDE), Image.BICUBIC, box=(left, top, left + size, top + size))


def normalized(image):
    return ((np.asarray(image, np.float32) - 127) / 128).transpose(2, 0, 1)


def session(model, threads):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def ms_per_photo(run, batch, inputs, rounds=5):
    x = np.stack([inputs[i % len(inputs)] for i in range(batch)])
    run(x)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run(x)
        times.append((time.perf_counter() - start) * 1000 / batch)
    return statistics.median(times)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    model, cli, photos = sys.argv[1], sys.argv[2], sys.argv[3:]
    inputs = [normalized(model_input(p)) for p in photos[:32]]
    for threads in sorted({1, os.cpu_count()}):
        s = session(model, threads)
        run = lambda x: s.run(None, {"input": x})[0]  # noqa: E731
        one, batched = ms_per_photo(run, 1, inputs), ms_per_photo(run, 32, inputs, rounds=3)
        start = time.perf_counter()
        for path in photos:
            run(normalized(model_input(path))[None])
        per_second = len(photos) / (time.perf_counter() - start)
        print(f"onnxruntime {onnxruntime.__version__}, {threads} thread{'s' if threads > 1 else ''}: "
              f"network alone {one:.1f} ms a photo at batch 1, {batched:.1f} at batch 32; "
              f"{per_second:.1f} photos/s decoding included ({len(photos)} photos)")
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "input.png")
        model_input(photos[0]).save(path)
        theirs = session(model, 1).run(None, {"input": normalized(Image.open(path))[None]})[0][0]
        out = subprocess.run([cli, "embed", "--model-inputs", "--json", path], capture_output=True, text=True, check=True)
        mine = np.array(json.loads(out.stdout)[0]["embedding"], np.float32)
    cosine = float(mine @ theirs / np.linalg.norm(mine) / np.linalg.norm(theirs))
    print(f"the same 224x224 input: cosine {cosine:.6f}, largest difference {np.abs(mine - theirs).max():.2e} "
          f"(values up to {np.abs(theirs).max():.2f}; Headstart's convolution weights are f16)")


if __name__ == "__main__":
    main()
