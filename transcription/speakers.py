"""Speaker turns for interview recordings, offline, on a CPU (Resemblyzer + spectral clustering).

Audio arrives in consecutive windows of a few minutes, so memory stays flat: per window we keep
only its turns and its speakers' embedding centroids, never audio. A window's voices are linked
to the recording's speakers by cosine similarity of centroids (running means).

Two modes:

* ``"voices"``: mono audio. webrtcvad finds speech; Resemblyzer embeds 1.6 s partials every
  0.125 s; spectral clustering splits a window's partials into voices.
* ``"channels"``: stereo audio with one voice per channel (two-mic interview). Speaker k is
  channel k; a frame is speech on a channel when the VAD says so and the channel is not far
  quieter than the other one (that would be the other voice's bleed).

Thresholds were measured on the shared recordings (../shared/audio): see the constants below.
Resemblyzer separates two similar voices on a telephone line (pyannote-sample.wav) barely better
than it separates one speaker's phrases from each other (jfk.flac), so similarity alone cannot
count speakers; the count also uses turn-taking (a second voice must come back: A-B-A).
"""

from __future__ import annotations

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
_FRAME_S = 0.03  # webrtcvad frame (it accepts 10, 20 or 30 ms)
_FRAME_N = int(SAMPLE_RATE * _FRAME_S)
_VAD_AGGRESSIVENESS = 3  # mode 3 + gap closing: 8.7 % missed, 1.1 % false alarm on pyannote
_CLOSE_GAP_FRAMES = 10  # pauses <= 0.3 s inside a turn are speech (closes VAD flicker)
_PARTIAL_RATE = 8.0  # partials per second (RECIPES: rate=8)
_MIN_VOICED = 0.8  # keep partials >= 80 % speech: pyannote DER 14.3 % (15.9 % at 0.5)
_BATCH = 256  # partials per forward pass; bounds memory for long windows
_MIN_SPLIT_PARTIALS = 16  # under 2 s of speech a window is one voice: too little to split
_MIN_CLUSTER_PARTIALS = 8  # a voice needs >= 1 s of partials
_MIN_RUN_PARTIALS = 8  # a turn counts towards turn-taking when >= 1 s of partials long

# Cosine similarity of two clusters' centroids (measured, 2-way spectral split, rate 8):
#   same voice split in two: jfk 0.81-0.85, librispeech reader 0.82-0.92
#   two voices: telephone call (pyannote) 0.83-0.89 (0.80 with oracle turns), 10 s windows of
#   it 0.65-0.86; jfk vs librispeech reader 0.54.
# Below _DISTINCT two clusters are different voices outright; between _DISTINCT and _SAME they
# are different only if they take turns (A-B-A at least); above _SAME they are one voice.
_DISTINCT = 0.75
_SAME = 0.93
# Linking a window's cluster to a known speaker: a matched pair needs at least this similarity
# (same speaker across 10 s windows of pyannote: 0.80-0.93), else it starts a new speaker.
_LINK = 0.78
_CONTEXT_PARTIALS = 480  # ~60 s of speech carried into the next window's clustering
_MAX_SPECTRAL = 600  # spectral clustering is O(n^3): cluster a subsample, assign the rest
_MIN_TURN_S = 0.25  # shorter isolated bits are dropped (VAD clicks)
_MERGE_GAP_S = 0.3  # same speaker, gap <= this: one turn

# "channels" mode: a channel's frame is its own voice when it is at most this much quieter than
# the other channel; bleed of the other voice sits 15-30 dB below it on two-mic recordings.
_BLEED_MARGIN_DB = 10.0
_ACTIVE_DBFS = -50.0  # frames quieter than this on both channels are silence
_DOMINANT_DB = 6.0  # ChannelSimilarity: a channel "leads" a frame when this much louder


@dataclass(frozen=True)
class SpeakerTurn:
    start: float  # seconds from the recording's start
    end: float
    speaker: str  # "Speaker 1", "Speaker 2", ... numbered by first appearance


# ---------------------------------------------------------------- lazy engine


