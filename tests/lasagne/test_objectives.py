"""Tests for indrnn.lasagne.objectives against numpy."""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from indrnn.lasagne import objectives as obj
from indrnn.lasagne.nonlinearities import softmax

RNG = np.random.RandomState(0)
P = RNG.uniform(0.05, 0.95, size=(6, 4))
PROBS = P / P.sum(axis=1, keepdims=True)
# targets of known rank: best class for rows 0-1, second best for 2-3,
# the two worst for 4-5, so top-1 and top-2 accuracy differ
_ORDER = np.argsort(PROBS, axis=1)
LABELS = np.array([_ORDER[0, -1], _ORDER[1, -1], _ORDER[2, -2],
                   _ORDER[3, -2], _ORDER[4, 0], _ORDER[5, 1]], dtype="int32")
ONEHOT = np.eye(4)[LABELS]
BIN_P = RNG.uniform(0.05, 0.95, size=(6,))
BIN_T = np.array([0, 1, 1, 0, 1, 0], dtype="float64")


def _np_log_softmax(x):
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


@pytest.fixture(scope="module")
def results():
    """Evaluate all objectives in one compiled function."""
    p = pt.matrix("p", dtype="float64")
    y = pt.ivector("y")
    t = pt.matrix("t", dtype="float64")
    bp = pt.vector("bp", dtype="float64")
    bt = pt.vector("bt", dtype="float64")
    col = pt.col("col", dtype="float64")
    out = dict(
        cce_int=obj.categorical_crossentropy(p, y),
        cce_onehot=obj.categorical_crossentropy(p, t),
        bce=obj.binary_crossentropy(bp, bt),
        bce_col=obj.binary_crossentropy(col, bt),
        se=obj.squared_error(p, t),
        se_col=obj.squared_error(col, bt),
        hinge_logodds=obj.binary_hinge_loss(bp - 0.5, bt, log_odds=True),
        hinge_prob=obj.binary_hinge_loss(bp, bt, log_odds=False, delta=2),
        hinge_pm1=obj.binary_hinge_loss(bp - 0.5, 2 * bt - 1, log_odds=True,
                                        binary=False),
        mc_hinge_int=obj.multiclass_hinge_loss(p, y),
        mc_hinge_onehot=obj.multiclass_hinge_loss(p, t, delta=0.5),
        bacc=obj.binary_accuracy(bp, bt),
        bacc_thr=obj.binary_accuracy(bp, bt, threshold=0.3),
        cacc=obj.categorical_accuracy(p, y),
        cacc_onehot=obj.categorical_accuracy(p, t),
        cacc_top2=obj.categorical_accuracy(p, y, top_k=2),
    )
    names = sorted(out)
    f = pytensor.function([p, y, t, bp, bt, col], [out[n] for n in names],
                          mode="FAST_COMPILE", on_unused_input="ignore")
    values = f(PROBS, LABELS, ONEHOT, BIN_P, BIN_T, BIN_P[:, None])
    return dict(zip(names, values))


def test_categorical_crossentropy(results):
    ref = -np.log(PROBS[np.arange(6), LABELS])
    np.testing.assert_allclose(results["cce_int"], ref, rtol=1e-12)
    np.testing.assert_allclose(results["cce_onehot"], ref, rtol=1e-12)


def test_binary_crossentropy(results):
    ref = -(BIN_T * np.log(BIN_P) + (1 - BIN_T) * np.log(1 - BIN_P))
    np.testing.assert_allclose(results["bce"], ref, rtol=1e-12)
    # a column of predictions and a vector of targets are aligned, not
    # broadcast against each other
    np.testing.assert_allclose(results["bce_col"], ref[:, None], rtol=1e-12)


def test_squared_error(results):
    np.testing.assert_allclose(results["se"], (PROBS - ONEHOT) ** 2)
    np.testing.assert_allclose(results["se_col"],
                               ((BIN_P - BIN_T) ** 2)[:, None])


def test_binary_hinge_loss(results):
    pm = 2 * BIN_T - 1
    np.testing.assert_allclose(results["hinge_logodds"],
                               np.maximum(0, 1 - (BIN_P - 0.5) * pm))
    np.testing.assert_allclose(results["hinge_pm1"],
                               np.maximum(0, 1 - (BIN_P - 0.5) * pm))
    logodds = np.log(BIN_P / (1 - BIN_P))
    np.testing.assert_allclose(results["hinge_prob"],
                               np.maximum(0, 2 - logodds * pm))


def test_binary_hinge_requires_log_odds():
    with pytest.raises(FutureWarning):
        obj.binary_hinge_loss(pt.vector(), pt.vector())


def test_multiclass_hinge_loss(results):
    def ref(delta):
        out = []
        for row, lab in zip(PROBS, LABELS):
            rest = np.delete(row, lab).max()
            out.append(max(0.0, rest - row[lab] + delta))
        return np.array(out)
    np.testing.assert_allclose(results["mc_hinge_int"], ref(1.0))
    np.testing.assert_allclose(results["mc_hinge_onehot"], ref(0.5))


def test_accuracies(results):
    np.testing.assert_array_equal(results["bacc"], (BIN_P >= 0.5) == BIN_T)
    np.testing.assert_array_equal(results["bacc_thr"],
                                  (BIN_P >= 0.3) == BIN_T)
    top1 = PROBS.argmax(axis=1) == LABELS
    np.testing.assert_array_equal(results["cacc"], top1)
    np.testing.assert_array_equal(results["cacc_onehot"], top1)
    top2 = np.argsort(PROBS, axis=1)[:, -2:]
    np.testing.assert_array_equal(results["cacc_top2"],
                                  (top2 == LABELS[:, None]).any(axis=1))
    assert results["cacc"].tolist() == [True, True] + [False] * 4
    assert results["cacc_top2"].tolist() == [True] * 4 + [False] * 2


