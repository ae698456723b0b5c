"""Cross-interview synthesis (deck_builder.synthesis) with the real sentence-embedding model:
themes by meaning, counts by distinct interviews, titles in the executives' words, verbatim
quotes, ``also`` and ``other``; and what a brief makes of it (synthesis.json/.md, the starter
deck's chart and Finding slides)."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import UTC, datetime

import pytest
from pptx import Presentation

from deck_builder.brief import BriefInput, BriefInterview, JobTerms
from deck_builder.package import build_brief, with_answers
from deck_builder.synthesis import adjusted_rand_index, synthesise, verbatim
from transcription.transcript import Answer, Segment, Transcript

OBSTACLE = "What is the biggest obstacle to your strategy?"
BOARD = "What is your one message for the board?"

ANSWERS = {  # interview -> question -> what the executive said (None: not asked)
    1: {OBSTACLE: ["We cannot hire enough skilled engineers.",
                   "Every good candidate gets three offers and we lose most of them."],
        BOARD: ["Invest in training our people, skills are not a cost.",
                "That is how I see it at the moment."]},
    2: {OBSTACLE: ["Finding qualified staff is the hardest part of my job.",
                   "Recruiting a specialist takes us six months."],
        BOARD: ["Fund the development of our employees before buying more machines."]},
    3: {OBSTACLE: ["Talent is scarce, and bigger firms hire away the candidates we want.",
                   "That is how I see it at the moment.",
                   "I would add that our old software slows down every change in the back "
                   "office."],
        BOARD: ["Move faster, the market will not wait for us to decide.",
                "Our competitors act in weeks while we take months."]},
    4: {OBSTACLE: ["Our legacy computer systems make every change painfully slow.",
                   "The back office still runs on software from the nineties."],
        BOARD: ["Put money into educating and coaching the workforce."]},
    5: {OBSTACLE: ["Outdated technology, a simple report takes weeks to build.",
                   "The systems are ancient and nobody dares to touch them."],
        BOARD: ["Speed up the approvals, every delay costs us contracts.",
                "That is how I see it at the moment."]},
    6: {OBSTACLE: ["New rules from the regulator keep changing what we are allowed to sell."],
        BOARD: ["Decide quicker, hesitation is now our biggest risk."]},
    7: {OBSTACLE: ["Hard to say."], BOARD: None},
    8: {OBSTACLE: None, BOARD: ["Urgency, we are far too slow for this market."]},
}


def transcript(said: dict[str, list[str] | None]) -> Transcript:
    """The interviewer (A) asks each question, the executive (B) answers, 4 s a sentence;
    answers where the form would put them."""
    segments, answers, t = [], [], 0.0
    for question, sentences in said.items():
        segments.append(Segment(t, t + 3.5, question, -0.2, 0.01, speaker="A"))
        t += 4
        start = t
        for s in sentences or ():
            segments.append(Segment(t, t + 3.5, s, -0.2, 0.01, speaker="B"))
            t += 4
        answers.append(Answer(question, start, t - 0.5, "B", "form", 1.0) if sentences
                       else Answer(question, None, None))
    return Transcript(tuple(segments), t, roles={"A": "interviewer", "B": "interviewee"},
                      answers=tuple(answers))


@pytest.fixture(scope="module")
def transcripts() -> list[Transcript]:
    return [transcript(ANSWERS[n]) for n in sorted(ANSWERS)]


@pytest.fixture(scope="module")
def synthesis(transcripts):
    return synthesise([OBSTACLE, BOARD], transcripts)


def test_answers_are_grouped_by_meaning_and_counted_by_interview(synthesis):
    obstacle, board = synthesis.questions
    assert synthesis.interviews == 8
    assert (obstacle.question, obstacle.answered, board.answered) == (OBSTACLE, 7, 7)
    # ranked by executives; the one-person view is a theme, "Hard to say." is other
    assert [t.interviews for t in obstacle.themes] == [(1, 2, 3), (4, 5), (6,)]
    assert obstacle.other == (7,)
    assert [t.interviews for t in board.themes] == [(3, 5, 6, 8), (1, 2, 4)]
    for q in synthesis.questions:
        primary = [n for t in q.themes for n in t.interviews]
        assert len(primary) == len(set(primary))  # one main point per executive


def test_a_second_point_is_listed_as_also(synthesis):
    systems = synthesis.questions[0].themes[1]
    assert 3 in systems.also and 3 not in systems.interviews


def test_titles_are_words_the_executives_said(synthesis, transcripts):
    said = " ".join(s.text for t in transcripts for s in t.segments
                    if s.speaker == "B").lower()
    for q in synthesis.questions:
        for theme in q.themes:
            assert theme.title
            for phrase in theme.title.split("; "):
                assert phrase.lower() in said, (theme.title, phrase)


def test_quotes_are_verbatim_near_the_theme_and_from_its_interviews(synthesis, transcripts):
    for q in synthesis.questions:
        for theme in q.themes:
            assert 1 <= len(theme.quotes) <= 3
            for x in theme.quotes:
                assert x.interview in theme.interviews
                assert verbatim(x.text, transcripts[x.interview - 1])
                assert x.text != "That is how I see it at the moment."
            if len(theme.interviews) >= 2:  # different executives where it can
                assert len({x.interview for x in theme.quotes}) >= 2


def test_the_same_inputs_give_the_same_synthesis(transcripts, synthesis):
    assert synthesise([OBSTACLE, BOARD], transcripts).to_dict() == synthesis.to_dict()


def test_the_json_has_the_conventions_shape(synthesis):
    d = json.loads(json.dumps(synthesis.to_dict()))
    assert set(d) == {"interviews", "questions"}
    for q in d["questions"]:
        assert set(q) == {"question", "answered", "themes", "other"}
        for t in q["themes"]:
            assert set(t) == {"title", "interviews", "also", "quotes"}
            assert all(set(x) == {"interview", "start", "end", "text"} for x in t["quotes"])
        sizes = [len(t["interviews"]) for t in q["themes"]]
        assert sizes == sorted(sizes, reverse=True)


def test_adjusted_rand_index():
    assert adjusted_rand_index([1, 1, 2, 2], ["a", "a", "b", "b"]) == 1.0
    assert adjusted_rand_index([1, 1, 1, 1], [1, 1, 1, 1]) == 1.0
    # the textbook example: 0.24242...
    assert adjusted_rand_index([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) == pytest.approx(
        0.242424, abs=1e-5)
    with pytest.raises(ValueError):
        adjusted_rand_index([1], [1, 2])


def test_a_brief_carries_the_synthesis_and_the_deck_its_chart_and_findings(tmp_path,
                                                                           transcripts):
    interviews = tuple(BriefInterview(t) for t in transcripts)
    questions = (OBSTACLE, BOARD)
    # without forms the brief finds each answer again, where the questions were asked
    expected = synthesise(questions, [iv.transcript for iv in with_answers(
        interviews, questions)]).to_dict()
    secret = next(w for w in expected["questions"][0]["themes"][0]["title"].split()
                  if len(w) > 4)  # a word of a title and of quotes: redacted in the brief
    inp = BriefInput(job_id="job-5e1f00aa", version=1,
                     issued_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
                     terms=JobTerms(1100, "USD", 24), interviews=interviews,
                     questions=questions, redact_terms=(secret,))
    build_brief(inp, tmp_path / "brief", preview=False)
    root = tmp_path / "brief"
    syn = json.loads((root / "synthesis.json").read_text())
    assert [[t["interviews"] for t in q["themes"]] for q in syn["questions"]] == [
        [t["interviews"] for t in q["themes"]] for q in expected["questions"]]
    obstacle = syn["questions"][0]
    assert obstacle["themes"][0]["interviews"] == [1, 2, 3]
    assert secret.lower() not in json.dumps(syn).lower()  # through the redactor
    assert "[" in obstacle["themes"][0]["title"]
    md = (root / "synthesis.md").read_text()
    answered = obstacle["answered"]
    assert f"### 1. 3 of {answered} executives: " in md and "Interview 1, " in md
    assert "synthesis.md" in (root / "job-spec.md").read_text().split("## Where to start")[1]

    deck = Presentation(str(root / "starter-deck.pptx"))
    charts = [sh.chart for s in deck.slides for sh in s.shapes if sh.has_chart]
    assert len(charts) == 2
    obstacle_chart = charts[0].plots[0]
    assert list(obstacle_chart.series[0].values) == [len(t["interviews"])
                                                     for t in obstacle["themes"]]
    assert list(obstacle_chart.categories) == [t["title"] for t in obstacle["themes"]]
    findings = [s for s in deck.slides if s.slide_layout.name == "Finding"
                and re.match(r"\d+ of \d+ executives: ", s.shapes.title.text)]
    titles = [s.shapes.title.text for s in findings]
    assert titles[:2] == [
        f"{len(t['interviews'])} of {answered} executives: {t['title']}"
        for t in obstacle["themes"][:2]]
    body = " ".join(sh.text_frame.text for sh in findings[0].shapes if sh.has_text_frame)
    assert obstacle["themes"][0]["quotes"][0]["text"] in body  # the most representative
    notes = findings[0].notes_slide.notes_text_frame.text
    assert obstacle["themes"][0]["quotes"][0]["text"] in notes and "Interview " in notes
    # the zip carries it too
    zipped = tmp_path / "b.zip"
    from deck_builder.package import zip_package

    zip_package(root, zipped, root="job")
    with zipfile.ZipFile(zipped) as z:
        assert {"job/synthesis.json", "job/synthesis.md"} <= set(z.namelist())
