"""The evaluation helpers of the run engine (indrnn.run.evaluation)
against numpy references and the scripts' earlier code, written out."""
import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import indrnn.lasagne as lasagne
from indrnn.lasagne.layers import (BatchNormLayer, DenseLayer, InputLayer,
                                   get_all_params)
from indrnn.lasagne.nonlinearities import softmax
from indrnn.run import evaluation
from indrnn.run.evaluation import (classifier_figures, compile_classifier,
                                   compile_eval_pair, confusion_matrix,
                                   mean_over_batches, write_confusion)
from indrnn.run.functions import compile_test_fn

floatX = pytensor.config.floatX
MODE = 'FAST_COMPILE'


def _bn_classifier(rng, features=3, classes=4):
    """A BatchNorm before a softmax layer, with stored averages that are
    not the initial ones (so the two evaluations differ)."""
    lasagne.random.set_rng(np.random.RandomState(0))
    bn = BatchNormLayer(InputLayer((None, features)))
    bn.mean.set_value(rng.normal(size=features).astype(floatX))
    bn.inv_std.set_value(rng.uniform(0.5, 2, size=features).astype(floatX))
    return bn, DenseLayer(bn, classes, nonlinearity=softmax)


def _numpy_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _numpy_prediction(bn, out, x, averages):
    gamma, beta = bn.gamma.get_value(), bn.beta.get_value()
    if averages:
        mean, inv_std = bn.mean.get_value(), bn.inv_std.get_value()
    else:
        mean = x.mean(axis=0)
        inv_std = 1 / np.sqrt(x.var(axis=0) + bn.epsilon)
    h = (x - mean) * inv_std * gamma + beta
    return _numpy_softmax(h @ out.W.get_value() + out.b.get_value())


def test_eval_pair_against_numpy():
    rng = np.random.RandomState(1)
    bn, out = _bn_classifier(rng)
    x = rng.normal(size=(6, 3)).astype(floatX)
    x_sym = pt.matrix('x')
    test_fn, bn_test_fn = compile_eval_pair(
        out, [x_sym], lambda prediction: [prediction], feed=x_sym, mode=MODE)
    for fn, averages in ((test_fn, False), (bn_test_fn, True)):
        np.testing.assert_allclose(fn(x)[0],
                                   _numpy_prediction(bn, out, x, averages),
                                   rtol=1e-5, atol=1e-6)


def test_joint_is_the_pair_in_one_function():
    rng = np.random.RandomState(2)
    bn, out = _bn_classifier(rng)
    x = rng.normal(size=(5, 3)).astype(floatX)
    x_sym = pt.matrix('x')
    figures = lambda prediction: [prediction.sum(axis=1), prediction]
    pair = compile_eval_pair(out, [x_sym], figures, feed=x_sym, mode=MODE)
    joint = compile_eval_pair(out, [x_sym], figures, feed=x_sym, joint=True,
                              mode=MODE)
    got = joint(x)
    assert len(got) == 4
    for a, b in zip(got, pair[0](x) + pair[1](x)):
        np.testing.assert_array_equal(a, b)


def test_eval_pair_is_what_the_scripts_compiled():
    # The scripts' earlier code: one get_output per BatchNorm mode, then
    # compile_test_fn; same graph, same numbers bit for bit.
    rng = np.random.RandomState(3)
    bn, out = _bn_classifier(rng)
    x = rng.normal(size=(7, 3)).astype(floatX)
    y = rng.randint(0, 4, size=7).astype('int32')
    x_sym, y_sym = pt.matrix('x'), pt.ivector('y')
    ours = compile_eval_pair(
        out, [x_sym, y_sym],
        lambda p: classifier_figures(p, y_sym, per_example=True),
        feed=x_sym, mode=MODE)
    for fn, averages in zip(ours, (False, True)):
        p = lasagne.layers.get_output(out, x_sym, deterministic=True,
                                      batch_norm_use_averages=averages)
        ref = compile_test_fn(
            [x_sym, y_sym],
            [lasagne.objectives.categorical_crossentropy(p, y_sym),
             pt.cast(lasagne.objectives.categorical_accuracy(
                 p, y_sym, top_k=1), floatX)], mode=MODE)
        for a, b in zip(fn(x, y), ref(x, y)):
            np.testing.assert_array_equal(a, b)


