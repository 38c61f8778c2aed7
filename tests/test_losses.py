"""Softmax and cross-entropy: values, stability, masks, reductions."""

import warnings

import numpy as np
import pytest

import seqnn
from seqnn.functional import log_softmax, sigmoid, softmax


def test_value_is_the_definition(rng):
    logits = rng.standard_normal((3, 2, 5))
    targets = rng.integers(0, 5, (3, 2))
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    picked = np.array([[p[t, b, targets[t, b]] for b in range(2)] for t in range(3)])
    loss, dlogits = seqnn.softmax_cross_entropy(logits, targets)
    assert loss == pytest.approx(-np.log(picked).mean(), rel=1e-13)
    onehot = np.eye(5)[targets]
    assert np.allclose(dlogits, (p - onehot) / 6, rtol=0, atol=1e-15)


def test_sum_reduction_is_mean_times_count(rng):
    logits, targets = rng.standard_normal((4, 3, 6)), rng.integers(0, 6, (4, 3))
    mean, dmean = seqnn.softmax_cross_entropy(logits, targets)
    total, dtotal = seqnn.softmax_cross_entropy(logits, targets, reduction="sum")
    assert total == pytest.approx(12 * mean, rel=1e-13)
    assert np.allclose(dtotal, 12 * dmean, rtol=1e-13)


def test_mask_removes_tokens_from_loss_and_gradient(rng):
    logits, targets = rng.standard_normal((4, 2, 3)), rng.integers(0, 3, (4, 2))
    mask = np.array([[1, 1], [1, 1], [1, 0], [0, 0]], dtype=bool)
    loss, dlogits = seqnn.softmax_cross_entropy(logits, targets, mask)
    kept, dkept = seqnn.softmax_cross_entropy(logits[mask], targets[mask])
    assert loss == pytest.approx(kept, rel=1e-13)
    assert np.allclose(dlogits[mask], dkept, rtol=0, atol=1e-15)
    assert not dlogits[~mask].any()
    float_mask = mask.astype(np.float64)
    assert seqnn.softmax_cross_entropy(logits, targets, float_mask)[0] == loss


def test_extreme_logits_are_finite_without_warnings():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    targets = np.array([1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dlogits = seqnn.softmax_cross_entropy(logits, targets)
        p = softmax(logits)
        s = sigmoid(np.array([-1000.0, 1000.0]))
    assert np.isfinite(loss) and np.isfinite(dlogits).all()
    assert loss == pytest.approx((2000.0 + 1.0 + np.log1p(np.exp(-1.0))) / 2, rel=1e-12)
    assert np.allclose(p.sum(-1), 1.0) and np.array_equal(s, [0.0, 1.0])


def test_float32_logits_keep_float32(rng):
    logits = rng.standard_normal((2, 3, 4)).astype(np.float32)
    _, d = seqnn.softmax_cross_entropy(logits, rng.integers(0, 4, (2, 3)))
    assert d.dtype == np.float32


def test_classifier_shape_b_v(rng):
    loss, d = seqnn.softmax_cross_entropy(rng.standard_normal((5, 3)), np.array([0, 1, 2, 1, 0]))
    assert d.shape == (5, 3) and loss > 0


def test_log_softmax_matches_log_of_softmax(rng):
    z = 10 * rng.standard_normal((4, 7))
    assert np.allclose(log_softmax(z), np.log(softmax(z)), atol=1e-12)


def test_all_masked_is_an_error(rng):
    with pytest.raises(ValueError, match="mask: selects no tokens"):
        seqnn.softmax_cross_entropy(rng.standard_normal((2, 3)), np.array([0, 1]), np.zeros(2, bool))


def test_mean_squared_error_is_the_definition(rng):
    pred, target = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    loss, dpred = seqnn.mean_squared_error(pred, target)
    assert loss == pytest.approx(sum((p - t) ** 2 for p, t in zip(pred.ravel(), target.ravel())) / 10, rel=1e-13)
    assert np.allclose(dpred, (pred - target) / 5, rtol=1e-13)
    loss32, dpred32 = seqnn.mean_squared_error(pred.astype(np.float32), target.astype(np.float32))
    assert dpred32.dtype == np.float32 and loss32 == pytest.approx(loss, rel=1e-6)


@pytest.mark.parametrize("pred, target, error, words", [
    (np.zeros((3, 1)), np.zeros(3), ValueError, "target: expected shape (3, 1), got (3,)"),
    (np.zeros((3, 1)), np.zeros((3, 1), np.float32), TypeError, "target: expected dtype float64"),
    (np.zeros((3, 1)), np.full((3, 1), np.nan), ValueError, "target: expected finite values"),
    (np.full((3, 1), np.inf), np.zeros((3, 1)), ValueError, "pred: expected finite values"),
    (np.zeros((3, 1), int), np.zeros((3, 1), int), TypeError, "pred: expected dtype float32 or float64, got int64"),
    (np.zeros((0, 1)), np.zeros((0, 1)), ValueError, "pred: expected at least one value"),
])
def test_mean_squared_error_refuses_bad_input(pred, target, error, words):
    with pytest.raises(error) as info:
        seqnn.mean_squared_error(pred, target)
    assert words in str(info.value)
