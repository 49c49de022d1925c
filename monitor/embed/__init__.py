"""Embedding: the encoder interface and its implementations (torch is imported lazily)."""

from monitor.embed.encoder import (
    DEFAULT_MODEL_ID,
    USE_MODEL_ID,
    Encoder,
    Encoders,
    make_encoder,
    model_id_for,
)

__all__ = ["DEFAULT_MODEL_ID", "USE_MODEL_ID", "Encoder", "Encoders", "make_encoder",
           "model_id_for"]
