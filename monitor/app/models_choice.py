"""Which encoder serves a pair, and why (said in every report)."""

from __future__ import annotations

from dataclasses import asdict, fields

from monitor.analysis.language import language_mix, serves_english_only
from monitor.config import MonitorConfig, PairConfig
from monitor.embed import DEFAULT_MODEL_ID, USE_MODEL_ID, model_id_for
from monitor.models import ModelChoice
from monitor.store import Store

AUTO = "auto"
ENGLISH_MODEL = "default"
MULTILINGUAL_MODEL = "use-multilingual"
SAMPLE_POSTS = 2000


def _key(pair: PairConfig) -> str:
    return f"model:{pair.name}"


def choose_model(store: Store, cfg: MonitorConfig, pair: PairConfig) -> ModelChoice:
    """The configured model, or with "auto" the one the pair's languages call for."""
    configured = cfg.model.name.strip()
    if configured.lower() != AUTO:
        return ModelChoice(configured, model_id_for(configured),
                           f"configured ([model] name = \"{configured}\")", "configured")
    mix = language_mix(store.recent_texts(pair.accounts, SAMPLE_POSTS))
    if serves_english_only(mix):
        return ModelChoice(ENGLISH_MODEL, DEFAULT_MODEL_ID,
                           f"auto: an English pair ({mix.describe()}), served by the bundled "
                           "English all-MiniLM-L6-v2", "auto-english", mix.describe())
    seen = mix.describe() if mix.judged else "no post yet"
    return ModelChoice(MULTILINGUAL_MODEL, USE_MODEL_ID,
                       f"auto: a French or mixed pair ({seen}), served by the multilingual "
                       "encoder, which also sees a translation as the same message",
                       "auto-multilingual", mix.describe() if mix.judged else "")


def remember(store: Store, pair: PairConfig, choice: ModelChoice) -> None:
    if store.get_value(_key(pair)) != asdict(choice):
        store.set_value(_key(pair), asdict(choice))


def report_model(store: Store, cfg: MonitorConfig, pair: PairConfig) -> ModelChoice:
    """The model whose findings describe the pair: with "auto", the one its last analysis
    used (so a report never reads another model's empty findings); else the configured one."""
    if cfg.model.name.strip().lower() == AUTO:
        stored = store.get_value(_key(pair))
        if stored and set(stored) == {f.name for f in fields(ModelChoice)}:
            return ModelChoice(**stored)
    return choose_model(store, cfg, pair)
