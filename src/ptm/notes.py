"""What the study notes print, and a table that sets a run's numbers beside them (DLwPT §6–§7).

The notebooks follow a set of study notes; wherever the notes print a number, the notebook
either reproduces it or says why it cannot. Each number is kept here once, with how it can
be compared:

- ``"exact"``: fixed by the notes' code and data (and, for the linear run of §6.2.2, by the
  notes' split and recovered start): reproduced to ±1 in the last printed digit;
- ``"range"``: set by a random start that cannot be recovered: compared with the range
  measured over several seeded starts;
- ``"random start"``: an untrained model's outputs, a gradient: set by the notes' random
  start, shown but not compared;
- ``"cifar10"`` and ``"cifar10, random"``: the same two kinds, measured on CIFAR-10; on the
  synthetic stand-in they are not comparable, and the table says so instead of comparing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ptm.tables import Table
from ptm.texts import check_language, say

__all__ = ["NOTES_CHAPTER6", "NOTES_CHAPTER7", "compare_with_notes"]

KINDS = ("exact", "range", "random start", "cifar10", "cifar10, random")


@dataclass(frozen=True)
class NotesNumber:
    """One number (or tuple of numbers) the notes print, and how to compare it."""

    value: float | int | str | tuple[Any, ...]
    kind: str
    decimals: int | None  # digits after the point as the notes print them; None: exact
    label_en: str
    label_ko: str

    def label(self, lang: str) -> str:
        """The quantity's name in ``lang``."""
        return say({"en": self.label_en, "ko": self.label_ko}, lang)


def _linear(epoch: int, train: float, val: float) -> dict[str, NotesNumber]:
    return {
        f"linear train loss {epoch}": NotesNumber(
            train, "exact", 4, f"linear model, epoch {epoch:,}: training loss",
            f"선형 모델, 에포크 {epoch:,}: 훈련 손실",
        ),
        f"linear val loss {epoch}": NotesNumber(
            val, "exact", 4, f"linear model, epoch {epoch:,}: validation loss",
            f"선형 모델, 에포크 {epoch:,}: 검증 손실",
        ),
    }  # fmt: skip


NOTES_CHAPTER6: dict[str, NotesNumber] = {
    "tanh scores": NotesNumber(
        (-0.9757431300314515, 0.09966799462495582, 0.9866142981514303), "exact", None,
        "tanh of the scores −2.2, 0.1, 2.5 (§6.1.3)", "점수 −2.2, 0.1, 2.5의 tanh (§6.1.3)",
    ),
    "untrained outputs": NotesNumber(
        (-0.7373, -0.9946), "random start", 4,
        "untrained nn.Linear(1, 1) at the validation readings (§6.2.2)",
        "훈련 전 nn.Linear(1, 1)의 검증 입력 출력 (§6.2.2)",
    ),
    **_linear(1, 128.5702, 372.3021),
    **_linear(1000, 4.4547, 10.5202),
    **_linear(2000, 2.8727, 5.2306),
    **_linear(3000, 2.7444, 4.7395),
    "linear weight": NotesNumber(
        5.2439, "exact", 4, "linear model after 3,000 epochs: weight",
        "3,000 에포크 뒤 선형 모델: 가중치",
    ),
    "linear bias": NotesNumber(
        -17.0374, "exact", 4, "linear model after 3,000 epochs: bias",
        "3,000 에포크 뒤 선형 모델: 편향",
    ),
    "1-13-1 shapes": NotesNumber(
        ((13, 1), (13,), (1, 13), (1,)), "exact", None,
        "parameter shapes of the 1-13-1 network (§6.3.2)",
        "1-13-1 신경망의 파라미터 모양 (§6.3.2)",
    ),
    "1-8-1 shapes": NotesNumber(
        ((8, 1), (8,), (1, 8), (1,)), "exact", None,
        "parameter shapes of the 1-8-1 network (§6.3.2)",
        "1-8-1 신경망의 파라미터 모양 (§6.3.2)",
    ),
    "1-8-1 output bias": NotesNumber(
        -0.3002, "random start", 4, "untrained 1-8-1: output_linear.bias",
        "훈련 전 1-8-1: output_linear.bias",
    ),
    "1-8-1 train loss": NotesNumber(
        2.0605, "range", 4, "1-8-1 network, epoch 5,000: training loss",
        "1-8-1 신경망, 에포크 5,000: 훈련 손실",
    ),
    "1-8-1 val loss": NotesNumber(
        16.4530, "range", 4, "1-8-1 network, epoch 5,000: validation loss",
        "1-8-1 신경망, 에포크 5,000: 검증 손실",
    ),
    "1-8-1 outputs": NotesNumber(
        (-0.0617, 24.0289), "random start", 4,
        "1-8-1 network's outputs at 33.9 and 81.9 °F (answers 3 and 28 °C)",
        "1-8-1 신경망의 33.9, 81.9 °F 출력 (정답 3, 28 °C)",
    ),
}  # fmt: skip
"""The numbers the notes print in chapter 6, by key."""

