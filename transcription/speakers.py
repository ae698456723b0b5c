"""Speaker turns for interview recordings, offline, on a CPU (Resemblyzer + spectral clustering).

Audio comes in consecutive windows and is never kept, so memory stays flat.

* ``"voices"`` (mono): webrtcvad finds speech; Resemblyzer embeds 1.6 s partials every 0.125 s;
  spectral clustering splits them into voices. A window is clustered together with the
  embeddings of the previous ~60 s of speech, whose frames stay provisional (a later window can
  still relabel them); clusters are linked to the recording's speakers by cosine similarity to
  running-mean centroids.
* ``"channels"`` (stereo, one voice per channel): speaker k is channel k; a frame is speech on a
  channel when the VAD says so and the channel is not far quieter than the other (bleed).
"""

from __future__ import annotations

import bisect
import functools
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from transcription.errors import EngineUnavailableError

SAMPLE_RATE = 16000
_FRAME_S = 0.03  # webrtcvad frame (it takes 10, 20 or 30 ms)
_FRAME_N = int(SAMPLE_RATE * _FRAME_S)
_VAD_MODE = 3  # with gap closing: 8.7 % missed (mostly overlap), 1.1 % false alarm on pyannote
_CLOSE_GAP = 10  # frames: pauses <= 0.3 s inside a turn are speech (VAD flicker)
_PARTIAL_RATE = 8.0  # partials per second (RECIPES; rate 4 costs 2 points of DER)
_MIN_VOICED = 0.8  # partials >= 80 % speech are embedded: pyannote DER 14 % (16 % at 50 %)
_BATCH = 256  # partials per forward pass: bounds memory on long windows
_TAIL = 56  # frames (1.68 s) of audio carried into the next window: a partial is 1.6 s
_CONTEXT = 480  # partials (~60 s of speech) clustered again with the next window
_MAX_SPECTRAL = 500  # spectral clustering is O(n^3): cluster a subsample, assign the rest
_MIN_CLUSTER = 8  # partials (1 s): a smaller cluster is no voice
_MIN_RUN = 12  # partials (1.5 s): a shorter run is no turn when counting turn-taking

# Whether two clusters are two voices. Cosine similarity of their centroids and the turns they
# take (runs >= 1.5 s; A-B-A = 3), measured on 2-way spectral splits at rate 8:
#   one voice:  jfk 0.71-0.83, 1-2 turns; librispeech reader 0.91-0.94, 2-3 turns;
#               espeak-ng, 2 min: 0.95-0.96, 3-20 turns
#   two voices: pyannote call (30 s) 0.88, 4 turns (0.80 even with oracle turns);
#               espeak-ng male/female interview 0.93, 4 turns in 30 s; jfk vs reader 0.54
# Similarity alone cannot count these voices: the more alike two clusters sound, the more
# turn-taking it takes to call them two.
_DISTINCT = 0.65  # below: two voices outright
_SIMILAR = 0.85  # below: two voices if they take >= 3 turns; from here on >= 4 turns
_SAME = 0.945  # from here on: one voice
# A cluster joins the known speaker it is assigned to (Hungarian, on cosine similarity) when
# at least this similar, else it is a new speaker. Measured in 10 s windows: the same speaker
# 0.93-1.00, the other caller 0.84-0.91 (the assignment tells them apart), a new voice 0.57-0.61.
_LINK = 0.75
_NEAR_S = 1.6  # speech farther than a partial's length from any embedded one: no speaker
_MIN_TURN_S = 0.25  # isolated bits shorter than this are dropped (clicks, breaths)
_MERGE_GAP_S = 0.3  # same speaker, gap <= this: one turn

# "channels": a frame is a channel's own voice when at most this much quieter than the other
# channel; the other voice's bleed sits 15-30 dB below it on two-mic recordings.
_BLEED_MARGIN_DB = 10.0
_ACTIVE_DBFS = -50.0  # quieter than this on both channels: silence
_LEAD_DB = 6.0  # ChannelSimilarity: a channel leads a frame when this much louder


@dataclass(frozen=True)
class SpeakerTurn:
    start: float  # seconds from the recording's start
    end: float
    speaker: str  # "Speaker 1", ... by first appearance ("channels": Speaker k+1 is channel k)


