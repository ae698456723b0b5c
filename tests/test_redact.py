"""Redaction: speech-model misspellings of client names are caught, ordinary words are not."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from deck_builder.redact import KINDS, Redactor, pseudonyms

TERMS = ("Zentravia", "Halvorsen Logistics", "Acme", "Kwantix", "Stratton")
REDACTOR = Redactor(terms=TERMS,
                    names=Redactor.for_names(["Ingrid Halvorsen", "Tom Reed", "Priya Raman"]))


@pytest.mark.parametrize("heard", [
    "Zentravia", "ZENTRAVIA", "zentravia", "Zen Travia", "Zentravian", "zentra via", "Sentravia",
    "Zen-travia", "Zentravía", "Centravia", "Zentrevia",
    "Halvorsen Logistics", "Halverson logistics", "halvorsen-logistics", "Halvorson Logistic",
    "Acme", "ACME", "Kwantix", "Quantix", "Kwantics", "Stratton", "Straton",
])
def test_misspelt_terms_are_redacted(heard):
    sentence = f"We spoke to {heard} last week about pricing."
    assert REDACTOR.redact(sentence) == "We spoke to [redacted] last week about pricing."


@pytest.mark.parametrize("text", [
    "central", "the entrance", "travel", "trivia", "via the centre", "Zen and the art",
    "a central travel agency", "extra via", "logistics", "Halloween", "halves",
    "acne", "acre", "came", "quantity", "quant", "kwanza", "station", "straight on",
    "strata", "sentry", "Sentra", "Tomorrow", "reed", "Priyanka", "rama", "Ingrained",
])
def test_near_misses_are_left_alone(text):
    tally: Counter[str] = Counter()
    assert REDACTOR.redact(text, tally) == text
    assert not tally


def test_possessives_and_hyphens_keep_the_surrounding_text():
    text = "Zentravia's CFO, a Zentravia-wide plan, and Halvorsen Logistics' fleet."
    assert REDACTOR.redact(text) == ("[redacted]'s CFO, a [redacted]-wide plan, and "
                                     "[redacted]' fleet.")


def test_longest_term_wins_and_adjacent_words_survive():
    assert REDACTOR.redact("at Halvorsen Logistics and Zentravia") == (
        "at [redacted] and [redacted]")
    assert REDACTOR.redact("a Zentravia deal") == "a [redacted] deal"


def test_emails():
    text = "Write to jane.doe+deals@zentravia.com or J.DOE@Example.CO.UK."
    tally: Counter[str] = Counter()
    assert REDACTOR.redact(text, tally) == "Write to [email] or [email]."
    assert tally == Counter(email=2)


@pytest.mark.parametrize("number", [
    "+1 (415) 555-0132", "415.555.0132", "+44 20 7946 0958", "020 7946 0958", "415-555-0132",
    "(415) 555-0132", "+1-800-555-0199", "+33 1 23 45 67 89", "+4915112345678", "555-0132",
    # groups of five digits or more: international or with a trunk prefix
    "+49 30 1234567", "0049 30 1234567", "+49 (0)30 1234567", "+91 98765 43210", "07700 900123",
])
def test_phone_numbers(number):
    tally: Counter[str] = Counter()
    out = REDACTOR.redact(f"Call me on {number} tomorrow.", tally)
    assert out == "Call me on [phone] tomorrow."
    assert tally == Counter(phone=1)


@pytest.mark.parametrize("text", [
    "In 2026 we grew.", "At 04:31 she said it.", "It costs $1,100 per slide.",
    "We interviewed 25 executives.", "The date was 2026-11-02.", "From 1999-2004 and 2019 2020.",
    "Revenue hit 1,100,000 dollars.", "Margins were 12.5 percent or 3.5%.", "Version 3.11.7",
    "Between 10:30-11:45 we met.", "Scores were 10 20 30 40.", "On 02.11.2026 we signed.",
    "1.100.000 euros", "Q3 2026 and Q4 2026", "In 2023 150000 trucks left.", "Pi is 3.14159265.",
    "A 0.1234567 share.",
])
def test_numbers_that_are_not_phones(text):
    assert REDACTOR.redact(text) == text


def test_names_become_pseudonyms():
    text = ("Ingrid Halvorsen joined. Ingrid said Ms. Halvorsen's team agrees; "
            "ingrid halvorsen later emailed. Tom Reed and Reed disagreed; Priya Raman nodded. "
            "Ingrid Halverson (misheard) too.")
    tally: Counter[str] = Counter()
    out = REDACTOR.redact(text, tally)
    assert out == ("Executive A joined. Executive A said Ms. Executive A's team agrees; "
                   "Executive A later emailed. Executive B and Executive B disagreed; "
                   "Executive C nodded. Executive A (misheard) too.")
    assert tally == Counter(name=8)


def test_lower_case_first_or_last_name_alone_is_not_a_name():
    assert REDACTOR.redact("the reed beds and a tom cat") == "the reed beds and a tom cat"


def test_counts_by_kind_without_mutating_the_redactor():
    text = ("Zentravia (jane@zentravia.com, +1 415 555 0132) told Tom Reed that Sentravia and "
            "Halverson logistics merged.")
    tally: Counter[str] = Counter()
    out = REDACTOR.redact(text, tally)
    assert tally == Counter(term=3, email=1, phone=1, name=1)
    assert set(tally) <= set(KINDS)
    assert REDACTOR.counts(text) == tally
    assert REDACTOR.redact(out) == out  # redacting twice changes nothing more
    assert Redactor(terms=TERMS, names=dict(REDACTOR.names)) == REDACTOR


def test_output_never_contains_a_term():
    text = " ".join(f"{t}, {t.upper()}, {t.lower()}'s and {t.replace(' ', '-')}" for t in TERMS)
    out = REDACTOR.redact(text)
    for term in TERMS:
        assert term.lower() not in out.lower()
    assert re.fullmatch(r"(\[redacted\]|[\s,'a-z-])+", out)


def test_short_terms_match_whole_words_only():
    redactor = Redactor(terms=("Io", "BMX"))
    assert redactor.redact("Io and BMX, bmx; iota, bmxs, Ion") == (
        "[redacted] and [redacted], [redacted]; iota, bmxs, Ion")


def test_redact_filename():
    tally: Counter[str] = Counter()
    name = REDACTOR.redact_filename("Zentravia CFO Ingrid Halvorsen (jane@x.com).m4a", tally)
    assert name == "redacted-CFO-Executive-A-email.m4a"
    assert tally == Counter(term=1, name=1, email=1)
    assert REDACTOR.redact_filename("zentra_via-notes.form.yaml") == "redacted-notes.form.yaml"
    assert REDACTOR.redact_filename("interview 2.docx") == "interview-2.docx"


def test_pseudonyms_go_past_z():
    names = pseudonyms([f"Person {i}" for i in range(28)] + ["Person 0"])
    assert list(names.values())[:2] == ["Executive A", "Executive B"]
    assert list(names.values())[25:] == ["Executive Z", "Executive AA", "Executive AB"]
    assert Redactor.for_names(["Jane Doe"], prefix="Buyer") == {"Jane Doe": "Buyer A"}


def test_empty_redactor_changes_nothing_but_contacts():
    assert Redactor().redact("Zentravia, call 415-555-0132") == "Zentravia, call [phone]"
    assert Redactor(terms=("", "  ")).terms == ()
    assert Redactor(terms="Zentravia").terms == ("Zentravia",)  # type: ignore[arg-type]