NOTES_CHAPTER7: dict[str, NotesNumber] = {
    "training images": NotesNumber(
        50000, "cifar10", None, "CIFAR-10 training images (§7.1.2)",
        "CIFAR-10 훈련 이미지 수 (§7.1.2)",
    ),
    "image 99": NotesNumber(
        "1 (automobile)", "cifar10", None, "label of image 99 (§7.1.2)",
        "99번 이미지의 레이블 (§7.1.2)",
    ),
    "mean": NotesNumber(
        (0.4914, 0.4822, 0.4465), "cifar10", 4, "channel means (§7.1.4)", "채널별 평균 (§7.1.4)",
    ),
    "std": NotesNumber(
        (0.2470, 0.2435, 0.2616), "cifar10", 4, "channel standard deviations (§7.1.4)",
        "채널별 표준편차 (§7.1.4)",
    ),
    "softmax": NotesNumber(
        (0.0900, 0.2447, 0.6652), "exact", 4, "softmax of (1, 2, 3) (§7.2.4)",
        "(1, 2, 3)의 소프트맥스 (§7.2.4)",
    ),
    "untrained probabilities": NotesNumber(
        (0.5400, 0.4600), "random start", 4, "untrained model's probabilities for cifar2[0]",
        "훈련 전 모델의 cifar2[0] 확률",
    ),
    "untrained loss": NotesNumber(
        0.6531, "random start", 4, "untrained model's NLL loss on cifar2[0] (§7.2.5)",
        "훈련 전 모델의 cifar2[0] NLL 손실 (§7.2.5)",
    ),
    "val accuracy": NotesNumber(
        0.817, "cifar10, random", 3, "validation accuracy after 100 epochs (§7.2.6)",
        "100 에포크 뒤 검증 정확도 (§7.2.6)",
    ),
    "parameters": NotesNumber(
        1574402, "exact", None, "parameters of the 3072-512-2 model",
        "3072-512-2 모델의 파라미터 수",
    ),
    "parameters per tensor": NotesNumber(
        (1572864, 512, 1024, 2), "exact", None, "parameters per tensor",
        "텐서별 파라미터 수",
    ),
}  # fmt: skip
"""The numbers the notes print in chapter 7, by key."""

NOTES = {6: NOTES_CHAPTER6, 7: NOTES_CHAPTER7}

HEADER = {
    "en": ("quantity", "the notes", "this run", "reading"),
    "ko": ("항목", "노트", "이번 실행", "판정"),
}
VERDICTS = {
    "reproduced": {"en": "reproduced", "ko": "재현됨"},
    "differs": {"en": "differs", "ko": "다름"},
    "inside": {"en": "inside the range of {n} starts", "ko": "시작점 {n}개의 범위 안"},
    "outside": {"en": "outside the range of {n} starts", "ko": "시작점 {n}개의 범위 밖"},
    "random start": {
        "en": "set by the notes' random start: not compared",
        "ko": "노트의 무작위 시작점이 정한 값: 비교하지 않음",
    },
    "random order": {
        "en": "{difference:+.3f} from the notes; set by the random start and order",
        "ko": "노트와 {difference:+.3f} 차이, 무작위 시작점과 순서에 따라 달라짐",
    },
    "stand-in": {
        "en": "not comparable: synthetic stand-in, not CIFAR-10",
        "ko": "비교할 수 없음: CIFAR-10이 아닌 합성 대체 데이터",
    },
    "not measured": {"en": "not measured in this run", "ko": "이번 실행에서 측정하지 않음"},
}


