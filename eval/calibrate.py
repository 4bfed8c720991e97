"""Fit the abstention model on the calibration sets of several corpora, and check that it transfers.

    python -m eval.calibrate [--max-false-abstention 0.1]

Each corpus brings its own calibration set (never its evaluation set, so the
evaluation stays a fair test): the demo articles and the real manuals of
eval/corpora.py. One model is fitted on all of them together; then, for each
corpus in turn, a model fitted without it is scored on that corpus's evaluation
set, which tells whether abstention holds on documents it was not fitted on.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.corpora import CORPORA, index_corpus, prepare_eval
from eval.dataset import DEFAULT_SET, load_set
from qa.pipeline.abstention import AbstentionModel
from qa.settings import Settings

CALIBRATION_SET = Path(__file__).parent / "sets" / "calibration.jsonl"
# The PDF edition shares its questions with the HTML one: one corpus, not two.
FITTED_ON = ("demo", "debian-faq", "maint-guide", "developers-reference")


@dataclass
class Features:
    """Feature rows, labels (1: unanswerable) and languages of a set's questions."""

    rows: np.ndarray
    labels: np.ndarray
    languages: np.ndarray

    @classmethod
    def concat(cls, parts: list[Features]) -> Features:
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("rows", "labels", "languages")))


def collect(service, items) -> Features:
    rows = [service.abstention_features(item.question) for item in items]
    labels = np.array([0.0 if item.answerable else 1.0 for item in items])
    return Features(np.array(rows, dtype=float), labels, np.array([item.lang for item in items]))


def fit(data: Features, max_false_abstention: float, l2: float = 1.0) -> AbstentionModel:
    """L2-regularised logistic regression, then the threshold with the best recall whose
    false abstention rate stays within `max_false_abstention` in every language: the
    service makes the same promise to French and English questions."""
    features, labels, languages = data.rows, data.labels, data.languages
    mean, scale = features.mean(0), features.std(0) + 1e-9
    z = (features - mean) / scale
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(20_000):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= 0.1 * (z.T @ (p - labels) + l2 * w) / len(labels)
        b -= 0.1 * float((p - labels).mean())
    weights, bias = w / scale, b - float((w * mean / scale).sum())
    probabilities = 1 / (1 + np.exp(-(features @ weights + bias)))
    best_threshold, best_recall = 1.0, -1.0
    for threshold in np.unique(np.round(probabilities, 4)):
        abstains = probabilities >= threshold
        false_rate = max(_false_rate(abstains, labels, languages == language) for language in np.unique(languages))
        recall = (abstains & (labels == 1)).sum() / max((labels == 1).sum(), 1)
        if false_rate <= max_false_abstention and recall > best_recall:
            best_threshold, best_recall = float(threshold), float(recall)
    return AbstentionModel(tuple(round(float(x), 4) for x in weights), round(float(bias), 4), round(best_threshold, 4))


def rates(model: AbstentionModel, data: Features) -> str:
    """Abstention recall and false abstentions per language, as one line."""
    abstains = np.array([model.abstains(tuple(row)) for row in data.rows])
    parts = []
    for language in np.unique(data.languages):
        group = data.languages == language
        unanswerable = (data.labels == 1) & group
        recall = (abstains & unanswerable).sum() / max(unanswerable.sum(), 1)
        parts.append(f"{language}: recall {recall:.2f}, false {_false_rate(abstains, data.labels, group):.2f}")
    return "; ".join(parts)


def _false_rate(abstains: np.ndarray, labels: np.ndarray, group: np.ndarray) -> float:
    answerable = (labels == 0) & group
    return float((abstains & answerable).sum() / max(answerable.sum(), 1))


def _sets(name: str, settings: Settings) -> tuple[Settings, Path, Path]:
    """Settings over the corpus's own index, its calibration set and its evaluation set."""
    if name == "demo":
        return index_corpus("demo", settings.corpus_dir, settings), CALIBRATION_SET, DEFAULT_SET
    eval_set, own = prepare_eval(Path(name), settings)
    return own, CORPORA[name].calibration_file, eval_set


def main() -> None:
    from qa.service import QAService

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-false-abstention", type=float, default=0.10)
    args = parser.parse_args()
    calibration, evaluation = {}, {}
    for name in FITTED_ON:
        settings, calibration_set, eval_set = _sets(name, Settings(generator="extractive"))
        service = QAService.from_settings(settings)
        calibration[name] = collect(service, load_set(calibration_set))
        evaluation[name] = collect(service, load_set(eval_set))
        service.close()
    model = fit(Features.concat(list(calibration.values())), args.max_false_abstention)
    print(f"fitted on the calibration sets of {', '.join(FITTED_ON)}:\n{model!r}")
    for name in FITTED_ON:
        print(f"  {name} calibration set: {rates(model, calibration[name])}")
    print("left out of the fit, scored on its evaluation set:")
    for name in FITTED_ON:
        others = fit(Features.concat([f for n, f in calibration.items() if n != name]), args.max_false_abstention)
        print(f"  {name}: {rates(others, evaluation[name])}")


if __name__ == "__main__":
    main()
