"""Chinese search, before and after any-script full text: recall@1 and recall@5 per scene.

    python benchmarks/languages.py

The 20 one-sentence scenes and 27 one- to four-character queries of tests/test_languages.py, one
chunk per scene. Rankings compared side by side: full text as it was (SQLite ``porter unicode61``
over raw text, terms = ``[\\w']+`` runs of 3+ characters), full text now (``longvid.words``), the
packaged English MiniLM alone, MiniLM fused with full text now, and what ``search`` ranks by now
(an English-only embedder's vectors left out of a non-English query that full text matches).
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from longvid import words
from longvid.models import packaged
from longvid.models.registry import load
from longvid.recall.retrieve import fuse, reads
from tests.test_languages import CHINESE, QUERIES

Ranking = list[tuple[int, float]]


def full_text(prepare: Callable[[str], str], terms: Callable[[str], list[str]]) -> Callable[[str], Ranking]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='porter unicode61')")
    db.executemany("INSERT INTO t(rowid, text) VALUES (?, ?)", [(i, prepare(s)) for i, s in enumerate(CHINESE)])

    def rank(query: str) -> Ranking:
        match = words.any_of(terms(query))
        if not match:
            return []
        sql = "SELECT rowid, bm25(t) FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT 10"
        return [(int(i), -s) for i, s in db.execute(sql, (match,))]

    return rank


def before_terms(query: str) -> list[str]:
    return [w for w in re.findall(r"[\w']+", query.lower()) if w.isdigit() or len(w) >= 3]


def main() -> None:
    rankers: dict[str, Callable[[str], Ranking]] = {
        "full text before (porter unicode61)": full_text(lambda s: s, before_terms),
        "full text now (longvid.words)": full_text(words.for_index, words.terms),
    }
    if packaged.minilm_dir():
        embedder = load("embedder", packaged.minilm_dir())
        scenes = embedder.embed(CHINESE)

        def vectors(query: str) -> Ranking:
            scores = scenes @ embedder.embed([query])[0]
            return [(int(i), float(scores[i])) for i in np.argsort(-scores)[:10]]

        fused_now = rankers["full text now (longvid.words)"]
        rankers["MiniLM-L6 (English) alone"] = vectors
        rankers["MiniLM-L6 + full text now (fused)"] = lambda q: sorted(
            fuse([vectors(q), fused_now(q)]).items(), key=lambda kv: -kv[1])  # fmt: skip

        def as_search_ranks(query: str) -> Ranking:  # rank_chunks' rule: vectors only if they read it
            text = fused_now(query)
            semantic = vectors(query) if not text or reads(embedder, query) else []
            return sorted(fuse([semantic, text]).items(), key=lambda kv: -kv[1])

        rankers["as search ranks now (vectors only where read)"] = as_search_ranks
    print(f"{len(QUERIES)} Chinese queries, {len(CHINESE)} scenes")
    print(f"{'ranking':40} {'recall@1':>9} {'recall@5':>9}")
    for name, rank in rankers.items():
        ranked = {q: [i for i, _ in rank(q)] for q in QUERIES}
        at1 = sum(ranked[q][:1] == [s] for q, s in QUERIES.items())
        at5 = sum(s in ranked[q][:5] for q, s in QUERIES.items())
        print(f"{name:40} {at1:>6}/{len(QUERIES)} {at5:>6}/{len(QUERIES)}")


if __name__ == "__main__":
    main()
