"""Fit the abstention model on the calibration set and print the numbers to keep.

    python -m eval.calibrate [--set eval/sets/calibration.jsonl] [--max-false-abstention 0.1]

The evaluation set is never used here, so the evaluation stays a fair test.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from eval.dataset import load_set
from qa.abstention import AbstentionModel
from qa.settings import Settings

CALIBRATION_SET = Path(__file__).parent / "sets" / "calibration.jsonl"


def collect(service, items) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels (1: unanswerable) and languages of the items."""
    rows = [service.abstention_features(item.question) for item in items]
    labels = np.array([0.0 if item.answerable else 1.0 for item in items])
    return np.array(rows, dtype=float), labels, np.array([item.lang for item in items])


def fit(features: np.ndarray, labels: np.ndarray, languages: np.ndarray, max_false_abstention: float,
        l2: float = 1.0) -> AbstentionModel:
    """L2-regularised logistic regression, then the threshold with the best recall whose
    false abstention rate stays within `max_false_abstention` in every language: the
    service makes the same promise to French and English questions."""
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


def _false_rate(abstains: np.ndarray, labels: np.ndarray, group: np.ndarray) -> float:
    answerable = (labels == 0) & group
    return float((abstains & answerable).sum() / max(answerable.sum(), 1))


def main() -> None:
    from qa.service import QAService

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="eval_set", type=Path, default=CALIBRATION_SET)
    parser.add_argument("--max-false-abstention", type=float, default=0.10)
    args = parser.parse_args()
    service = QAService.from_settings(Settings())
    features, labels, languages = collect(service, load_set(args.eval_set))
    model = fit(features, labels, languages, args.max_false_abstention)
    abstains = np.array([model.abstains(tuple(row)) for row in features])
    print(repr(model))
    for language in np.unique(languages):
        group = languages == language
        recall = (abstains & (labels == 1) & group).sum() / max(((labels == 1) & group).sum(), 1)
        print(f"on {args.eval_set} ({language}): abstention recall {recall:.2f}, "
              f"false abstentions {_false_rate(abstains, labels, group):.2f}")


if __name__ == "__main__":
    main()
