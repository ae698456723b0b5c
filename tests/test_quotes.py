"""``outtask quotes search``: the engagement's quote bank by meaning and words, through the
command line on a real SQLite database and bucket folder, with the real embedding model."""

from __future__ import annotations

import hashlib

import pytest

from deck_builder.quote_bank import passages, search, sentence_vectors
from tests.test_cli_jobs import invoke, use_home
from tests.test_synthesis import ANSWERS, BOARD, OBSTACLE, transcript

REF = "acme/market-entry"


@pytest.fixture
def engagement(tmp_path, monkeypatch):
    """Eight transcribed interviews (tests/test_synthesis.py's answers) in one engagement."""
    from flows import db, interview
    from flows.storage import open_bucket

    url = f"sqlite:///{tmp_path / 'outtask.db'}"
    use_home(monkeypatch, tmp_path, url)
    interview.runtime.cache_clear()  # the CLI's runtime: this test's database and bucket
    bucket = open_bucket(str(tmp_path / "bucket"))
    sessions = db.session_factory(url)
    try:
        with sessions() as s:
            eng = db.get_or_create_engagement(s, "acme", "market-entry",
                                              defaults={"questions": [OBSTACLE, BOARD]})
            for n in sorted(ANSWERS):
                data = transcript(ANSWERS[n]).to_json().encode()
                key = f"processed/{REF}/exec-{n:02d}.json"
                bucket.write_bytes(key, data)
                sha = hashlib.sha256(f"audio {n}".encode()).hexdigest()
                iv, _ = db.register_upload(s, eng, bucket="local", key=f"inbox/{REF}/exec-"
                                           f"{n:02d}.m4a", file=f"exec-{n:02d}.m4a",
                                           sha256=sha, size=1000)
                row = db.record_transcript(s, sha256=sha, engine="faster-whisper",
                                           model="tiny.en", model_sha256="0" * 64,
                                           options_hash="x", outputs={"json": key},
                                           language="en", duration_s=40.0, flags=[])
                s.flush()
                db.set_state(s, iv, "transcribed", transcript=row)
            s.commit()
    finally:
        sessions.kw["bind"].dispose()
    yield url
    interview.runtime.cache_clear()


def test_a_search_finds_what_was_meant_with_who_where_and_which_question(engagement):
    ran = invoke("quotes", "search", REF, "shortage of qualified workers", "--json",
                 "--limit", "5")
    assert ran.code == 0, ran.stderr
    doc = ran.json()
    assert (doc["engagement"], doc["query"]) == (REF, "shortage of qualified workers")
    top = doc["results"][0]
    assert set(top) == {"rank", "score", "text", "who", "interview", "file", "start", "end",
                        "question", "where"}
    # the hiring sentences of interviews 1-3, none of which says "shortage" or "workers"
    assert top["interview"] in (1, 2, 3) and top["question"] == OBSTACLE
    assert top["file"] == f"exec-{top['interview']:02d}.m4a" and top["who"] == "Executive"
    assert top["where"].startswith(f"Interview {top['interview']}, 00:")
    scores = [r["score"] for r in doc["results"]]
    assert scores == sorted(scores, reverse=True) and len(scores) <= 5
    # never the interviewer: no hit is a question of the engagement
    assert not any(r["text"] in (OBSTACLE, BOARD) for r in doc["results"])


def test_the_table_and_the_audit_log(engagement):
    from flows import db

    ran = invoke("quotes", "search", REF, "slow software")
    assert ran.code == 0 and "said" in ran.stdout and "\u201c" in ran.stdout  # a table
    sessions = db.session_factory(engagement)
    try:
        with sessions() as s:
            (event,) = s.query(db.AuditEvent).filter_by(action="search-quotes").all()
            assert event.target == f"engagement {REF}"
            assert event.detail["query"] == "slow software" and event.detail["via"] == "cli"
    finally:
        sessions.kw["bind"].dispose()


def test_bad_searches_exit_2_and_say_what_to_do(engagement):
    ran = invoke("quotes", "search", REF, "   ")
    assert ran.code == 2 and "say what to look for" in ran.stderr
    ran = invoke("quotes", "search", "acme/nothing-here", "pricing")
    assert ran.code == 2 and "no engagement 'acme/nothing-here'" in ran.stderr
    ran = invoke("quotes", "search", "no-slash", "pricing")
    assert ran.code == 2


def test_words_count_when_meaning_is_close():
    from deck_builder.embeddings import embedder

    t = transcript(ANSWERS[4])  # legacy systems, and a message for the board
    items = passages(t, 4)
    assert all(p.text not in (OBSTACLE, BOARD) for p in items)
    vectors = sentence_vectors(items, embedder().embed)
    hits = search("legacy computer systems", items, vectors, embedder().embed)
    assert hits[0].passage.text.startswith("Our legacy computer systems")
    assert hits[0].words == 1.0 and hits[0].passage.question == OBSTACLE
    again = search("legacy computer systems", items, vectors, embedder().embed)
    assert again == hits  # the same answer every time