def test_rank_mismatch_errors():
    with pytest.raises(TypeError):
        obj.categorical_crossentropy(pt.matrix(), pt.tensor3())
    with pytest.raises(TypeError):
        obj.categorical_accuracy(pt.matrix(), pt.tensor3())
    with pytest.raises(TypeError):
        obj.multiclass_hinge_loss(pt.matrix(), pt.tensor3())


def test_aggregate():
    loss = pt.vector("loss", dtype="float64")
    w = pt.vector("w", dtype="float64")
    f = pytensor.function(
        [loss, w],
        [obj.aggregate(loss), obj.aggregate(loss, mode='sum'),
         obj.aggregate(loss, w), obj.aggregate(loss, w, mode='sum'),
         obj.aggregate(loss, w, mode='normalized_sum')],
        mode="FAST_COMPILE")
    lv = np.array([1.0, 2.0, 3.0, 6.0])
    wv = np.array([0.0, 1.0, 0.5, 2.0])
    mean, total, wmean, wsum, nsum = f(lv, wv)
    np.testing.assert_allclose(mean, lv.mean())
    np.testing.assert_allclose(total, lv.sum())
    np.testing.assert_allclose(wmean, (lv * wv).mean())
    np.testing.assert_allclose(wsum, (lv * wv).sum())
    np.testing.assert_allclose(nsum, (lv * wv).sum() / wv.sum())
    with pytest.raises(ValueError):
        obj.aggregate(loss, mode='normalized_sum')
    with pytest.raises(ValueError):
        obj.aggregate(loss, mode='median')


def test_crossentropy_of_softmax_is_stable():
    # Theano fused softmax + cross-entropy into a stable op whose gradient
    # is softmax - onehot; the port must not give NaN when probabilities
    # underflow.
    x = pt.matrix("x", dtype="float64")
    y = pt.ivector("y")
    t = pt.matrix("t", dtype="float64")
    loss_int = obj.categorical_crossentropy(softmax(x), y).sum()
    loss_hot = obj.categorical_crossentropy(softmax(x), t).sum()
    f = pytensor.function(
        [x, y, t], [loss_int, pytensor.grad(loss_int, x),
                    loss_hot, pytensor.grad(loss_hot, x)],
        mode="FAST_COMPILE")
    xv = np.array([[0.0, 800.0, -5.0], [1.0, 2.0, 3.0]])
    yv = np.array([0, 2], dtype="int32")
    tv = np.eye(3)[yv]
    l_int, g_int, l_hot, g_hot = f(xv, yv, tv)
    ref_loss = -_np_log_softmax(xv)[np.arange(2), yv].sum()
    ref_grad = np.exp(_np_log_softmax(xv)) - tv
    for loss, grad in ((l_int, g_int), (l_hot, g_hot)):
        np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
        np.testing.assert_allclose(grad, ref_grad, atol=1e-12)


def test_crossentropy_gradient_of_plain_probabilities():
    # -log(p[i, y_i]): gradient -1/p at the target, 0 elsewhere, even where
    # other probabilities are exactly zero.
    p = pt.matrix("p", dtype="float64")
    y = pt.ivector("y")
    loss = obj.categorical_crossentropy(p, y).sum()
    f = pytensor.function([p, y], pytensor.grad(loss, p),
                          mode="FAST_COMPILE")
    pv = np.array([[0.5, 0.5, 0.0], [0.0, 0.25, 0.75]])
    yv = np.array([1, 2], dtype="int32")
    ref = np.zeros_like(pv)
    ref[np.arange(2), yv] = -1.0 / pv[np.arange(2), yv]
    np.testing.assert_allclose(f(pv, yv), ref)


def test_float32_losses_stay_float32():
    with pytensor.config.change_flags(floatX="float64"):
        p = pt.matrix(dtype="float32")
        y = pt.ivector()
        t = pt.matrix(dtype="float32")
        assert obj.categorical_crossentropy(p, y).dtype == "float32"
        assert obj.categorical_crossentropy(softmax(p), y).dtype == "float32"
        assert obj.squared_error(p, t).dtype == "float32"
        assert obj.binary_crossentropy(
            pt.vector(dtype="float32"), pt.vector(dtype="float32")
        ).dtype == "float32"


def test_huber_loss_against_numpy_and_its_gradient():
    p = pt.vector("p", dtype="float64")
    t = pt.vector("t", dtype="float64")
    loss = obj.huber_loss(p, t, delta=0.5)
    f = pytensor.function([p, t], [loss, pytensor.grad(loss.sum(), p)],
                          mode="FAST_COMPILE")
    pred = np.array([0.1, -0.3, 2.0, -1.5, 0.5])
    targ = np.zeros(5)
    value, grad = f(pred, targ)
    d = np.abs(pred - targ)
    np.testing.assert_allclose(value, np.where(d <= 0.5, 0.5 * d ** 2,
                                               0.5 * (d - 0.25)))
    # the gradient is the error, capped at delta
    np.testing.assert_allclose(grad, np.clip(pred - targ, -0.5, 0.5))
    # a column of targets broadcasts as in the other losses
    col = obj.huber_loss(pt.as_tensor(np.ones((3, 1))),
                         pt.as_tensor(np.zeros(3)))
    np.testing.assert_allclose(
        pytensor.function([], col, mode="FAST_COMPILE")(),
        np.full((3, 1), 0.5))
