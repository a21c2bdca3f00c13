#!/usr/bin/env python3
"""Exports the reference checkpoint's backbone to ONNX, for the benchmarks' anchor runtimes.

Usage: onnx_export.py CHECKPOINT.pth OUT.onnx

Reads the legacy PyTorch checkpoint without torch (its pickles name storages, which follow as
raw little-endian arrays; tensors are rebuilt with their strides, since 50 of them are not
contiguous) and writes the network of `headstart_core::backbone` with the `onnx` helper API:
input `input`, float32 [batch, 3, 224, 224] already normalized as the page does ((x - 127) /
128), output `embedding`, float32 [batch, 1280], the pooled vector new heads train on. Layer
for layer as in crates/headstart-core/src/backbone.rs: TensorFlow "SAME" padding written out (asymmetric on
stride-2 layers), BatchNorm epsilon 1e-3 kept as BatchNormalization nodes (the runtimes fold
them), ReLU6 as Clip(0, 6), residual adds, global average pooling. Needs numpy and onnx.
"""

import collections
import pickle
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INPUT_SIZE = 224
BATCH_NORM_EPSILON = 1e-3
# (repeats, kernel, stride, expand ratio, channels out), as LITE0_STAGES in the core.
STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280


def read_checkpoint(path):
    """The checkpoint's tensors by name, as numpy arrays honouring their strides."""
    storage_dtypes = {}

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return lambda storage, offset, size, stride, *rest: (storage, offset, tuple(size), tuple(stride))
            if module == "torch" and name in ("FloatStorage", "LongStorage"):
                return {"FloatStorage": np.float32, "LongStorage": np.int64}[name]
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            raise pickle.UnpicklingError(f"unexpected {module}.{name} in the checkpoint")

        def persistent_load(self, pid):
            _, dtype, key, _location, _numel = pid[:5]
            storage_dtypes[key] = dtype
            return key

    with open(path, "rb") as f:
        for _ in range(3):  # magic number, protocol version, system information
            pickle.load(f)
        state = Unpickler(f).load()
        storages = {}
        for key in pickle.load(f):
            (numel,) = struct.unpack("<q", f.read(8))
            dtype = np.dtype(storage_dtypes[key])
            storages[key] = np.frombuffer(f.read(numel * dtype.itemsize), dtype)
    tensors = {}
    for name, (key, offset, size, stride) in state.items():
        storage = storages[key]
        strides = tuple(s * storage.itemsize for s in stride)
        tensors[name] = np.lib.stride_tricks.as_strided(storage[offset:], size, strides).copy()
    return tensors


class Graph:
    def __init__(self, tensors):
        self.tensors = tensors
        self.nodes = []
        self.initializers = []
        self.count = 0

    def name(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def constant(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name))
        return name

    def conv_bn(self, x, size, conv, bn, kernel, stride, groups, relu6):
        """Convolution without bias, BatchNorm and optionally ReLU6; returns (output, size)."""
        out_size = -(-size // stride)
        total = max((out_size - 1) * stride + kernel - size, 0)
        begin, end = total // 2, total - total // 2
        weight = self.constant(f"{conv}.weight", self.tensors[f"{conv}.weight"])
        y = self.name(conv)
        self.nodes.append(helper.make_node("Conv", [x, weight], [y], kernel_shape=[kernel, kernel],
                                           strides=[stride, stride], pads=[begin, begin, end, end], group=groups))
        params = [self.constant(f"{bn}.{p}", self.tensors[f"{bn}.{p}"])
                  for p in ("weight", "bias", "running_mean", "running_var")]
        z = self.name(bn)
        self.nodes.append(helper.make_node("BatchNormalization", [y, *params], [z], epsilon=BATCH_NORM_EPSILON))
        if relu6:
            low, high = self.constant("zero", np.array(0.0)), self.constant("six", np.array(6.0))
            a = self.name("relu6")
            self.nodes.append(helper.make_node("Clip", [z, low, high], [a]))
            z = a
        return z, out_size


def build(tensors):
    g = Graph(tensors)
    x, size = g.conv_bn("input", INPUT_SIZE, "_conv_stem", "_bn0", 3, 2, 1, True)
    channels = STEM_CHANNELS
    block = 0
    for repeats, kernel, first_stride, expand, channels_out in STAGES:
        for repeat in range(repeats):
            stride = first_stride if repeat == 0 else 1
            prefix = f"_blocks.{block}"
            h = x
            hidden = channels * expand
            if expand != 1:
                h, _ = g.conv_bn(h, size, f"{prefix}._expand_conv", f"{prefix}._bn0", 1, 1, 1, True)
            h, out_size = g.conv_bn(h, size, f"{prefix}._depthwise_conv", f"{prefix}._bn1", kernel, stride, hidden, True)
            h, _ = g.conv_bn(h, out_size, f"{prefix}._project_conv", f"{prefix}._bn2", 1, 1, 1, False)
            if stride == 1 and channels == channels_out:
                added = g.name("residual")
                g.nodes.append(helper.make_node("Add", [h, x], [added]))
                h = added
            x, size, channels = h, out_size, channels_out
            block += 1
    x, _ = g.conv_bn(x, size, "_conv_head", "_bn1", 1, 1, 1, True)
    pooled = g.name("pool")
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], [pooled]))
    g.nodes.append(helper.make_node("Flatten", [pooled], ["embedding"], axis=1))
    # Each constant once (zero and six are shared by every ReLU6).
    unique = {t.name: t for t in g.initializers}
    graph = helper.make_graph(
        g.nodes, "efficientnet-lite0-backbone",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, INPUT_SIZE, INPUT_SIZE])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", HEAD_CHANNELS])],
        list(unique.values()),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="headstart")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    tensors = read_checkpoint(sys.argv[1])
    onnx.save(build(tensors), sys.argv[2])
    print(f"wrote {sys.argv[2]}")


if __name__ == "__main__":
    main()