@functools.lru_cache(maxsize=1)
def _encoder() -> Any:
    """The Resemblyzer voice encoder, loaded once per process (17 MB weights in the wheel)."""
    try:
        with warnings.catch_warnings():
            # resemblyzer imports scipy.ndimage.morphology, deprecated in SciPy 1.x
            warnings.simplefilter("ignore", DeprecationWarning)
            from resemblyzer import VoiceEncoder
    except ImportError as exc:
        raise EngineUnavailableError(
            f"Speaker turns need the resemblyzer library, which is not installed ({exc}).",
            fix="pip install --no-deps resemblyzer==0.1.4 (see scripts/setup)",
        ) from exc
    return VoiceEncoder(device="cpu", verbose=False)


# ---------------------------------------------------------------- signal helpers


def _frame_dbfs(x: np.ndarray) -> np.ndarray:
    """RMS level of each 30 ms frame, in dBFS."""
    n = len(x) // _FRAME_N
    frames = x[: n * _FRAME_N].astype(np.float64).reshape(n, _FRAME_N)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def _speech_mask(x: np.ndarray) -> np.ndarray:
    """webrtcvad speech flags per 30 ms frame, with short pauses closed."""
    import webrtcvad

    vad = webrtcvad.Vad(_VAD_AGGRESSIVENESS)
    pcm = (np.clip(x, -1.0, 1.0) * 32767).astype("<i2")
    n = len(pcm) // _FRAME_N
    mask = np.fromiter(
        (vad.is_speech(pcm[i * _FRAME_N : (i + 1) * _FRAME_N].tobytes(), SAMPLE_RATE)
         for i in range(n)),
        dtype=bool, count=n,
    )
    return _close_gaps(mask, _CLOSE_GAP_FRAMES)


