"""Build an int8 ONNX graph of a BERT-style sentence encoder from its safetensors weights.

No PyTorch and no export step: the graph is written node by node with
``onnx.helper`` (the same arithmetic as the numpy encoder in
`bot.ingest.embed`: embeddings, N encoder layers, mean pooling, unit length),
then its matrix products are quantised to int8 with onnxruntime's
``quantize_dynamic``. The result is cached as a file keyed by the weights'
hash (`prepared_model`), so it is built once per host (a few seconds), at
install time (``python -m bot.ingest.onnx_graph``) or at the first start.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bot.ingest.encoder import packaged_model_dir

GRAPH_VERSION = "2"  # bump when the graph changes: the cache key includes it
OPSET = 17


def cache_dir() -> Path:
    """Return $XDG_CACHE_HOME/newsbrief-bot (default ~/.cache/newsbrief-bot)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsbrief-bot"


def model_hash(model_dir: Path) -> str:
    """Return a short hash of the model's weights and config (the cache key)."""
    digest = hashlib.sha256(GRAPH_VERSION.encode())
    for name in ("config.json", "model.safetensors"):
        with (model_dir / name).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def prepared_model(model_dir: Path, directory: Path | None = None) -> Path:
    """Return the cached int8 .onnx file for `model_dir`, building it first if absent."""
    directory = directory or cache_dir()
    target = directory / f"{model_dir.name}-{model_hash(model_dir)}-int8.onnx"
    if target.is_file():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        plain = Path(scratch) / "float.onnx"
        quantised = Path(scratch) / "int8.onnx"
        build_float_graph(model_dir, plain)
        _quantise(plain, quantised)
        os.replace(quantised, target)  # atomic: another process sees all or nothing
    for stale in directory.glob(f"{model_dir.name}-*-int8.onnx"):
        if stale != target:  # an older graph version or older weights of this model
            stale.unlink(missing_ok=True)
    return target


def _quantise(source: Path, target: Path) -> None:
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Only the matrix products: the embedding table stays float (it is a lookup).
    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Attention"],
        per_channel=True,
        # shape inference does not type com.microsoft nodes' outputs: all are float
        extra_options={"DefaultTensorType": TensorProto.FLOAT},
    )


