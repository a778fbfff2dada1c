"""The sentence encoder run by onnxruntime from the int8 graph `bot.ingest.onnx_graph` builds.

About three times cheaper per headline than the float32 numpy encoder on one
core (BENCHMARKS.md "Dedup" → "Cost"), with vectors within cosine 0.98 of it.
One intra-op thread per run: a headline is too small to gain from more (two
cost 1.5-2x the CPU for the same wall time). A feed's headlines are instead run
one per run on up to two threads at once (`threads`): the same runs as one at a
time, so the same vectors, in about half the wall time while a core is free.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.ingest.encoder import Encoder

# ORT fuses Add + LayerNormalization into SkipLayerNormalization; on these
# (AVX-512) cores that kernel made the whole graph twice as slow.
_DISABLED = ["SkipLayerNormFusion"]
MAX_THREADS = 2  # the machines this runs on have two cores (BENCHMARKS.md "Machine")


def default_threads() -> int:
    """Threads to run a feed's headlines on: the cores this process may use, at most two."""
    return max(1, min(MAX_THREADS, len(os.sched_getaffinity(0))))


class OnnxEncoder(Encoder):
    """Embed texts with onnxruntime over the prepared int8 graph."""

    runtime = "onnxruntime int8"
    # One text per run: int8 activations are scaled per run, so a vector would
    # depend on the batch it came in (cosine down to 0.976 between the two);
    # batches saved only 3 % here.
    batch = 1
    per_text = True

    def __init__(self, model_dir: Path, graph: Path, *, threads: int | None = None) -> None:
        import onnxruntime as ort

        super().__init__(model_dir)
        # one session for all threads: onnxruntime's run is thread-safe and
        # releases the GIL; each run keeps its own activations and scales
        self.threads = default_threads() if threads is None else min(max(1, threads), MAX_THREADS)
        # its threads start at the first submit; they are idle between feeds
        self._helpers = ThreadPoolExecutor(MAX_THREADS - 1, thread_name_prefix="embed")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # errors only
        self.session = ort.InferenceSession(
            str(graph), options, providers=["CPUExecutionProvider"], disabled_optimizers=_DISABLED
        )
        self.dim = int(self.session.get_outputs()[0].shape[1])

    def encode_tokens(self, encodings: Sequence[Any]) -> Any:
        """Return the unit vectors of tokenized texts, one run each, on up to `threads` threads.

        Each text is one run of its own, whichever thread takes it: its vector
        is the one `Encoder.encode_tokens` gives one at a time, bit for bit.
        The threads take the next text as they finish (longest first), so one
        that waits for a core does not hold the others back.
        """
        if self.threads < 2 or len(encodings) < 2:
            return super().encode_tokens(encodings)
        np = self._np
        out = np.empty((len(encodings), self.dim), dtype=np.float32)
        order = iter(sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids)))
        lock = threading.Lock()

        def work() -> None:
            while True:
                with lock:  # several threads take from one iterator
                    i = next(order, None)
                if i is None:
                    return
                out[i] = self._batch([encodings[i]])[0]

        with self.single_thread():
            others = [self._helpers.submit(work) for _ in range(self.threads - 1)]
            try:
                work()  # this thread takes its share too: no hand-off for the first text
            finally:
                for other in others:
                    other.result()
        return out

    def _batch(self, encodings: Sequence[Any]) -> Any:
        ids, mask = self.padded(encodings)
        return self.session.run(["embedding"], {"input_ids": ids, "attention_mask": mask})[0]
