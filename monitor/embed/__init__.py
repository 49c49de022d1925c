"""Embedding: the encoder interface and its implementations (torch is imported lazily)."""

from monitor.embed.encoder import Encoder, make_encoder, model_id_for

__all__ = ["Encoder", "make_encoder", "model_id_for"]