class _Graph:
    """Nodes and initialisers being collected, with generated names."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.weights: list[Any] = []
        self._count = 0

    def const(self, name: str, array: Any) -> str:
        from onnx import numpy_helper

        self.weights.append(numpy_helper.from_array(array, name))
        return name

    def op(self, kind: str, *inputs: str, **attrs: Any) -> str:
        from onnx import helper

        self._count += 1
        out = f"{kind.lower()}_{self._count}"
        self.nodes.append(helper.make_node(kind, list(inputs), [out], **attrs))
        return out

    def linear(self, x: str, weight: Any, bias: Any, name: str) -> str:
        """x @ weight.T + bias (weights as stored by PyTorch: out × in)."""
        import numpy as np

        w = self.const(name + ".w", np.ascontiguousarray(weight.T.astype(np.float32)))
        b = self.const(name + ".b", bias.astype(np.float32))
        return self.op("Add", self.op("MatMul", x, w), b)

    def norm(self, x: str, scale: Any, bias: Any, eps: float, name: str) -> str:
        s, b = self.const(name + ".g", scale), self.const(name + ".b", bias)
        return self.op("LayerNormalization", x, s, b, axis=-1, epsilon=eps)


def build_float_graph(model_dir: Path, target: Path) -> None:
    """Write the float32 graph: inputs input_ids (b, n), attention_mask (b, n); output (b, dim)."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper
    from safetensors.numpy import load_file

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    heads = int(config["num_attention_heads"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    stored = load_file(str(model_dir / "model.safetensors"))
    w = {k.removeprefix("bert."): v for k, v in stored.items()}
    dim = int(w["embeddings.word_embeddings.weight"].shape[1])
    g = _Graph()
    i64 = lambda name, values: g.const(name, np.array(values, dtype=np.int64))  # noqa: E731
    f32 = lambda name, value: g.const(name, np.array(value, dtype=np.float32))  # noqa: E731

    # Embeddings: word + position (0..n-1) + token type 0, then LayerNorm.
    words = g.op("Gather", g.const("words", w["embeddings.word_embeddings.weight"]), "input_ids")
    n = g.op("Gather", g.op("Shape", "input_ids"), i64("one", 1), axis=0)
    positions = g.op("Range", i64("zero", 0), n, i64("step", 1))
    table = g.const("positions", w["embeddings.position_embeddings.weight"])
    pos = g.op("Gather", table, positions)
    tok = g.const("token_type", w["embeddings.token_type_embeddings.weight"][0])
    x = g.op("Add", g.op("Add", words, pos), tok)
    x = g.norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps, "emb")

    # One fused attention node per layer (onnxruntime's com.microsoft.Attention:
    # query/key/value projections, scaled dot product, softmax, heads merged);
    # padding is masked by the raw 0/1 mask. Fewer nodes: each run costs less.
    mask_index = g.op("Cast", "attention_mask", to=TensorProto.INT32)
    f32("f_one", 1.0)
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}."
        a = p + "attention."
        parts = ("query", "key", "value")
        qkv = np.concatenate([w[f"{a}self.{n}.weight"] for n in parts]).T
        qkv_bias = np.concatenate([w[f"{a}self.{n}.bias"] for n in parts])
        g._count += 1
        context = f"attention_{g._count}"
        g.nodes.append(
            helper.make_node(
                "Attention",
                [
                    x,
                    g.const(f"{i}.qkv.w", np.ascontiguousarray(qkv)),
                    g.const(f"{i}.qkv.b", qkv_bias),
                    mask_index,
                ],
                [context],
                domain="com.microsoft",
                num_heads=heads,
            )
        )
        out = g.linear(context, w[a + "output.dense.weight"], w[a + "output.dense.bias"], f"{i}.o")
        ln1 = (w[a + "output.LayerNorm.weight"], w[a + "output.LayerNorm.bias"])
        x = g.norm(g.op("Add", x, out), *ln1, eps, f"{i}.ln1")
        inter = p + "intermediate.dense."
        up = g.linear(x, w[inter + "weight"], w[inter + "bias"], f"{i}.up")
        # GELU, exact (erf), as BERT defines it
        gate = g.op("Add", g.op("Erf", g.op("Div", up, f32(f"{i}.sq2", np.sqrt(2)))), "f_one")
        hidden = g.op("Mul", g.op("Mul", up, gate), f32(f"{i}.half", 0.5))
        down = g.linear(hidden, w[p + "output.dense.weight"], w[p + "output.dense.bias"], f"{i}.dn")
        ln2 = (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        x = g.norm(g.op("Add", x, down), *ln2, eps, f"{i}.ln2")

    # Mean pooling over real tokens, then unit length.
    mask = g.op("Unsqueeze", "attention_mask", i64("axis2", [2]))
    total = g.op("ReduceSum", g.op("Mul", x, mask), i64("axis1", [1]), keepdims=0)
    count = g.op("ReduceSum", mask, "axis1", keepdims=0)
    pooled = g.op("Div", total, count)
    g.nodes.append(helper.make_node("LpNormalization", [pooled], ["embedding"], axis=1, p=2))

    graph = helper.make_graph(
        g.nodes,
        "sentence_encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "n"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["b", "n"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["b", dim])],
        g.weights,
    )
    opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    onnx.save(model, str(target))


def main() -> int:
    """Build (or find) the cached graph of the packaged model or of the given directory."""
    model = Path(sys.argv[1]) if len(sys.argv) > 1 else packaged_model_dir()
    if model is None:
        print("no model directory given and no packaged model installed", file=sys.stderr)
        return 1
    print(prepared_model(model))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
