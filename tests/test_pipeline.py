"""The pipeline on a real store and the real multilingual encoder: incremental analysis."""

from __future__ import annotations

import json
from pathlib import Path

from monitor.config import parse_config
from monitor.models import PostClass
from monitor.pipeline import analyse_pair, build_report, embed_pending, import_jsonl
from monitor.store import Store

LAUNCH_FR = ("Lanterne Nomade arrive : notre première lampe d'extérieur rechargeable, en laiton "
             "recyclé, 40 h d'autonomie, lancement le 6 octobre.")
PARAPHRASE = ("Notre première lampe d'extérieur rechargeable, la Lanterne Nomade, sort le 6 "
              "octobre : laiton recyclé et 40 heures d'autonomie !")


def _config(tmp_path: Path) -> object:
    return parse_config({"model": {"name": "use-multilingual"}, "pairs": [
        {"name": "p", "executive": ["ceo"], "corporate": ["brand"]}]},
        source=str(tmp_path / "monitor.toml"))


def _jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n",
                    encoding="utf-8")
    return path


def test_incremental_analysis_is_proportional_to_new_posts(
        store: Store, use_encoder: object, tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    pair = cfg.pairs[0]  # type: ignore[attr-defined]
    import_jsonl(store, _jsonl(tmp_path / "a.jsonl", [
        {"id": "1", "account": "ceo", "created_at": "2026-10-02T09:00:00Z", "text": PARAPHRASE},
        {"id": "2", "account": "ceo", "created_at": "2026-10-02T18:00:00Z",
         "text": "Dimanche, 20 km de course à pied au bord du lac d'Annecy."},
        {"id": "3", "account": "brand", "created_at": "2026-09-20T09:00:00Z",
         "text": "Nos ateliers de Limoges recrutent cinq apprentis."}]))
    first = analyse_pair(store, cfg, pair, use_encoder)  # type: ignore[arg-type]
    assert first.analysed == 2
    classes = {f.finding.post_id: f.finding.post_class
               for f in store.findings("p", "use-multilingual-v3")}
    assert classes["1"] != PostClass.OVERLAP  # the launch post is not in the store yet

    # Nothing new: nothing analysed, nothing embedded.
    assert analyse_pair(store, cfg, pair, use_encoder).analysed == 0  # type: ignore[arg-type]
    assert embed_pending(store, use_encoder) == 0  # type: ignore[arg-type]

    # The brand's launch post arrives late (ingestion lag): the executive post it comes closer
    # to than its current match is re-examined and becomes an overlap; the running post, to
    # which the launch is no closer than what it was already compared with, is left alone.
    import_jsonl(store, _jsonl(tmp_path / "b.jsonl", [
        {"id": "4", "account": "brand", "created_at": "2026-10-01T08:00:00Z", "text": LAUNCH_FR}]))
    later = analyse_pair(store, cfg, pair, use_encoder)  # type: ignore[arg-type]
    assert later.analysed == 1
    found = {f.finding.post_id: f for f in store.findings("p", "use-multilingual-v3")}
    assert found["1"].finding.post_class == PostClass.OVERLAP
    assert found["1"].nearest is not None and found["1"].nearest.post_id == "4"
    assert {"lanterne", "laiton"} <= set(found["1"].finding.shared_terms)
    assert found["2"].finding.post_class != PostClass.OVERLAP

    # An edit of one executive post re-embeds and re-analyses that post only.
    import_jsonl(store, _jsonl(tmp_path / "c.jsonl", [
        {"id": "2", "account": "ceo", "created_at": "2026-10-02T18:00:00Z",
         "text": "Dimanche, 21 km de course à pied au bord du lac d'Annecy."}]))
    assert analyse_pair(store, cfg, pair, use_encoder).analysed == 1  # type: ignore[arg-type]

    report = build_report(store, cfg, pair)  # type: ignore[arg-type]
    assert report.totals.posts == 2
    assert report.totals.overlap_rate == 0.5
