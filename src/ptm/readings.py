"""What the exercises' runs show, in sentences that claim only what the numbers support.

The exercise notebooks end each experiment with a few computed sentences. Each rule below
is written once, documented and tested, so a reading cannot name a run that never learnt,
call a noisy peak overfitting, or praise a small gap that only means the model has not fitted
its training data yet. Sentences come in English or Korean (``lang=``), with the same numbers.

The rules:

- **Did not learn.** A temperature run did not learn when its predictions at the eleven
  readings span less than 10 % of the measured temperatures' range (a constant, as a saturated
  unit gives), or when its final training loss is at least 5 times the best run's, it
  explains less than half of the training targets' variance *and* it has stopped falling
  (less than 1 % lower over the last tenth of the epochs). A run that is far behind but still
  falling is reported as still learning, not as dead. A classifier did not learn when its
  final training accuracy is within 0.05 of chance (one over the number of classes). Runs
  that did not learn are reported as such and left out of every comparison of shape, gap or
  accuracy.
- **Overfitting** is claimed only when the validation loss, averaged over a window of epochs,
  rises at 3 consecutive steps, by more than twice the noise of those averages (their standard
  errors), while the training loss, averaged the same way, falls over those steps. Window and
  step are 3 and 1 epochs, or 1 % of the run when that is longer (a 5,000-epoch
  run: a 50-epoch average, compared 50 epochs apart, so the flicker of full-batch descent at the
  edge of stability does not count). Only runs that fit their training data are judged: a
  temperature run whose final training loss is 5 times the best run's or more is not (its
  validation loss moves for other reasons, such as the end of an oscillation). Otherwise the
  reading says there is no clear sign within the epochs run.
- **A gap** between training and validation accuracy is qualified by the fit: a run whose final
  training accuracy is more than 0.05 below the best run's has not fitted its training data, and
  a small gap there is underfitting, not good generalisation.
- **Two accuracies on the same images** differ only when they differ by more than twice the
  standard error of that difference (about 0.025 for 2,000 images near 0.8); closer than that
  they are "about equal".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from ptm.checks import last_linear
from ptm.experiments import ExperimentResults, Run
from ptm.temperature import nonlinearity, scale_readings, split_train_val, temperature_data
from ptm.texts import say
from ptm.training import History

__all__ = [
    "Reading",
    "did_not_learn",
    "overfitting_start",
    "read_capacity",
    "read_crops",
    "read_losses",
    "read_temperature_sweep",
    "read_wine",
]

DEAD_LOSS_FACTOR = 5.0
DEAD_SPAN_FRACTION = 0.1
CHANCE_MARGIN = 0.05
FIT_MARGIN = 0.05


@dataclass(frozen=True)
class Reading:
    """A few sentences about an experiment; a notebook shows them as a list."""

    sentences: tuple[str, ...]

    def __str__(self) -> str:
        return "\n".join(self.sentences)

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return "\n".join(f"- {sentence}" for sentence in self.sentences)


# -- the rules ---------------------------------------------------------------------------


def overfitting_start(history: History) -> int | None:
    """The epoch from which the validation loss clearly rises while the training loss falls
    (the rule in the module's notes), or None when the run shows no clear sign."""
    train, val = history.train_loss, history.val_loss
    n_epochs = min(len(train), len(val))
    step = max(1, n_epochs // 100)
    window = max(3, step)

    def average(values: Sequence[float], end: int) -> float:
        return sum(values[end - window : end]) / window

    def noise(end: int) -> float:  # the standard error of a window's average
        part = val[end - window : end]
        mean = sum(part) / window
        return math.sqrt(sum((v - mean) ** 2 for v in part) / (window - 1) / window)

    ends = list(range(window, n_epochs + 1, step))
    for first in range(len(ends) - 3):
        span = ends[first : first + 4]
        val_means = [average(val, end) for end in span]
        rising = all(later > earlier for earlier, later in itertools.pairwise(val_means))
        clear = val_means[-1] - val_means[0] > 2 * math.hypot(noise(span[0]), noise(span[-1]))
        if rising and clear and average(train, span[-1]) < average(train, span[0]):
            return history.epochs[span[0] - 1]
    return None


def did_not_learn(run: Run, results: ExperimentResults) -> str | None:
    """Why a run counts as not having learnt (the rule in the module's notes), or None:
    ``"kind:value:reference"``, the kind being ``span``, ``loss`` or ``chance``."""
    if not run.ok or run.history is None or not len(run.history):
        return None  # failed or diverged runs are reported by their status
    history = run.history
    if history.train_accuracy:
        n_classes = _n_classes(run)
        chance = 1 / n_classes
        if history.train_accuracy[-1] < chance + CHANCE_MARGIN:
            return f"chance:{history.train_accuracy[-1]:.3f}:{chance:.2f}"
        return None
    t_c, t_u = temperature_data()
    split = results.data if results.data is not None else split_train_val(t_u, t_c)
    with torch.no_grad():
        predictions = run.model(scale_readings(t_u)).flatten()
    span = float(predictions.max() - predictions.min())
    target_range = float(t_c.max() - t_c.min())
    if span < DEAD_SPAN_FRACTION * target_range:
        return f"span:{span:.1f}:{target_range:.0f}"
    best = min(r.history.train_loss[-1] for r in results.runs if r.ok and r.history)
    final = history.train_loss[-1]
    variance = float(split.t_c_train.var(unbiased=False))  # the loss of predicting the mean
    if final >= DEAD_LOSS_FACTOR * best and final > 0.5 * variance and recent_fall(history) < 0.01:
        return f"loss:{final:.2f}:{best:.2f}"
    return None


def recent_fall(history: History) -> float:
    """How much the training loss fell over the last tenth of the epochs, as a fraction."""
    losses = history.train_loss
    earlier = losses[-max(2, len(losses) // 10)]
    return (earlier - losses[-1]) / earlier if earlier > 0 else 0.0


def accuracy_margin(accuracy: float, n_images: int) -> float:
    """Twice the standard error of the difference of two accuracies near ``accuracy``,
    measured on the same ``n_images`` images: below it, two models are about equal."""
    return 2 * math.sqrt(2 * accuracy * (1 - accuracy) / n_images)


def _n_classes(run: Run) -> int:
    last = last_linear(run.model) if run.model is not None else None
    return last.out_features if last is not None else 2


def _learnt(results: ExperimentResults) -> tuple[list[Run], list[tuple[str, str]]]:
    """The runs that learnt, and a sentence part for each run that did not."""
    learnt, dead = [], []
    for run in results.runs:
        if not run.ok:
            continue
        reason = did_not_learn(run, results)
        if reason is None:
            learnt.append(run)
        else:
            dead.append((run.name, reason))
    return learnt, dead


DEAD = {
    "span": {
        "en": "{name} did not learn: its predictions span only {a} °C of the measurements' {b} °C "
        "(a saturated unit gives a constant), so it is left out of the comparisons.",
        "ko": "{name}은(는) 학습하지 못했다: 예측이 측정값 범위 {b} °C 가운데 {a} °C에만 "
        "걸쳐 있다(포화된 유닛은 상수를 낸다). 그래서 비교에서 뺀다.",
    },
    "loss": {
        "en": "{name} did not learn: its final training loss {a} is at least 5 times the best "
        "run's {b}, it explains less than half of the targets' variance and it has stopped "
        "falling, so it is left out of the comparisons.",
        "ko": "{name}은(는) 학습하지 못했다: 마지막 훈련 손실 {a}이(가) 가장 좋은 실행의 {b}의 "
        "5배 이상이고, 목표값 분산의 절반도 설명하지 못하며, 더 이상 줄지 않는다. 그래서 "
        "비교에서 뺀다.",
    },
    "chance": {
        "en": "{name} did not learn: its final training accuracy {a} is within 0.05 of chance "
        "({b}), so it is left out of the comparisons.",
        "ko": "{name}은(는) 학습하지 못했다: 마지막 훈련 정확도 {a}이(가) 우연 수준({b})과 "
        "0.05 이내다. 그래서 비교에서 뺀다.",
    },
}


def _dead_sentences(dead: list[tuple[str, str]], lang: str) -> list[str]:
    sentences = []
    for name, reason in dead:
        kind, a, b = reason.split(":")
        sentences.append(say(DEAD[kind], lang, name=name, a=a, b=b))
    return sentences


SLOW = {
    "en": "{name} is still learning: its training loss {loss:.2f} is at least 5 times the best "
    "run's {best:.2f}, but it fell {fall:.0f} % over the last {n:,} epochs; more epochs would "
    "tell more.",
    "ko": "{name}은(는) 아직 배우는 중이다: 훈련 손실 {loss:.2f}이(가) 가장 좋은 실행의 "
    "{best:.2f}의 5배 이상이지만, 마지막 {n:,} 에포크 동안 {fall:.0f} % 줄었다. 에포크를 "
    "늘려야 더 알 수 있다.",
}


def _slow_sentences(runs: list[Run], lang: str) -> list[str]:
    """A sentence for each run far behind the best that is still falling."""
    best = min(run.history.train_loss[-1] for run in runs)
    return [
        say(SLOW, lang, name=run.name, loss=run.history.train_loss[-1], best=best,
            fall=100 * recent_fall(run.history), n=max(2, len(run.history) // 10))
        for run in runs
        if run.history.train_loss[-1] >= DEAD_LOSS_FACTOR * best
        and recent_fall(run.history) >= 0.01
    ]  # fmt: skip


NOTHING = {
    "en": "No run learnt, so there is nothing to compare: try more epochs or another "
    "learning rate.",
    "ko": "학습한 실행이 없어 비교할 것이 없다: 에포크를 늘리거나 학습률을 바꿔 보자.",
}
OVERFIT = {
    "en": "{name}: the validation loss rises from about epoch {epoch:,} while the training "
    "loss falls: overfitting.",
    "ko": "{name}: 약 {epoch:,} 에포크부터 훈련 손실은 줄어드는데 검증 손실은 오른다: 과적합이다.",
}
NO_OVERFIT = {
    "en": "No clear sign of overfitting within the {n:,} epochs run: no validation loss rises "
    "for 3 steps in a row while its training loss falls.",
    "ko": "실행한 {n:,} 에포크 안에서는 과적합의 뚜렷한 신호가 없다: 훈련 손실이 줄어드는 동안 "
    "검증 손실이 3번 연달아 오른 실행이 없다.",
}


def _overfitting_sentences(runs: list[Run], lang: str) -> list[str]:
    starts = [(run.name, overfitting_start(run.history)) for run in runs]
    sentences = [say(OVERFIT, lang, name=name, epoch=epoch) for name, epoch in starts if epoch]
    if not sentences:
        n_epochs = max(len(run.history) for run in runs)
        sentences.append(say(NO_OVERFIT, lang, n=n_epochs))
    return sentences


# -- the readings of the exercises ---------------------------------------------------------

SWEEP = {
    "straight": {
        "en": "Nearest to a straight line among the runs that learnt: {name} (bend {bend:.3f} °C); "
        "most bent: {bent} (bend {bent_value:.3f} °C).",
        "ko": "학습한 실행 가운데 직선에 가장 가까운 것: {name} (굽음 {bend:.3f} °C), 가장 많이 "
        "굽은 것: {bent} (굽음 {bent_value:.3f} °C).",
    },
    "closest": {
        "en": "Lowest training loss: {name}, {train:.3f}, with a validation loss {ratio:.1f} times "
        "as high ({val:.3f}). Lowest validation loss: {best_val} ({best_val_value:.3f}).",
        "ko": "훈련 손실이 가장 낮은 것: {name}, {train:.3f}. 검증 손실은 그 {ratio:.1f}배"
        "({val:.3f})다. 검증 손실이 가장 낮은 것: {best_val} ({best_val_value:.3f}).",
    },
}


def read_temperature_sweep(results: ExperimentResults, *, lang: str = "en") -> Reading:
    """The chapter 6 sweep: which runs did not learn, which learnt curves are straightest
    and most bent, which fits the training readings closest, and whether any overfits."""
    learnt, dead = _learnt(results)
    sentences = _dead_sentences(dead, lang)
    if not learnt:
        return Reading((*sentences, say(NOTHING, lang)))
    sentences += _slow_sentences(learnt, lang)
    bends = {run.name: nonlinearity(run.model) for run in learnt}
    straight, bent = min(bends, key=bends.get), max(bends, key=bends.get)
    sentences.append(
        say(SWEEP["straight"], lang, name=straight, bend=bends[straight], bent=bent,
            bent_value=bends[bent])
    )  # fmt: skip
    closest = min(learnt, key=lambda run: run.history.train_loss[-1])
    best_val = min(learnt, key=lambda run: run.history.val_loss[-1])
    train, val = closest.history.train_loss[-1], closest.history.val_loss[-1]
    sentences.append(
        say(SWEEP["closest"], lang, name=closest.name, train=train, val=val, ratio=val / train,
            best_val=best_val.name, best_val_value=best_val.history.val_loss[-1])
    )  # fmt: skip
    best = min(run.history.train_loss[-1] for run in learnt)
    fitted = [run for run in learnt if run.history.train_loss[-1] < DEAD_LOSS_FACTOR * best]
    sentences += _overfitting_sentences(fitted, lang)
    return Reading(tuple(sentences))


CROPS = {
    "better": {"en": "crops better by {d:.3f}", "ko": "크롭이 {d:.3f} 더 좋음"},
    "worse": {"en": "crops worse by {d:.3f}", "ko": "크롭이 {d:.3f} 더 나쁨"},
    "equal": {"en": "about equal", "ko": "거의 같음"},
    "shift": {
        "en": "shifted {shift} px: {crop:.3f} with crops, {plain:.3f} without ({verdict})",
        "ko": "{shift} px 이동: 크롭 {crop:.3f}, 크롭 없음 {plain:.3f} ({verdict})",
    },
    "margin": {
        "en": "Differences below {margin:.3f} (twice the noise of {n:,} validation images) count "
        "as about equal.",
        "ko": "{margin:.3f}보다 작은 차이(검증 이미지 {n:,}장의 잡음의 두 배)는 거의 같다고 본다.",
    },
    "help": {
        "en": "Crops help where the images are shifted by {shifts} px, and {cost} unshifted.",
        "ko": "이미지를 {shifts} px 옮긴 곳에서 크롭이 도움이 되고, 옮기지 않은 "
        "이미지에서는 {cost}.",
    },
    "no help": {
        "en": "Crops help at none of the shifts measured.",
        "ko": "측정한 어떤 이동에서도 크롭이 도움이 되지 않는다.",
    },
    "cost": {"en": "cost {d:.3f}", "ko": "{d:.3f}만큼 손해다"},
    "free": {"en": "cost nothing measurable", "ko": "눈에 띄는 손해가 없다"},
    "gain": {"en": "even gain {d:.3f}", "ko": "오히려 {d:.3f} 낫다"},
    "too few": {
        "en": "After {n} epochs the cropped model is not yet better on unshifted or slightly "
        "shifted images: a model that sees every image shifted anew in each epoch needs longer "
        "training for crops to pay off there (raise CROP_EPOCHS).",
        "ko": "{n} 에포크 뒤에도 크롭한 모델은 옮기지 않았거나 조금 옮긴 이미지에서 아직 낫지 "
        "않다: 에포크마다 이미지를 새로 옮겨 보는 모델이 그곳에서 크롭의 덕을 보려면 더 오래 "
        "훈련해야 한다(CROP_EPOCHS를 늘려 보자).",
    },
}


def read_crops(
    by_shift: Mapping[str, Mapping[int, float]],
    n_images: int,
    *,
    plain: str = "no crop",
    cropped: str = "random crop",
    n_epochs: int | None = None,
    lang: str = "en",
) -> Reading:
    """The crop exercise: the two models compared at every shift measured, where (if
    anywhere) crops help and what they cost unshifted (chapter 7 exercise 1).

    Args:
        by_shift: each model's accuracy by shift in pixels (`accuracy_under_shift`).
        n_images: how many validation images each accuracy was measured on.
        plain, cropped: the names of the two models in ``by_shift``.
        n_epochs: how long they trained, for the advice on longer training.
    """
    shifts = sorted(by_shift[plain])
    sentences, helped = [], []
    margin = max(  # the largest noise of the shifts: one margin for every comparison
        accuracy_margin((by_shift[plain][shift] + by_shift[cropped][shift]) / 2, n_images)
        for shift in shifts
    )
    verdicts = {}
    for shift in shifts:
        difference = by_shift[cropped][shift] - by_shift[plain][shift]
        kind = "equal" if abs(difference) < margin else ("better" if difference > 0 else "worse")
        verdicts[shift] = kind
        if kind == "better":
            helped.append(shift)
        sentences.append(
            say(CROPS["shift"], lang, shift=shift, crop=by_shift[cropped][shift],
                plain=by_shift[plain][shift], verdict=say(CROPS[kind], lang, d=abs(difference)))
        )  # fmt: skip
    sentences.append(say(CROPS["margin"], lang, margin=margin, n=n_images))
    unshifted = by_shift[cropped][shifts[0]] - by_shift[plain][shifts[0]]
    if helped:
        cost = {"worse": "cost", "equal": "free", "better": "gain"}[verdicts[shifts[0]]]
        sentences.append(
            say(CROPS["help"], lang, shifts=", ".join(map(str, helped)),
                cost=say(CROPS[cost], lang, d=abs(unshifted)))
        )  # fmt: skip
    else:
        sentences.append(say(CROPS["no help"], lang))
    small_shifts = [shift for shift in shifts[:2] if verdicts[shift] != "better"]
    if n_epochs is not None and small_shifts:
        sentences.append(say(CROPS["too few"], lang, n=n_epochs))
    return Reading(tuple(sentences))


LOSSES = {
    "en": "Validation accuracy after epoch {early}: {early_values}; after epoch {last}: "
    "{last_values}.",
    "ko": "{early} 에포크 뒤 검증 정확도: {early_values}, {last} 에포크 뒤: {last_values}.",
}
AHEAD = {
    "ahead": {"en": "{name} is ahead by {d:.3f}", "ko": "{name}이(가) {d:.3f} 앞선다"},
    "equal": {
        "en": "the two are about equal (within {margin:.3f})",
        "ko": "둘은 거의 같다({margin:.3f} 이내)",
    },
    "sentence": {
        "en": "After epoch {early}, {early_verdict}; after epoch {last}, {last_verdict}.",
        "ko": "{early} 에포크 뒤에는 {early_verdict}. {last} 에포크 뒤에는 {last_verdict}.",
    },
}


def read_losses(results: ExperimentResults, n_images: int, *, lang: str = "en") -> Reading:
    """Two losses compared (chapter 7 exercise 2): the validation accuracies early (after
    epoch 2) and at the end, and which is ahead by more than the noise."""
    learnt, dead = _learnt(results)
    sentences = _dead_sentences(dead, lang)
    if len(learnt) < 2:
        return Reading((*sentences, say(NOTHING, lang)))
    first, second = learnt[:2]
    last = min(len(first.history), len(second.history))
    early = min(2, last)

    def verdict(epoch: int) -> str:
        a, b = first.history.val_accuracy[epoch - 1], second.history.val_accuracy[epoch - 1]
        margin = accuracy_margin((a + b) / 2, n_images)
        if abs(a - b) < margin:
            return say(AHEAD["equal"], lang, margin=margin)
        name = first.name if a > b else second.name
        return say(AHEAD["ahead"], lang, name=name, d=abs(a - b))

    def values(epoch: int) -> str:
        return ", ".join(f"{run.name} {run.history.val_accuracy[epoch - 1]:.3f}" for run in learnt)

    sentences.append(
        say(LOSSES, lang, early=early, early_values=values(early), last=last,
            last_values=values(last))
    )  # fmt: skip
    sentences.append(
        say(AHEAD["sentence"], lang, early=early, early_verdict=verdict(early), last=last,
            last_verdict=verdict(last))
    )  # fmt: skip
    return Reading(tuple(sentences))


CAPACITY = {
    "best": {
        "en": "Best validation accuracy: {name}, {value:.3f} at epoch {epoch}.",
        "ko": "가장 높은 검증 정확도: {name}, {epoch} 에포크에서 {value:.3f}.",
    },
    "gap": {
        "en": "Smallest gap between training and validation accuracy: {name} ({gap:+.3f}).",
        "ko": "훈련 정확도와 검증 정확도의 차이가 가장 작은 것: {name} ({gap:+.3f}).",
    },
    "underfit": {
        "en": "But its training accuracy, {train:.3f}, is well below the best run's {best:.3f}: "
        "it has not fitted its training data yet, so the small gap is underfitting, not better "
        "generalisation.",
        "ko": "하지만 훈련 정확도 {train:.3f}이(가) 가장 좋은 실행의 {best:.3f}보다 한참 낮다: "
        "아직 훈련 데이터를 다 맞추지 못했으니 작은 차이는 더 나은 일반화가 아니라 과소적합이다.",
    },
    "fits": {
        "en": "It also fits its training data about as well as the best run ({train:.3f} against "
        "{best:.3f}).",
        "ko": "훈련 데이터도 가장 좋은 실행만큼 맞춘다({train:.3f}, 가장 좋은 실행 {best:.3f}).",
    },
}


def read_capacity(results: ExperimentResults, *, lang: str = "en") -> Reading:
    """The capacity sweep (chapter 7 exercise 3): the best validation accuracy, the smallest
    gap qualified by the fit of the training data, and where (if anywhere) overfitting began."""
    learnt, dead = _learnt(results)
    sentences = _dead_sentences(dead, lang)
    if not learnt:
        return Reading((*sentences, say(NOTHING, lang)))
    best = max(learnt, key=lambda run: max(run.history.val_accuracy))
    best_epoch = best.history.val_accuracy.index(max(best.history.val_accuracy))
    sentences.append(
        say(CAPACITY["best"], lang, name=best.name, value=best.history.val_accuracy[best_epoch],
            epoch=best.history.epochs[best_epoch])
    )  # fmt: skip
    gaps = {
        run.name: run.history.train_accuracy[-1] - run.history.val_accuracy[-1] for run in learnt
    }
    smallest = min(learnt, key=lambda run: gaps[run.name])
    sentences.append(say(CAPACITY["gap"], lang, name=smallest.name, gap=gaps[smallest.name]))
    best_train = max(run.history.train_accuracy[-1] for run in learnt)
    train = smallest.history.train_accuracy[-1]
    kind = "underfit" if train < best_train - FIT_MARGIN else "fits"
    sentences.append(say(CAPACITY[kind], lang, train=train, best=best_train))
    sentences += _overfitting_sentences(learnt, lang)
    return Reading(tuple(sentences))


WINE = {
    "fell": {
        "en": "The training loss fell from {first:.3f} to {last:.3f} in {n:,} epochs.",
        "ko": "훈련 손실이 {n:,} 에포크 동안 {first:.3f}에서 {last:.3f}로 줄었다.",
    },
    "rose": {
        "en": "The training loss did not fall: {first:.3f} at epoch 1, {last:.3f} after {n:,} "
        "epochs (try a smaller learning rate).",
        "ko": "훈련 손실이 줄지 않았다: 1 에포크 {first:.3f}, {n:,} 에포크 뒤 {last:.3f}"
        "(학습률을 줄여 보자).",
    },
    "beats": {
        "en": "The validation loss, {val:.3f}, is {percent:.0f} % below always predicting the mean "
        "quality ({baseline:.3f}): the model has learnt something beyond the average.",
        "ko": "검증 손실 {val:.3f}은(는) 늘 평균 품질을 예측할 때({baseline:.3f})보다 "
        "{percent:.0f} % 낮다: 모델이 평균 이상의 무언가를 배웠다.",
    },
    "no better": {
        "en": "The validation loss, {val:.3f}, is not below always predicting the mean quality "
        "({baseline:.3f}): the model has learnt nothing beyond the average yet.",
        "ko": "검증 손실 {val:.3f}이(가) 늘 평균 품질을 예측할 때({baseline:.3f})보다 낮지 "
        "않다: 모델이 아직 평균 이상을 배우지 못했다.",
    },
}


def read_wine(history: History, baseline: float, *, lang: str = "en") -> Reading:
    """The wine exercise: whether the loss fell, whether validation beats predicting the
    mean quality (``baseline``, its mean squared error), and whether it overfits."""
    first, last, val = history.train_loss[0], history.train_loss[-1], history.val_loss[-1]
    fell = "fell" if last < first else "rose"
    sentences = [say(WINE[fell], lang, first=first, last=last, n=len(history))]
    if val < baseline:
        percent = 100 * (1 - val / baseline)
        sentences.append(say(WINE["beats"], lang, val=val, baseline=baseline, percent=percent))
    else:
        sentences.append(say(WINE["no better"], lang, val=val, baseline=baseline))
    start = overfitting_start(history)
    if start is not None:
        sentences.append(say(OVERFIT, lang, name="wine", epoch=start))
    else:
        sentences.append(say(NO_OVERFIT, lang, n=len(history)))
    return Reading(tuple(sentences))