def _show(value: Any, decimals: int | None) -> str:
    if isinstance(value, tuple | list) and value and isinstance(value[0], tuple | list):
        return ", ".join(f"[{', '.join(map(str, shape))}]" for shape in value)  # shapes
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_show(item, decimals) for item in value) + ")"
    if isinstance(value, float) and decimals is not None:
        return f"{value:.{decimals}f}"
    return str(value)


def _agrees(measured: Any, printed: Any, decimals: int | None) -> bool:
    """Equal as printed: within one unit of the last printed digit (exactly, for the rest)."""
    if isinstance(printed, tuple):
        measured = tuple(measured) if isinstance(measured, Sequence | Iterable) else (measured,)
        return len(measured) == len(printed) and all(
            _agrees(m, p, decimals) for m, p in zip(measured, printed, strict=True)
        )
    if isinstance(printed, float) and decimals is None:  # printed in full: equal to rounding
        return math.isclose(float(measured), printed, rel_tol=1e-15, abs_tol=1e-15)
    if isinstance(printed, float):
        return abs(float(measured) - printed) <= 1.000001 * 10.0**-decimals
    return measured == printed


def compare_with_notes(
    chapter: int, measured: Mapping[str, Any], *, synthetic: bool = False, lang: str = "en"
) -> Table:
    """A "notes vs this run" table for a chapter's printed numbers (DLwPT §6, §7).

    Args:
        chapter: 6 or 7.
        measured: this run's values by key of `NOTES_CHAPTER6` / `NOTES_CHAPTER7`: a number
            or tuple, or for a ``"range"`` number the values over several starts (a list).
            Keys left out show as not measured.
        synthetic: the run used the synthetic stand-in: CIFAR-10 numbers are then not
            compared.
        lang: ``"en"`` or ``"ko"``, the language of the table.

    Raises:
        ValueError: an unknown chapter or key.
    """
    if chapter not in NOTES:
        raise ValueError(f"chapter must be 6 or 7, got {chapter!r}")
    notes = NOTES[chapter]
    unknown = sorted(set(measured) - set(notes))
    if unknown:
        raise ValueError(
            f"unknown key(s) {unknown} for chapter {chapter}: expected some of {sorted(notes)}"
        )
    columns = HEADER[check_language(lang)]
    rows = []
    for key, number in notes.items():
        value = measured.get(key)
        shown, verdict = "", say(VERDICTS["not measured"], lang)
        if synthetic and number.kind.startswith("cifar10"):
            shown, verdict = "—", say(VERDICTS["stand-in"], lang)
        elif value is None:
            pass
        elif number.kind == "range":
            values = [float(item) for item in value]
            low, high = min(values), max(values)
            shown = f"{_show(low, number.decimals)} – {_show(high, number.decimals)}"
            inside = low <= float(number.value) <= high
            verdict = say(VERDICTS["inside" if inside else "outside"], lang, n=len(values))
        else:
            shown = _show(value, number.decimals)
            if number.kind == "random start":
                verdict = say(VERDICTS["random start"], lang)
            elif number.kind == "cifar10, random":
                difference = float(value) - float(number.value)
                verdict = say(VERDICTS["random order"], lang, difference=difference)
            else:
                agrees = _agrees(value, number.value, number.decimals)
                verdict = say(VERDICTS["reproduced" if agrees else "differs"], lang)
        rows.append(
            dict(
                zip(
                    columns,
                    (number.label(lang), _show(number.value, number.decimals), shown, verdict),
                    strict=True,
                )
            )
        )
    return Table(rows, columns)