@functools.lru_cache(maxsize=1)
def _encoder() -> Any:
    """The Resemblyzer voice encoder, loaded once per process (weights ship in the wheel)."""
    try:
        with warnings.catch_warnings():  # it imports the deprecated scipy.ndimage.morphology
            warnings.simplefilter("ignore", DeprecationWarning)
            from resemblyzer import VoiceEncoder
    except ImportError as exc:
        raise EngineUnavailableError(
            f"Speaker turns need the resemblyzer library, which is not installed ({exc}).",
            fix="pip install --no-deps resemblyzer==0.1.4 (see scripts/setup)") from exc
    return VoiceEncoder(device="cpu", verbose=False)  # verbose prints to stdout


class Diarizer:
    """Speaker turns of one recording, fed window by window (see the module docstring).

    num_speakers, when known (the interview form says how many people speak), is the count:
    each window is split into that many voices (as far as it has speech enough for them) and
    voices are merged only down to it; without it, the count is found (at most max_speakers)."""

    def __init__(self, *, mode: str = "voices", max_speakers: int = 4,
                 num_speakers: int | None = None, threads: int = 1) -> None:
        if mode not in ("voices", "channels"):
            raise ValueError(f"mode must be 'voices' or 'channels', not {mode!r}")
        self.mode, self.threads = mode, threads
        self.max_speakers = max(1, num_speakers or max_speakers)
        self.num_speakers = num_speakers
        self._turns: list[tuple[float, float, int]] = []  # final (start, end, speaker id)
        self._sums: dict[int, np.ndarray] = {}  # speaker id -> sum of its final partials
        # provisional: the latest partials (embedding, centre in s, speaker id) and the start
        # times of the speech frames they label
        self._emb, self._t = np.zeros((0, 256), np.float32), np.zeros(0)
        self._ids, self._frames = np.zeros(0, dtype=int), np.zeros(0)
        self._next_id = 0
        self._tail, self._tail_end = np.zeros(0, np.float32), 0.0  # the last window's end
        if mode == "voices":
            _encoder()  # fail before any audio is read when resemblyzer is missing

    def add_window(self, offset: float, samples: np.ndarray) -> None:
        """The next window: float32 at 16 kHz ((n, 2) in "channels"), starting at offset s."""
        from threadpoolctl import threadpool_limits  # a scikit-learn dependency

        x = np.asarray(samples, dtype=np.float32)
        if self.mode == "channels" and (x.ndim != 2 or x.shape[1] != 2):
            raise ValueError(f"mode 'channels' needs (n, 2) samples, got shape {x.shape}")
        # OpenBLAS on 2 threads of 2 cores: an eigh of 480 partials takes 2.4 s, on 1 0.02 s
        with threadpool_limits(limits=self.threads):
            if self.mode == "channels":
                self._add_channels(offset, x)
            else:
                self._add_voices(offset, x.mean(axis=1) if x.ndim == 2 else x)

    def turns(self) -> list[SpeakerTurn]:
        """All turns, after the last window: sorted, non-overlapping, same-speaker runs merged."""
        self._settle(keep=0)
        if self.mode == "channels":
            turns, names = _merge(self._turns), {0: "Speaker 1", 1: "Speaker 2"}
        else:
            ids = self._final_ids()
            turns, names = _merge([(s, e, ids[g]) for s, e, g in self._turns]), {}
            for _, _, g in turns:  # numbered by first appearance
                names.setdefault(g, f"Speaker {len(names) + 1}")
        return [SpeakerTurn(round(s, 3), round(e, 3), names[g]) for s, e, g in turns]

    def _add_channels(self, offset: float, x: np.ndarray) -> None:
        levels = np.stack([_frame_dbfs(x[:, c]) for c in (0, 1)], axis=1)
        active = np.stack([_speech_mask(x[:, c]) for c in (0, 1)], axis=1)
        active &= (levels > _ACTIVE_DBFS) & (levels >= levels[:, ::-1] - _BLEED_MARGIN_DB)
        active = np.stack([_close_gaps(active[:, c]) for c in (0, 1)], axis=1)
        # both at once: turns do not overlap, the louder channel has the floor
        label = np.where(active.all(axis=1), levels.argmax(axis=1), active[:, 1].astype(int))
        idx = np.flatnonzero(active.any(axis=1))
        self._turns.extend(_frame_turns(offset + idx * _FRAME_S, label[idx]))

    def _add_voices(self, offset: float, x: np.ndarray) -> None:
        skip = 0  # the previous window's last 1.68 s come along: partials span the boundary
        if len(self._tail) and abs(offset - self._tail_end) < 1e-3:
            skip = len(self._tail) // _FRAME_N
            offset, x = offset - len(self._tail) / SAMPLE_RATE, np.concatenate([self._tail, x])
        self._tail = x[max(0, len(x) // _FRAME_N - _TAIL) * _FRAME_N :]
        self._tail_end = offset + len(x) / SAMPLE_RATE
        mask = _speech_mask(x)
        speech = offset + (np.flatnonzero(mask[skip:]) + skip) * _FRAME_S
        self._frames = np.concatenate([self._frames, speech])
        emb, centres = self._embed(x, mask, skip * _FRAME_N)
        if len(emb):
            old = len(self._emb)
            self._emb = np.concatenate([self._emb, emb])
            self._t = np.concatenate([self._t, offset + centres])
            labels = self._cluster(self._emb)
            self._ids = self._link(labels, old)[labels]
        self._settle(keep=_CONTEXT)

    def _embed(self, x: np.ndarray, mask: np.ndarray, new_from: int
               ) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of the mostly voiced partials that reach past sample new_from (earlier
        ones came with the previous window), and their centres in seconds."""
        import torch
        from resemblyzer import normalize_volume, wav_to_mel_spectrogram

        torch.set_num_threads(self.threads)  # process-wide; 2 threads on 2 cores: 4x slower
        enc = _encoder()
        none = np.zeros((0, 256), np.float32), np.zeros(0)
        if not mask.any():  # also keeps normalize_volume off digital silence (log of 0)
            return none
        # not preprocess_wav(): it cuts silences and would shift every timestamp
        wav = normalize_volume(x, -30, increase_only=True).astype(np.float32)
        wav_slices, mel_slices = enc.compute_partial_slices(len(wav), _PARTIAL_RATE, 0.75)
        wav = np.pad(wav, (0, max(0, wav_slices[-1].stop - len(wav))))
        voiced = np.concatenate([[0], np.cumsum(mask)])
        kept = []
        for i, s in enumerate(wav_slices):
            a, b = min(len(mask), s.start // _FRAME_N), min(len(mask), s.stop // _FRAME_N)
            if s.stop > new_from and b > a and voiced[b] - voiced[a] >= _MIN_VOICED * (b - a):
                kept.append(i)
        if not kept:
            return none
        mel, out = wav_to_mel_spectrogram(wav), []
        with torch.no_grad():
            for i in range(0, len(kept), _BATCH):
                batch = np.stack([mel[mel_slices[j]] for j in kept[i : i + _BATCH]])
                out.append(enc(torch.from_numpy(batch)).numpy())
        centres = np.array([(wav_slices[j].start + wav_slices[j].stop) / 2 for j in kept])
        return np.concatenate(out), centres / SAMPLE_RATE

    def _cluster(self, emb: np.ndarray) -> np.ndarray:
        """Labels 0..k-1 of time-ordered partials: the largest k whose clusters are all voices
        two by two (_one_voice)."""
        best = np.zeros(len(emb), dtype=int)
        if self.num_speakers:  # known: as many as there is speech for
            for k in range(min(self.num_speakers, len(emb) // _MIN_CLUSTER), 1, -1):
                labels = _spectral(emb, k)
                if np.bincount(labels, minlength=k).min() >= _MIN_CLUSTER:
                    return labels
            return best
        for k in range(2, min(self.max_speakers, len(emb) // _MIN_CLUSTER) + 1):
            labels = _spectral(emb, k)
            if np.bincount(labels, minlength=k).min() < _MIN_CLUSTER:
                break
            c = _centroids(emb, labels, k)
            sim = c @ c.T
            if any(_one_voice(sim[a, b], _turn_taking(labels, a, b, _MIN_RUN))
                   for a in range(k) for b in range(a + 1, k)):
                break
            # one voice split in three passes that test as often as two similar voices split
            # in two (same similarities, same turn-taking), so no voice may resemble two
            # others: a caller pair and a reader (0.58) are three; three alike callers are two
            if ((sim >= _DISTINCT).sum(axis=1) > 2).any():
                break
            best = labels
        return best

    def _link(self, labels: np.ndarray, old: int) -> np.ndarray:
        """Speaker id of each cluster; the partials before `old` carry provisional ids."""
        from scipy.optimize import linear_sum_assignment

        k = int(labels.max()) + 1
        cents, prev = _centroids(self._emb, labels, k), self._ids[:old]
        known = sorted(set(self._sums) | set(prev.tolist()))
        # a speaker's centroid: its final partials plus its provisional ones
        sums = [self._sums.get(g, 0) + self._emb[:old][prev == g].sum(axis=0) for g in known]
        sim = cents @ np.stack([_unit(s) for s in sums]).T if known else np.zeros((k, 0))
        ids = np.full(k, -1)
        for r, c in zip(*linear_sum_assignment(-sim), strict=True):
            if sim[r, c] >= _LINK:
                ids[r] = known[c]
        for r in np.flatnonzero(ids < 0):
            if len(known) < self.max_speakers or not known:
                ids[r], self._next_id = self._next_id, self._next_id + 1
                known.append(int(ids[r]))
            else:  # no room for another voice: the most similar one
                ids[r] = known[int(sim[r].argmax())]
        return ids

    def _settle(self, keep: int) -> None:
        """Make final all but the latest `keep` partials, and the speech frames they label."""
        if len(self._t) == 0:
            self._frames = self._frames if keep else np.zeros(0)
            return
        cut = max(0, len(self._t) - keep)
        hi = np.searchsorted(self._t, self._frames).clip(0, len(self._t) - 1)
        lo = (hi - 1).clip(0)
        near = np.where(self._frames - self._t[lo] <= self._t[hi] - self._frames, lo, hi)
        done = near < cut if keep else np.ones(len(near), dtype=bool)
        heard = done & (np.abs(self._frames - self._t[near]) <= _NEAR_S)
        self._turns.extend(_frame_turns(self._frames[heard], self._ids[near[heard]]))
        self._frames = self._frames[~done]
        for g in np.unique(self._ids[:cut]).tolist():
            self._sums[g] = self._sums.get(g, 0) + self._emb[:cut][self._ids[:cut] == g].sum(0)
        self._emb, self._t, self._ids = self._emb[cut:], self._t[cut:], self._ids[cut:]

    def _final_ids(self) -> dict[int, int]:
        """Merge speakers that turn out to be one voice over the whole recording."""
        ids, sums = {g: g for g in self._sums}, dict(self._sums)
        while len(sums) > 1:
            order = [ids[g] for s, e, g in sorted(self._turns) if e - s >= _MIN_RUN / _PARTIAL_RATE]
            pairs = []
            for a, b in ((a, b) for a in sums for b in sums if a < b):
                sim = float(_unit(sums[a]) @ _unit(sums[b]))
                one = _one_voice(sim, _turn_taking(order, a, b))
                if self.num_speakers:  # known count: merge only the voices beyond it
                    one = len(sums) > self.num_speakers
                pairs.append((one or len(sums) > self.max_speakers, sim, a, b))
            must, _, a, b = max(pairs)
            if not must:
                break
            sums[a] = sums[a] + sums.pop(b)
            ids = {g: a if v == b else v for g, v in ids.items()}
        return ids


def _one_voice(sim: float, turns: int) -> bool:
    """Whether two clusters are one voice (see _DISTINCT, _SIMILAR, _SAME)."""
    return sim >= _DISTINCT and (sim >= _SAME or turns < (3 if sim < _SIMILAR else 4))


def _turn_taking(seq: Sequence[int] | np.ndarray, a: int, b: int, min_run: int = 1) -> int:
    """Turns taken by a and b in seq (other values skipped; runs shorter than min_run too)."""
    runs = [v for v, s, e in _runs([x for x in seq if x in (a, b)]) if e - s >= min_run]
    return sum(1 for i, v in enumerate(runs) if i == 0 or runs[i - 1] != v)


def _runs(values: Sequence[Any]) -> list[tuple[Any, int, int]]:
    """(value, start, end) of each run of equal values."""
    out: list[tuple[Any, int, int]] = []
    for i, v in enumerate(values):
        if out and out[-1][0] == v:
            out[-1] = (v, out[-1][1], i + 1)
        else:
            out.append((v, i, i + 1))
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _centroids(emb: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return np.stack([_unit(emb[labels == i].mean(axis=0)) for i in range(k)])


def _spectral(emb: np.ndarray, k: int) -> np.ndarray:
    """SpectralClusterer(min_clusters=k, max_clusters=k) of spectralcluster, with a symmetric
    solver for the top k eigenvectors only (its np.linalg.eig: 1 s on 600 partials; this:
    0.15 s). No affinity refinement: the ICASSP-2018 sequence takes pyannote from 16 % to 35 %
    DER, and eigengap counting says 1 or 4 speakers at random on these embeddings."""
    from scipy.linalg import eigh
    from spectralcluster.custom_distance_kmeans import run_kmeans

    step = max(1, math.ceil(len(emb) / _MAX_SPECTRAL))
    sub = emb[::step] / np.linalg.norm(emb[::step], axis=1, keepdims=True)
    _, vectors = eigh((sub @ sub.T + 1) / 2, subset_by_index=[len(sub) - k, len(sub) - 1])
    labels = np.asarray(run_kmeans(vectors[:, ::-1], k, custom_dist="cosine", max_iter=300))
    # consecutive partials overlap by 1.5 s: the rest join the nearest centroid
    return labels if step == 1 else (emb @ _centroids(sub, labels, k).T).argmax(axis=1)


def _frame_dbfs(x: np.ndarray) -> np.ndarray:
    """RMS level of each 30 ms frame, in dBFS."""
    frames = x[: len(x) // _FRAME_N * _FRAME_N].astype(np.float64).reshape(-1, _FRAME_N)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def _speech_mask(x: np.ndarray) -> np.ndarray:
    """webrtcvad speech flags per 30 ms frame, short pauses closed."""
    import webrtcvad

    vad, pcm = webrtcvad.Vad(_VAD_MODE), (np.clip(x, -1.0, 1.0) * 32767).astype("<i2")
    return _close_gaps(np.array([vad.is_speech(pcm[i : i + _FRAME_N].tobytes(), SAMPLE_RATE)
                                 for i in range(0, len(pcm) - _FRAME_N + 1, _FRAME_N)], bool))


def _close_gaps(mask: np.ndarray) -> np.ndarray:
    """Fill runs of at most _CLOSE_GAP False frames between True frames."""
    out = mask.copy()
    for value, a, b in _runs(mask.tolist()):
        out[a:b] |= not value and a > 0 and b < len(mask) and b - a <= _CLOSE_GAP
    return out


def _frame_turns(starts: np.ndarray, ids: np.ndarray) -> list[tuple[float, float, int]]:
    """Turns from time-sorted 30 ms speech frames and their speaker ids."""
    out: list[tuple[float, float, int]] = []
    for s, g in zip(starts.tolist(), ids.tolist(), strict=True):
        if out and out[-1][2] == g and s - out[-1][1] < _FRAME_S / 2:
            out[-1] = (out[-1][0], s + _FRAME_S, g)
        else:
            out.append((s, s + _FRAME_S, g))
    return out


def _merge(turns: Iterable[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    """Sorted turns; a speaker's turns across a short gap joined; isolated bits dropped."""
    for _ in range(2):  # again after dropping: the neighbours of a dropped bit may now meet
        out: list[tuple[float, float, int]] = []
        for s, e, g in sorted(turns):
            if out and out[-1][2] == g and s - out[-1][1] <= _MERGE_GAP_S:
                out[-1] = (out[-1][0], max(e, out[-1][1]), g)
            else:
                out.append((s, e, g))
        turns = [t for t in out if t[1] - t[0] >= _MIN_TURN_S]
    return list(turns)


class ChannelSimilarity:
    """Whether a stereo recording carries a different voice on each channel, accumulated over
    windows: add((n, 2) float arrays), then read .distinct. A mono recording stored as stereo
    has the same level on both channels; one mic per person makes each channel lead by many
    dB in some frames (its own voice)."""

    def __init__(self) -> None:
        self.active = self.left_leads = self.right_leads = 0  # 30 ms frames

    def add(self, stereo: np.ndarray) -> None:
        left, right = _frame_dbfs(stereo[:, 0]), _frame_dbfs(stereo[:, 1])
        active = np.maximum(left, right) > _ACTIVE_DBFS
        self.active += int(active.sum())
        self.left_leads += int((active & (left - right >= _LEAD_DB)).sum())
        self.right_leads += int((active & (right - left >= _LEAD_DB)).sum())

    @property
    def distinct(self) -> bool:
        # each channel leads in >= 5 % of the active frames: both people speak, each on their
        # own mic. jfk.flac (mono as stereo): 0 % and 0 %; jfk left and a reader right with
        # -25 dB bleed: 57 % and 43 %
        return self.active > 0 and min(self.left_leads, self.right_leads) >= 0.05 * self.active


def channels_are_distinct(left: np.ndarray, right: np.ndarray) -> bool:
    """True when a stereo recording carries a different voice on each channel."""
    acc, n = ChannelSimilarity(), min(len(left), len(right))
    acc.add(np.stack([np.asarray(left[:n]), np.asarray(right[:n])], axis=1))
    return acc.distinct


def assign_speakers(spans: Sequence[tuple[float, float]],
                    turns: Sequence[SpeakerTurn]) -> list[str | None]:
    """Speaker of each (start, end) transcript segment: most overlap, else nearest turn <= 1 s.
    Turns are sorted and non-overlapping, so each span only looks at its neighbours (a 2-hour
    interview has tens of thousands of words and thousands of turns)."""
    turns = sorted(turns, key=lambda t: t.start)
    ends = [t.end for t in turns]
    out: list[str | None] = []
    for start, end in spans:
        i = bisect.bisect_right(ends, start)  # first turn ending after the span starts
        overlap: dict[str, float] = {}
        j = i
        while j < len(turns) and turns[j].start < end:
            shared = min(end, turns[j].end) - max(start, turns[j].start)
            if shared > 0:
                overlap[turns[j].speaker] = overlap.get(turns[j].speaker, 0.0) + shared
            j += 1
        if overlap:
            out.append(max(overlap, key=overlap.__getitem__))
            continue
        near = [(max(t.start - end, start - t.end), t.speaker)
                for t in turns[max(0, i - 1):i + 1]]
        gap, speaker = min(near, default=(math.inf, None))
        out.append(speaker if gap <= 1.0 else None)
    return out


def talk_time(turns: Iterable[SpeakerTurn]) -> dict[str, float]:
    """Seconds of speech per speaker."""
    out: dict[str, float] = {}
    for t in turns:
        out[t.speaker] = out.get(t.speaker, 0.0) + (t.end - t.start)
    return out


def roles(turns: Iterable[SpeakerTurn], interviewer: str | None = None) -> dict[str, str]:
    """With exactly two speakers: the interviewer (the given label, else the one who talks
    less) and the interviewee. Otherwise {}."""
    times = talk_time(turns)
    if len(times) != 2:
        return {}
    asks = interviewer if interviewer in times else min(times, key=lambda s: (times[s], s))
    return {s: "interviewer" if s == asks else "interviewee" for s in times}


def read_rttm(path: str | Path) -> list[SpeakerTurn]:
    """Reference turns from an RTTM file (speaker = the RTTM's speaker name)."""
    rows = [f.split() for f in Path(path).read_text().splitlines()]
    return sorted((SpeakerTurn(float(f[3]), float(f[3]) + float(f[4]), f[7])
                   for f in rows if len(f) >= 8 and f[0] == "SPEAKER"),
                  key=lambda t: (t.start, t.end))


def diarization_error_rate(reference: Sequence[SpeakerTurn], hypothesis: Sequence[SpeakerTurn],
                           step: float = 0.01) -> float:
    """Frame-level DER, no collar: (missed + false alarm + confusion) / reference speech, with
    the optimal one-to-one speaker mapping; a frame with two reference speakers counts two."""
    from scipy.optimize import linear_sum_assignment

    n = int(math.ceil(max([t.end for t in [*reference, *hypothesis]], default=0.0) / step)) + 1

    def activity(turns: Sequence[SpeakerTurn]) -> np.ndarray:
        names = sorted({t.speaker for t in turns})
        m = np.zeros((n, max(1, len(names))), dtype=bool)
        for t in turns:
            m[int(round(t.start / step)) : int(round(t.end / step)), names.index(t.speaker)] = True
        return m

    ref, hyp = activity(reference), activity(hypothesis)
    n_ref, n_hyp = ref.sum(axis=1), hyp.sum(axis=1)
    if n_ref.sum() == 0:
        return 0.0 if n_hyp.sum() == 0 else 1.0
    overlap = ref.T.astype(np.int64) @ hyp.astype(np.int64)
    correct = overlap[linear_sum_assignment(-overlap)].sum()
    # per frame, NIST: missed max(0, ref - hyp), false alarm max(0, hyp - ref), confusion
    # min(ref, hyp) - correctly mapped
    errors = np.abs(n_ref - n_hyp).sum() + np.minimum(n_ref, n_hyp).sum() - correct
    return float(errors) / float(n_ref.sum())