def _close_gaps(mask: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill runs of False no longer than max_gap frames that lie between True frames."""
    out = mask.copy()
    idx = np.flatnonzero(mask)
    if len(idx) > 1:
        for a, b in zip(idx[:-1], idx[1:], strict=True):
            if 1 < b - a <= max_gap + 1:
                out[a:b] = True
    return out


def _runs(labels: Sequence[int] | np.ndarray) -> list[tuple[int, int, int]]:
    """(label, first index, end index) of each run of equal labels."""
    out: list[tuple[int, int, int]] = []
    for i, lab in enumerate(labels):
        if out and out[-1][0] == lab and out[-1][2] == i:
            out[-1] = (lab, out[-1][1], i + 1)
        else:
            out.append((int(lab), i, i + 1))
    return out


def _turn_taking(seq: Sequence[int], a: int, b: int, min_run: int) -> int:
    """How many turns a and b take, counting only runs of at least min_run items."""
    runs = [lab for lab, s, e in _runs([x for x in seq if x in (a, b)]) if e - s >= min_run]
    return len([lab for i, lab in enumerate(runs) if i == 0 or runs[i - 1] != lab])


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def _centroids(emb: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    return np.stack([_unit(emb[labels == i].mean(axis=0)) for i in range(k)])


# ---------------------------------------------------------------- diarizer


class Diarizer:
    """Speaker turns of one recording, fed window by window (see module docstring)."""

    def __init__(self, *, mode: str = "voices", max_speakers: int = 4,
                 num_speakers: int | None = None, threads: int = 1) -> None:
        if mode not in ("voices", "channels"):
            raise ValueError(f"mode must be 'voices' or 'channels', not {mode!r}")
        self.mode = mode
        self.max_speakers = max(1, num_speakers or max_speakers)
        self.num_speakers = num_speakers
        self.threads = threads
        self._sums: list[np.ndarray] = []  # per global speaker: sum of unit centroids
        self._weights: list[float] = []  # partials behind each sum (running-mean weights)
        self._turns: list[tuple[float, float, int]] = []  # (start, end, global speaker id)
        self._ctx = np.zeros((0, 256), np.float32)  # embeddings of the latest partials
        if mode == "voices":
            _encoder()  # fail early, before any audio is read, when resemblyzer is missing

    # -- public

    def add_window(self, offset: float, samples: np.ndarray) -> None:
        x = np.asarray(samples, dtype=np.float32)
        if self.mode == "channels":
            if x.ndim != 2 or x.shape[1] != 2:
                raise ValueError(f"mode 'channels' needs (n, 2) samples, got {x.shape}")
            self._add_channels(offset, x)
        else:
            self._add_voices(offset, x.mean(axis=1) if x.ndim == 2 else x)

    def turns(self) -> list[SpeakerTurn]:
        ids = self._final_ids() if self.mode == "voices" else list(range(len(self._sums) or 2))
        merged: list[list[float]] = []  # [start, end, speaker]
        for start, end, g in sorted(self._turns):
            spk = ids[g]
            if merged and merged[-1][2] == spk and start - merged[-1][1] <= _MERGE_GAP_S:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end, spk])
        merged = [t for t in merged if t[1] - t[0] >= _MIN_TURN_S]
        names: dict[int, str] = {}
        out: list[SpeakerTurn] = []
        for start, end, spk in merged:
            # channels: Speaker k+1 is channel k (stable mic mapping); voices: first appearance
            n = int(spk) if self.mode == "channels" else len(names)
            name = names.setdefault(int(spk), f"Speaker {n + 1}")
            if out and out[-1].speaker == name and start - out[-1].end <= _MERGE_GAP_S:
                out[-1] = SpeakerTurn(out[-1].start, end, name)
            else:
                out.append(SpeakerTurn(round(start, 3), round(end, 3), name))
        return out

    # -- channels mode

    def _add_channels(self, offset: float, x: np.ndarray) -> None:
        self._sums = self._sums or [np.zeros(1), np.zeros(1)]  # two fixed speakers
        levels = [_frame_dbfs(x[:, c]) for c in (0, 1)]
        for c in (0, 1):
            own, other = levels[c], levels[1 - c]
            active = _speech_mask(x[:, c])[: len(own)]
            active &= (own > _ACTIVE_DBFS) & (own >= other - _BLEED_MARGIN_DB)
            active = _close_gaps(active, _CLOSE_GAP_FRAMES)
            self._turns.extend(_mask_turns(offset, active, np.full(len(active), c)))
        self._turns = _resolve_overlaps(self._turns)

    # -- voices mode

    def _add_voices(self, offset: float, x: np.ndarray) -> None:
        mask = _speech_mask(x)
        emb, centers = self._embed(x, mask)
        if len(emb) == 0:  # no speech, or only bits shorter than a partial
            return
        # cluster together with the recent context: a short window alone rarely shows enough
        # turn-taking to tell two similar voices from one (see _DISTINCT/_SAME)
        n_ctx = len(self._ctx)
        joint = np.concatenate([self._ctx, emb]) if n_ctx else emb
        labels = self._cluster(joint)
        k = int(labels.max()) + 1
        own = labels[n_ctx:]
        to_global = self._link(_centroids(joint, labels, k), np.bincount(own, minlength=k))
        self._ctx = joint[-_CONTEXT_PARTIALS:]
        # each speech frame takes the label of the nearest kept partial (in time)
        t = (np.arange(len(mask)) + 0.5) * _FRAME_S
        hi = np.searchsorted(centers, t).clip(0, len(centers) - 1)
        lo = (hi - 1).clip(0)
        nearest = np.where(np.abs(t - centers[lo]) <= np.abs(centers[hi] - t), lo, hi)
        frame_labels = np.asarray(to_global)[own[nearest]]
        self._turns.extend(_mask_turns(offset, mask, frame_labels))

    def _embed(self, x: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of the mostly-voiced 1.6 s partials, and their centres in seconds."""
        import torch
        from resemblyzer import normalize_volume, wav_to_mel_spectrogram

        torch.set_num_threads(self.threads)  # process-wide; more threads swing timings on 2 cores
        enc = _encoder()
        # not preprocess_wav(): it cuts silences and would shift every timestamp
        wav = normalize_volume(x, -30, increase_only=True).astype(np.float32)
        wav_slices, mel_slices = enc.compute_partial_slices(len(wav), _PARTIAL_RATE, 0.75)
        wav = np.pad(wav, (0, max(0, wav_slices[-1].stop - len(wav))))
        voiced = np.concatenate([[0], np.cumsum(mask)])
        keep = []
        for s in wav_slices:
            a, b = min(len(mask), s.start // _FRAME_N), min(len(mask), s.stop // _FRAME_N)
            keep.append(b > a and (voiced[b] - voiced[a]) / (b - a) >= _MIN_VOICED)
        kept = [i for i, k in enumerate(keep) if k]
        if not kept:
            return np.zeros((0, 256), np.float32), np.zeros(0)
        mel = wav_to_mel_spectrogram(wav)
        out = []
        with torch.no_grad():
            for i in range(0, len(kept), _BATCH):
                batch = np.stack([mel[mel_slices[j]] for j in kept[i : i + _BATCH]])
                out.append(enc(torch.from_numpy(batch)).numpy())
        centers = np.array([(wav_slices[j].start + wav_slices[j].stop) / 2 for j in kept])
        return np.concatenate(out), centers / SAMPLE_RATE

    def _cluster(self, emb: np.ndarray) -> np.ndarray:
        """Labels 0..k-1 of a window's partials (see the thresholds' comment)."""
        n = len(emb)
        zeros = np.zeros(n, dtype=int)
        if self.max_speakers == 1 or n < _MIN_SPLIT_PARTIALS:
            return zeros
        two = _spectral(emb, 2)
        if np.bincount(two, minlength=2).min() < _MIN_CLUSTER_PARTIALS:
            return zeros
        c = _centroids(emb, two, 2)
        sim = float(c[0] @ c[1])
        taking = _turn_taking(two, 0, 1, _MIN_RUN_PARTIALS)
        if not (sim < _DISTINCT or (sim < _SAME and taking >= 3)):
            return zeros
        best = two
        # a third or fourth voice only when clearly distinct: the turn-taking test is useless
        # there (one voice split in three also alternates)
        for k in range(3, min(self.max_speakers, n // _MIN_CLUSTER_PARTIALS) + 1):
            labels = _spectral(emb, k)
            c = _centroids(emb, labels, k)
            off_diag = (c @ c.T)[np.triu_indices(k, 1)]
            if off_diag.max() >= _DISTINCT or np.bincount(labels).min() < _MIN_CLUSTER_PARTIALS:
                break
            best = labels
        return best

    def _link(self, cents: np.ndarray, sizes: np.ndarray) -> list[int]:
        """Global speaker id of each window cluster; updates the running-mean centroids."""
        from scipy.optimize import linear_sum_assignment

        ids = [-1] * len(cents)
        if self._sums:
            known = np.stack([_unit(v) for v in self._sums])
            sim = cents @ known.T
            for r, c in zip(*linear_sum_assignment(-sim), strict=True):
                if sim[r, c] >= _LINK:
                    ids[r] = int(c)
        for r in range(len(cents)):
            if sizes[r] == 0:  # only context partials: nothing of this window to label
                continue
            if ids[r] < 0:
                if len(self._sums) < self.max_speakers:
                    self._sums.append(np.zeros_like(cents[r]))
                    self._weights.append(0.0)
                    ids[r] = len(self._sums) - 1
                else:  # no room for another voice: the most similar one
                    ids[r] = int((np.stack(self._sums) @ cents[r]).argmax())
            self._sums[ids[r]] = self._sums[ids[r]] + cents[r] * sizes[r]
            self._weights[ids[r]] += float(sizes[r])
        return ids

    def _final_ids(self) -> list[int]:
        """Merge global speakers that turned out to be one voice; returns old id -> new id."""
        ids = list(range(len(self._sums)))
        cents = [_unit(v) for v in self._sums]
        weights = list(self._weights)
        limit = self.num_speakers or self.max_speakers
        while len(set(ids)) > 1:
            live = sorted(set(ids))
            order = _long_turn_ids(self._turns, ids)
            pairs = []
            for i, a in enumerate(live):
                for b in live[i + 1 :]:
                    sim = float(cents[a] @ cents[b])
                    taking = _turn_taking(order, a, b, 1)
                    one = sim >= _SAME or (sim >= _DISTINCT and taking < 3)
                    pairs.append((one or len(live) > limit, sim, a, b))
            must, _, a, b = max(pairs)
            if not must:
                break
            ids = [a if i == b else i for i in ids]
            cents[a] = _unit(cents[a] * weights[a] + cents[b] * weights[b])
            weights[a] += weights[b]
        return ids


def _long_turn_ids(turns: Iterable[tuple[float, float, int]], ids: Sequence[int]) -> list[int]:
    """Speaker ids in time order, turns shorter than 1 s left out (flicker, backchannels)."""
    return [ids[g] for s, e, g in sorted(turns) if e - s >= 1.0]


def _spectral(emb: np.ndarray, k: int) -> np.ndarray:
    # no affinity refinement: the ICASSP-2018 sequence takes pyannote from 16 % to 35 % DER
    from spectralcluster import SpectralClusterer

    step = max(1, math.ceil(len(emb) / _MAX_SPECTRAL))
    labels = np.asarray(SpectralClusterer(min_clusters=k, max_clusters=k).predict(emb[::step]))
    if step == 1:
        return labels
    # consecutive partials overlap by 1.5 s: a subsample loses little; the rest join the
    # nearest centroid
    return (emb @ _centroids(emb[::step], labels, k).T).argmax(axis=1)


def _mask_turns(offset: float, mask: np.ndarray, labels: np.ndarray
                ) -> list[tuple[float, float, int]]:
    out = []
    for lab, a, b in _runs(np.where(mask, labels, -1)):
        if lab >= 0:
            out.append((offset + a * _FRAME_S, offset + b * _FRAME_S, lab))
    return out


def _resolve_overlaps(turns: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    """Make turns non-overlapping: where two overlap, the earlier speaker keeps the floor."""
    out: list[tuple[float, float, int]] = []
    for s, e, g in sorted(turns):
        if out and s < out[-1][1]:
            if e <= out[-1][1]:
                continue
            s = out[-1][1]
        out.append((s, e, g))
    return out


# ---------------------------------------------------------------- stereo check


class ChannelSimilarity:
    """Accumulates whether a stereo recording carries a different voice on each channel.

    Feed stereo windows ((n, 2) float arrays at 16 kHz) with :meth:`add`; read :attr:`distinct`.
    A mono recording stored as stereo has the same level on both channels in every frame; two
    mics, one per person, make each channel lead by many dB in some frames (its own voice).
    """

    def __init__(self) -> None:
        self.active = 0  # frames with sound on either channel
        self.left_leads = 0
        self.right_leads = 0
        self._xy = self._xx = self._yy = 0.0

    def add(self, stereo: np.ndarray) -> None:
        x = np.asarray(stereo, dtype=np.float64)
        left, right = x[:, 0], x[:, 1]
        self._xy += float(left @ right)
        self._xx += float(left @ left)
        self._yy += float(right @ right)
        dl, dr = _frame_dbfs(left), _frame_dbfs(right)
        active = np.maximum(dl, dr) > _ACTIVE_DBFS
        self.active += int(active.sum())
        self.left_leads += int((active & (dl - dr >= _DOMINANT_DB)).sum())
        self.right_leads += int((active & (dr - dl >= _DOMINANT_DB)).sum())

    @property
    def correlation(self) -> float:
        """Zero-lag correlation of the two channels (1.0: identical)."""
        return self._xy / math.sqrt(self._xx * self._yy) if self._xx and self._yy else 0.0

    @property
    def distinct(self) -> bool:
        # each channel must lead in >= 5 % of the active frames: both people speak, on their
        # own mic. jfk.flac (mono as stereo): 0 % / 0 %, correlation 1.00.
        if self.active == 0:
            return False
        return min(self.left_leads, self.right_leads) / self.active >= 0.05


def channels_are_distinct(left: np.ndarray, right: np.ndarray) -> bool:
    """True when a stereo recording carries a different voice on each channel."""
    acc = ChannelSimilarity()
    n = min(len(left), len(right))
    acc.add(np.stack([np.asarray(left[:n]), np.asarray(right[:n])], axis=1))
    return acc.distinct


# ---------------------------------------------------------------- using turns


def assign_speakers(spans: Sequence[tuple[float, float]],
                    turns: Sequence[SpeakerTurn]) -> list[str | None]:
    """Speaker of each (start, end) transcript segment: most overlap, else nearest turn <= 1 s."""
    out: list[str | None] = []
    for start, end in spans:
        overlap: dict[str, float] = {}
        for t in turns:
            o = min(end, t.end) - max(start, t.start)
            if o > 0:
                overlap[t.speaker] = overlap.get(t.speaker, 0.0) + o
        if overlap:
            out.append(max(overlap, key=lambda s: overlap[s]))
            continue
        gaps = [(max(t.start - end, start - t.end), t.speaker) for t in turns]
        near = min(gaps, default=None)
        out.append(near[1] if near is not None and near[0] <= 1.0 else None)
    return out


def talk_time(turns: Iterable[SpeakerTurn]) -> dict[str, float]:
    """Seconds of speech per speaker."""
    out: dict[str, float] = {}
    for t in turns:
        out[t.speaker] = out.get(t.speaker, 0.0) + (t.end - t.start)
    return out


def roles(turns: Iterable[SpeakerTurn], interviewer: str | None = None) -> dict[str, str]:
    """With exactly two speakers: who is the interviewer (less talk, unless told) and who not."""
    times = talk_time(turns)
    if len(times) != 2:
        return {}
    a, b = sorted(times, key=lambda s: (times[s], s))
    if interviewer in times:
        a = interviewer
        b = next(s for s in times if s != interviewer)
    return {a: "interviewer", b: "interviewee"}


# ---------------------------------------------------------------- evaluation


def read_rttm(path: str | Path) -> list[SpeakerTurn]:
    """Reference turns from an RTTM file (speaker = the RTTM's speaker name)."""
    out = []
    for line in Path(path).read_text().splitlines():
        f = line.split()
        if len(f) >= 8 and f[0] == "SPEAKER":
            start, dur = float(f[3]), float(f[4])
            out.append(SpeakerTurn(start, start + dur, f[7]))
    return sorted(out, key=lambda t: (t.start, t.end))


def diarization_error_rate(reference: Sequence[SpeakerTurn], hypothesis: Sequence[SpeakerTurn],
                           step: float = 0.01) -> float:
    """Frame-level DER, no collar, overlap-aware, optimal one-to-one speaker mapping."""
    from scipy.optimize import linear_sum_assignment

    end = max([t.end for t in [*reference, *hypothesis]], default=0.0)
    n = int(math.ceil(end / step)) + 1

    def activity(turns: Sequence[SpeakerTurn]) -> np.ndarray:
        names = sorted({t.speaker for t in turns})
        m = np.zeros((n, max(1, len(names))), dtype=bool)
        for t in turns:
            m[int(round(t.start / step)) : int(round(t.end / step)), names.index(t.speaker)] = True
        return m

    ref, hyp = activity(reference), activity(hypothesis)
    n_ref, n_hyp = ref.sum(axis=1), hyp.sum(axis=1)
    total = int(n_ref.sum())
    if total == 0:
        return 0.0 if n_hyp.sum() == 0 else 1.0
    overlap = ref.T.astype(np.int64) @ hyp.astype(np.int64)
    rows, cols = linear_sum_assignment(-overlap)
    correct = int(overlap[rows, cols].sum())
    # per frame: missed = max(0, nref - nhyp), false alarm = max(0, nhyp - nref),
    # confusion = min(nref, nhyp) - correctly mapped; summed, this is the NIST definition
    errors = np.maximum(n_ref - n_hyp, 0).sum() + np.maximum(n_hyp - n_ref, 0).sum()
    errors += np.minimum(n_ref, n_hyp).sum() - correct
    return float(errors) / total
