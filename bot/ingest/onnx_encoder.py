"""The sentence encoder run by onnxruntime from the int8 graph `bot.ingest.onnx_graph` builds.

About three times cheaper per headline than the float32 numpy encoder on one
core (BENCHMARKS.md "Dedup" → "Cost"), with vectors within cosine 0.98 of it.
One intra-op thread: a feed's batch of headlines is too small to gain from
more, and the host's other work needs the other core.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.ingest.embed import Encoder

# ORT fuses Add + LayerNormalization into SkipLayerNormalization; on these
# (AVX-512) cores that kernel made the whole graph twice as slow.
_DISABLED = ["SkipLayerNormFusion"]


class OnnxEncoder(Encoder):
    """Embed texts with onnxruntime over the prepared int8 graph."""

    runtime = "onnxruntime int8"
    # One text per run: int8 activations are scaled per run, so a vector would
    # depend on the batch it came in (cosine down to 0.976 between the two);
    # batches saved only 3 % here.
    batch = 1
    per_text = True

    def __init__(self, model_dir: Path, graph: Path) -> None:
        import onnxruntime as ort

        super().__init__(model_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # errors only
        self.session = ort.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"], disabled_optimizers=_DISABLED
        )
        self.dim = int(self.session.get_outputs()[0].shape[1])

    def _batch(self, encodings: Sequence[Any]) -> Any:
        ids, mask = self.padded(encodings)
        return self.session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]
