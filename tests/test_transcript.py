"""Transcript values and their writers."""

from __future__ import annotations

import json

from transcription.transcript import (
    QualityFlag,
    QualityReport,
    Segment,
    Transcript,
    Word,
    render,
    to_srt,
    to_txt,
    to_vtt,
    write_files,
)


def _transcript(sha="a" * 64) -> Transcript:
    def seg(start, end, text, speaker):
        words = tuple(Word(start + i * 0.4, start + i * 0.4 + 0.3, w, 0.91 - i / 100)
                      for i, w in enumerate(text.split()))
        return Segment(start, end, text, -0.21, 0.013, words, speaker, 1.31)

    return Transcript(
        segments=(seg(0.0, 2.5, "What is your priority?", "Speaker 1"),
                  seg(3.1, 6.0, "Growing services.", "Speaker 2"),
                  seg(6.2, 9.75, "And recurring revenue, 1/3 of sales.", "Speaker 2"),
                  seg(3725.5, 3728.04, "Thank you.", "Speaker 1")),
        duration=3730.123, language="en", language_probability=0.987654321,
        engine="faster-whisper", model="tiny.en", model_sha256="b" * 64,
        options={"beam_size": 5, "vad": True}, roles={"Speaker 1": "interviewer"},
        quality=QualityReport((QualityFlag("low-confidence", "why", 1.0, 2.0),),
                              ("repetition", "no-words")),
        source_sha256=sha)


def test_json_round_trips_losslessly():
    t = _transcript()
    again = Transcript.from_json(t.to_json())
    assert again == t
    assert json.loads(t.to_json())["schema"] == 1


def test_txt_is_spoken_words_only_one_paragraph_per_turn():
    txt = to_txt(_transcript())
    assert txt == ("What is your priority?\n\nGrowing services. And recurring revenue, 1/3 of "
                   "sales.\n\nThank you.\n")
    assert "Speaker" not in txt and "-->" not in txt


def test_srt_and_vtt_have_times_and_speakers():
    srt = to_srt(_transcript())
    assert srt.startswith("1\n00:00:00,000 --> 00:00:02,500\n[Speaker 1] What is your priority?\n")
    assert "4\n01:02:05,500 --> 01:02:08,040\n[Speaker 1] Thank you." in srt
    vtt = to_vtt(_transcript())
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:02.500\n<v Speaker 1>What is")
    assert render(_transcript(), "vtt") == vtt


def test_write_files_never_overwrites_another_recordings_output(tmp_path):
    first = write_files(_transcript("1" * 64), tmp_path, "exec-1", ["json", "txt"])
    assert first["txt"].name == "exec-1.txt"
    rerun = write_files(_transcript("1" * 64), tmp_path, "exec-1", ["json", "txt"])
    assert rerun["txt"].name == "exec-1.txt"  # the same recording again: same files
    other = write_files(_transcript("2" * 64), tmp_path, "exec-1", ["json", "txt"])
    assert other["txt"].name == "exec-1-22222222.txt"
    assert Transcript.from_json(first["json"].read_text()).source_sha256 == "1" * 64
    assert not list(tmp_path.glob(".*.tmp"))
