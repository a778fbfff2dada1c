"""Sentence embeddings for dedup: a BERT-style encoder run with numpy, no PyTorch.

Reads a sentence-transformers model directory (``config.json``,
``tokenizer.json``, ``model.safetensors``; mean pooling, unit length), such as
all-MiniLM-L6-v2. Needs the optional ``[semantic]`` extra (numpy, tokenizers,
safetensors); `load_encoder` returns None with a reason when the extra or the
model is missing, and dedup then stays lexical. Nothing here downloads.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.ingest.encoder import Encoder, packaged_model_dir

log = logging.getLogger(__name__)

__all__ = [
    "Encoder",
    "NumpyEncoder",
    "load_encoder",
    "onnx_available",
    "packaged_model_dir",
]


@dataclass(frozen=True)
class _Layer:
    qkv: Any  # (hidden, 3*hidden) fused query/key/value projection
    qkv_bias: Any
    out: Any
    out_bias: Any
    ln1: tuple[Any, Any]
    up: Any
    up_bias: Any
    down: Any
    down_bias: Any
    ln2: tuple[Any, Any]


class NumpyEncoder(Encoder):
    """The model in float32 numpy (the fallback without onnxruntime)."""

    runtime = "numpy float32"

    def __init__(self, model_dir: Path) -> None:
        from safetensors.numpy import load_file

        super().__init__(model_dir)
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        w = load_file(str(model_dir / "model.safetensors"))
        w = {k.removeprefix("bert."): v for k, v in w.items()}
        emb = "embeddings."
        self.words = w[emb + "word_embeddings.weight"]
        self.positions = w[emb + "position_embeddings.weight"]
        self.token_type = w[emb + "token_type_embeddings.weight"][0]
        self.ln0 = (w[emb + "LayerNorm.weight"], w[emb + "LayerNorm.bias"])
        self.layers = [self._layer(w, i) for i in range(int(config["num_hidden_layers"]))]
        self.dim = int(self.words.shape[1])

    def _layer(self, w: dict[str, Any], i: int) -> _Layer:
        np = self._np
        p = f"encoder.layer.{i}."
        att = p + "attention."
        return _Layer(
            qkv=np.ascontiguousarray(
                np.concatenate([w[f"{att}self.{n}.weight"] for n in ("query", "key", "value")]).T
            ),
            qkv_bias=np.concatenate([w[f"{att}self.{n}.bias"] for n in ("query", "key", "value")]),
            out=np.ascontiguousarray(w[att + "output.dense.weight"].T),
            out_bias=w[att + "output.dense.bias"],
            ln1=(w[att + "output.LayerNorm.weight"], w[att + "output.LayerNorm.bias"]),
            up=np.ascontiguousarray(w[p + "intermediate.dense.weight"].T),
            up_bias=w[p + "intermediate.dense.bias"],
            down=np.ascontiguousarray(w[p + "output.dense.weight"].T),
            down_bias=w[p + "output.dense.bias"],
            ln2=(w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
        )

    def _norm(self, x: Any, ln: tuple[Any, Any]) -> Any:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / self._np.sqrt(var + self.eps) * ln[0] + ln[1]

    def _gelu(self, x: Any) -> Any:
        np = self._np
        return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x * x * x)))

    def _batch(self, encodings: Sequence[Any]) -> Any:
        """Run token sequences, padded to one length, through the encoder; mean-pool them."""
        np = self._np
        ids, mask = self.padded(encodings)
        (b, n), dim = ids.shape, self.dim
        x = self._norm(self.words[ids] + self.positions[:n] + self.token_type, self.ln0)
        x = x.reshape(b * n, dim)
        heads, d = self.heads, dim // self.heads
        hide = ((1.0 - mask) * -1e9)[:, None, None, :]  # padding gets no attention
        scale = float(1.0 / np.sqrt(d))
        for layer in self.layers:
            qkv = (x @ layer.qkv + layer.qkv_bias).reshape(b, n, 3, heads, d)
            q = qkv[:, :, 0].transpose(0, 2, 1, 3)
            k = qkv[:, :, 1].transpose(0, 2, 3, 1)
            v = qkv[:, :, 2].transpose(0, 2, 1, 3)
            scores = (q @ k) * scale + hide
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(b * n, dim)
            x = self._norm(x + context @ layer.out + layer.out_bias, layer.ln1)
            hidden = self._gelu(x @ layer.up + layer.up_bias)
            x = self._norm(x + hidden @ layer.down + layer.down_bias, layer.ln2)
        pooled = (x.reshape(b, n, dim) * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


@lru_cache(maxsize=4)
def _load(directory: Path, runtime: str) -> Encoder:
    """Load a model once per process (about 90 MB for all-MiniLM-L6-v2 in float32)."""
    if runtime == "onnx":
        from bot.ingest.onnx_encoder import OnnxEncoder
        from bot.ingest.onnx_graph import prepared_model

        return OnnxEncoder(directory, prepared_model(directory))
    return NumpyEncoder(directory)


def onnx_available() -> bool:
    """True when onnxruntime and onnx (to build the graph) are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def load_encoder(model_path: str, runtime: str = "auto") -> tuple[Encoder | None, str]:
    """Load the encoder from `model_path` (or the packaged model when empty).

    `runtime`: "onnx" (int8, onnxruntime), "numpy" (float32), or "auto" (onnx
    when installed, else numpy; numpy too when the graph cannot be built).
    Returns (encoder or None, a one-line reason for the log).
    """
    for module in ("numpy", "tokenizers", "safetensors"):
        if importlib.util.find_spec(module) is None:
            return None, f"the [semantic] extra is not installed ({module} missing)"
    directory = Path(model_path).expanduser() if model_path else packaged_model_dir()
    if directory is None:
        return None, "no dedup.model_path set and no packaged model installed"
    missing = [
        f
        for f in ("config.json", "tokenizer.json", "model.safetensors")
        if not (directory / f).is_file()
    ]
    if missing:
        return None, f"model directory {directory} lacks {', '.join(missing)}"
    wanted = runtime if runtime != "auto" else ("onnx" if onnx_available() else "numpy")
    note = ""
    try:
        encoder = _load(directory.resolve(), wanted)
    except Exception as exc:  # any failure of the graph build or the session
        if runtime != "auto" or wanted == "numpy":
            return None, f"model at {directory} failed to load: {exc}"
        note = f"; onnxruntime failed ({exc})"
        try:
            encoder = _load(directory.resolve(), "numpy")
        except (OSError, ValueError, KeyError) as again:
            return None, f"model at {directory} failed to load: {again}"
    return encoder, f"model {directory}, {encoder.runtime}{note}"