def test_classifier_figures_against_numpy():
    rng = np.random.RandomState(4)
    prediction = _numpy_softmax(rng.normal(size=(8, 5))).astype(floatX)
    labels = rng.randint(0, 5, size=8).astype('int32')
    p_sym, y_sym = pt.matrix('p'), pt.ivector('y')
    ce = -np.log(prediction[np.arange(8), labels])
    correct = (prediction.argmax(axis=1) == labels).astype(floatX)
    per = pytensor.function([p_sym, y_sym], list(classifier_figures(
        p_sym, y_sym, per_example=True)), mode=MODE)(prediction, labels)
    np.testing.assert_allclose(per[0], ce, rtol=1e-5)
    np.testing.assert_array_equal(per[1], correct)
    mean = pytensor.function([p_sym, y_sym], list(classifier_figures(
        p_sym, y_sym)), mode=MODE)(prediction, labels)
    assert float(mean[0]) == pytest.approx(ce.mean(), rel=1e-5)
    assert float(mean[1]) == pytest.approx(correct.mean())


@pytest.mark.parametrize("decay", [None, 0.01])
def test_classifier_training_loss_and_step(decay):
    rng = np.random.RandomState(5)
    bn, out = _bn_classifier(rng)
    x = rng.normal(size=(6, 3)).astype(floatX)
    y = rng.randint(0, 4, size=6).astype('int32')
    x_sym, y_sym = pt.matrix('x'), pt.ivector('y')
    train_fn, test_fn, bn_test_fn = compile_classifier(
        out, x_sym, y_sym, lambda p: [p, classifier_figures(p, y_sym)[0]],
        decay=decay, mode=MODE)
    # Before the step: the loss is the cross-entropy with batch statistics
    # (dropout-free here) plus decay * the squares of W (and gamma).
    penalised = [p.get_value() for p in get_all_params(out,
                                                       regularizable=True)]
    p = _numpy_prediction(bn, out, x, averages=False)
    expected = -np.mean(np.log(p[np.arange(6), y]))
    if decay is not None:
        expected += decay * sum(float(np.sum(v.astype(np.float64) ** 2))
                                for v in penalised)
    before = out.W.get_value().copy()
    loss, acc = train_fn(x, y, np.float32(0.01))
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    assert float(acc) == pytest.approx(np.mean(p.argmax(axis=1) == y))
    assert not np.array_equal(out.W.get_value(), before)
    np.testing.assert_allclose(
        test_fn(x, y)[0], _numpy_prediction(bn, out, x, False), rtol=1e-5,
        atol=1e-6)


def test_mean_over_batches_per_batch_as_the_action_script():
    accs = [np.float32(0.1), np.float32(0.7), np.float32(0.3)]
    batches = [(i, None) for i in range(3)]
    fn = lambda x, y: [accs[x], 'more outputs']
    total = 0.0
    for acc in accs:           # the script's earlier mean_accuracy
        total += float(acc)
    assert mean_over_batches(fn, batches, ['acc']) == {'acc': total / 3}


def test_mean_over_batches_counts_each_example_once():
    rng = np.random.RandomState(6)
    values = rng.normal(size=10).astype(floatX)
    # Batches of 4 with the last one padded (entries past n_valid repeat
    # earlier examples and must not count).
    batches = [(values[0:4], values[0:4] > 0, 4),
               (values[4:8], values[4:8] > 0, 4),
               (np.r_[values[8:10], values[0:2]],
                np.r_[values[8:10], values[0:2]] > 0, 2)]
    means = mean_over_batches(lambda x, y: [x, y.astype(floatX)], batches,
                              ['value', 'positive'], padded=True)
    assert means['value'] == pytest.approx(float(np.mean(values)), rel=1e-6)
    assert means['positive'] == pytest.approx(float(np.mean(values > 0)))


def test_confusion_files(tmp_path, monkeypatch):
    labels, predictions = [0, 1, 2, 2], [0, 2, 2, 2]
    np.testing.assert_array_equal(confusion_matrix(labels, predictions, 3),
                                  [[1, 0, 0], [0, 0, 1], [0, 0, 2]])
    said = []
    monkeypatch.setattr(evaluation, 'save_confusion_png',
                        lambda matrix, path, title=None: False)
    path = write_confusion(labels, predictions, 3, str(tmp_path / 'c'),
                           'title', lambda *parts: said.append(parts))
    assert path == str(tmp_path / 'c.csv')
    np.testing.assert_array_equal(np.loadtxt(path, delimiter=','),
                                  [[1, 0, 0], [0, 0, 1], [0, 0, 2]])
    assert 'install matplotlib' in said[0][-1]
