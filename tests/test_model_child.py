"""A model loading in a child process (`embed/forked.py`): same vectors, and never a failure."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from monitor.embed import Encoders, make_encoder
from monitor.embed.forked import ModelChild
from monitor.errors import ModelError

TEXTS = ["Notre nouvelle Lanterne Nomade arrive en boutique", "A Sunday run by the lake"]


class Broken:
    """An encoder whose model cannot load: what a missing package or a bad folder gives."""

    model_id = "broken-model"

    def encode(self, texts: Sequence[str], **_: Any) -> np.ndarray:
        raise ModelError("cannot load model 'broken-model' offline: put it in the HF cache")


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_the_child_gives_the_vectors_this_process_would(use_encoder: Any) -> None:
    child = ModelChild(lambda: make_encoder("use-multilingual"))
    try:
        with Encoders(child=child) as encoders:
            encoder = encoders.get("use-multilingual")
            assert type(encoder).__name__ == "ChildEncoder"
            assert np.allclose(encoder.encode(TEXTS), use_encoder.encode(TEXTS), atol=1e-6)
    finally:
        child.close()


def test_a_child_with_another_model_or_none_leaves_the_work_here(use_encoder: Any) -> None:
    for resolve in (lambda: None, lambda: make_encoder("default")):
        child = ModelChild(resolve)
        try:
            encoder = Encoders(child=child).get("use-multilingual")
            assert type(encoder).__name__ == "UniversalSentenceEncoder"
        finally:
            child.close()


def test_a_child_that_dies_is_replaced_by_loading_here(use_encoder: Any) -> None:
    def crash() -> Any:
        os._exit(3)  # the child vanishes before it says anything

    child = ModelChild(crash)
    assert child.model_id is None
    assert Encoders(child=child).get("use-multilingual").encode(TEXTS).shape == (2, 512)


def test_a_model_the_child_cannot_load_is_the_usual_clear_error() -> None:
    child = ModelChild(Broken)
    try:
        encoder = child.encoder(Broken())
        with pytest.raises(ModelError, match="put it in the HF cache"):
            encoder.encode(TEXTS)
    finally:
        child.close()


def test_closing_stops_a_child_still_loading() -> None:
    def slow() -> Any:
        time.sleep(600)  # a model that takes ten minutes: closing must not wait for it
        return None

    child = ModelChild(slow)
    pid = child._pid
    assert pid is not None
    child.close()
    assert gone(pid)


@pytest.mark.parametrize(("toml", "expected"), [
    ('[model]\nname = "use-multilingual"\nbatch_size = 16\n', ("use-multilingual", 16)),
    ('[database]\nurl = "sqlite:///m.db"\n', ("auto", 64)),  # no [model]: the default
    ('[model]\nname = "  default "\n', ("default", 64)),
    ('[model]\nname = 3\n', None), ('[model]\nbatch_size = 0\n', None),
    ('[model]\nbatch_size = true\n', None), ('model = "x"\n', None), ('[model\n', None),
])
def test_the_child_reads_only_the_model_table(tmp_path: Any, toml: str,
                                              expected: tuple[str, int] | None) -> None:
    """What a cold check's child loads before the configuration is validated; anything odd
    gives None, and the configuration is then loaded (and its errors reported) as usual."""
    from monitor.config_files import peek_model

    config = tmp_path / "monitor.toml"
    config.write_text(toml, encoding="utf-8")
    peek = peek_model(config)
    assert (None if peek is None else peek[:2]) == expected
    assert peek is None or peek[2] == config
    assert peek_model(tmp_path / "absent.toml") is None
