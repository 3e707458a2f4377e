"""The adding problem: flags, data, networks and training.

Port of ``adding/adding.py`` of the original IndRNN code (Theano +
Lasagne). Each input sequence has two channels: random numbers in [0, 1)
and a marker that is 1 at exactly two time steps, one in each half of the
sequence. The target is the sum of the two marked numbers; predicting the
mean (1) gives a mean squared error of about 0.167, the baseline to beat.

The command line, networks, data and training schedule are the
original's: Adam at ``--lr``, a report every 100 batches (mean training
MSE over them and the MSE on 1000 fresh test sequences), the learning rate
divided by 10 after every 201 reports (the original tests ``count > 200``),
and the run ends once it falls below 1e-6. For ``--model indrnn`` the
recurrent weights are clipped to ``[-U_bound, U_bound]`` before every step.
The parameters are saved to ``<model><seq_len>.npz`` in the original
format. Extra flags: ``--seed``, ``--max_steps``, ``--report_every``,
``--out``, ``--log``, and the checkpoint flags ``--checkpoint_every``,
``--keep_checkpoints`` and ``--resume`` (see :mod:`indrnn.run.checkpoint`):
checkpoints go to ``<out>/<model><seq_len>_checkpoints/``, a resumed run
continues bit for bit as the uninterrupted one, and Ctrl-C or SIGTERM
finish the current step, write a checkpoint and print the resume command.

Examples
--------
Train for a few minutes on sequences of 100 steps::

    python -m indrnn.experiments.adding --seq_len 100 --max_steps 3000

>>> args = make_parser().parse_args(['--hidden_units', '8', '--seq_len', '12',
...                                  '--batch_size', '4'])
>>> build_network(args)['out'].output_shape
(4, 1)
"""
import argparse
import types

import numpy as np
import pytensor
import pytensor.tensor as pt

import indrnn.lasagne as lasagne
from indrnn.indrnn import IndRNNLayer
from indrnn.lasagne.layers import (DenseLayer, Gate, InputLayer, LSTMLayer,
                                   RecurrentLayer)
from indrnn.lasagne.nonlinearities import rectify, tanh
from indrnn.run import Run, StepDecay, command
from indrnn.run.flags import (add_run_flags, nonnegative_float32,
                              positive_float32, positive_int)
from indrnn.run.functions import compile_test_fn, compile_train_fn

__all__ = [
    "FEATURE_SIZE",
    "OUTPUTCLASS",
    "make_parser",
    "network_globals",
    "build_rnn_network",
    "build_indrnn_network",
    "build_network",
    "compile_functions",
    "generate_data",
    "main",
]

#: Input channels: the random numbers and the markers.
FEATURE_SIZE = 2
#: One regression output.
OUTPUTCLASS = 1

#: Flags that must equal the checkpoint's on ``--resume``: those that
#: shape the network, the data or the training. (The seed need not: the
#: parameters and random state come from the checkpoint.)
CONFIG_KEYS = ('model', 'hidden_units', 'batch_size', 'seq_len', 'MAG',
               'act', 'lr', 'in2hidW', 'gradclipvalue', 'report_every')


def make_parser():
    """Return the argument parser of the original ``adding.py`` plus extras.

    The original flags keep their names, types and defaults; floats use
    ``type=np.float32`` as in the original. The extra flags ``--seed``,
    ``--max_steps``, ``--report_every``, ``--out`` and ``--log`` default to
    the original behaviour.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = make_parser().parse_args([])
    >>> args.model, args.hidden_units, args.seq_len, args.act
    ('indrnn', 128, 500, 'relu')
    """
    parser = argparse.ArgumentParser(
        description='IndRNN solving the adding problem')
    parser.add_argument('--model', type=str, default='indrnn', help='models')
    # The original's help text has the typo 'humber'.
    parser.add_argument('--hidden_units', type=positive_int, default=128,
                        help='humber of hidden units per layer')
    parser.add_argument('--batch_size', type=positive_int, default=32)
    parser.add_argument('--seq_len', type=positive_int, default=500)
    parser.add_argument('--MAG', type=positive_int, default=2)
    parser.add_argument('--act', type=str, default='relu')
    parser.add_argument('--lr', type=positive_float32, default=2e-4, help='lr')
    parser.add_argument('--in2hidW', type=nonnegative_float32, default=0.001)
    parser.add_argument('--gradclipvalue', type=nonnegative_float32, default=10)
    run_flags = add_run_flags(parser, '<model><seq_len>')
    run_flags.add_argument('--report_every', type=positive_int, default=100,
                           help='batches between reports (original: 100)')
    return parser


def network_globals(args):
    """Compute the module globals of the original script.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).

    Returns
    -------
    types.SimpleNamespace
        ``batch_size``, ``seq_len``, ``hidden_units``, ``feature_size``,
        ``outputclass``, ``U_bound``, ``U_lowbound``, ``act`` and ``lr``,
        named as in the original.

    Examples
    --------
    >>> g = network_globals(make_parser().parse_args(['--seq_len', '100']))
    >>> round(g.U_bound ** 100, 6), round(g.U_lowbound ** 100, 6)
    (2.0, 0.5)
    """
    g = types.SimpleNamespace()
    g.batch_size = args.batch_size
    g.seq_len = args.seq_len
    g.hidden_units = args.hidden_units
    g.feature_size = FEATURE_SIZE
    g.outputclass = OUTPUTCLASS
    # |u|**seq_len within [1/MAG, MAG]: the clip bound and the lower end of
    # the last layer's initialisation.
    g.U_bound = pow(args.MAG, 1.0 / g.seq_len)
    g.U_lowbound = pow(1.0 / args.MAG, 1.0 / g.seq_len)
    if args.act == 'tanh':
        # tanh shrinks the state, so allow |u| a little above the relu bound.
        g.U_bound = pow(args.MAG / (pow(0.9, g.seq_len / 10.0)),
                        1.0 / g.seq_len)
    # As in the original, any --act other than 'tanh' means relu.
    g.act = tanh if args.act == 'tanh' else rectify
    g.lr = args.lr
    return g


def build_rnn_network(args, rnnmodel=None):
    """Build the baselines (``--model rnn`` or ``--model lstm``).

    One recurrent layer returning its last step, then a linear
    ``DenseLayer`` with one unit. The LSTM has forget-gate bias 1 (and
    Lasagne's default peepholes). The relu RNN is an IRNN: input weights
    ``Normal(--in2hidW)``, recurrent weights the identity; the tanh RNN
    keeps Lasagne's default recurrent initialisation.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).
    rnnmodel : class, optional
        ``RecurrentLayer`` or ``LSTMLayer``; chosen from ``--model`` when
        omitted (``LSTMLayer`` for ``lstm``).

    Returns
    -------
    dict
        The layers, keyed as in the original (``'input'``, ``'rnn'``,
        ``'out'``).

    Examples
    --------
    >>> args = make_parser().parse_args(
    ...     ['--model', 'rnn', '--hidden_units', '8', '--seq_len', '12'])
    >>> float(build_rnn_network(args)['rnn'].W_hid_to_hid.get_value().trace())
    8.0
    """
    if rnnmodel is None:
        rnnmodel = LSTMLayer if args.model == 'lstm' else RecurrentLayer
    g = network_globals(args)
    hidden_units = g.hidden_units
    net = {}
    net['input'] = InputLayer((g.batch_size, g.seq_len, g.feature_size))
    if rnnmodel is LSTMLayer:
        net['rnn'] = rnnmodel(
            net['input'], hidden_units,
            forgetgate=Gate(b=lasagne.init.Constant(1.)),
            only_return_final=True, grad_clipping=args.gradclipvalue)
    elif g.act is rectify:
        net['rnn'] = rnnmodel(
            net['input'], hidden_units,
            W_in_to_hid=lasagne.init.Normal(args.in2hidW),
            # The original passes a callable that ignores the shape asked.
            W_hid_to_hid=lambda shape: np.identity(hidden_units,
                                                   dtype=np.float32),
            nonlinearity=g.act, only_return_final=True,
            grad_clipping=args.gradclipvalue)
    else:
        net['rnn'] = rnnmodel(
            net['input'], hidden_units,
            W_in_to_hid=lasagne.init.Normal(args.in2hidW),
            nonlinearity=g.act, only_return_final=True,
            grad_clipping=args.gradclipvalue)
    net['out'] = DenseLayer(net['rnn'], g.outputclass, nonlinearity=None)
    return net


def build_indrnn_network(args, res_rnnmodel=IndRNNLayer):
    """Build the two-layer IndRNN (``--model indrnn``).

    Two ``IndRNNLayer`` with input weights ``Normal(--in2hidW)``; the second
    returns its last step to a linear ``DenseLayer`` with one unit. With
    relu the recurrent weights start in ``[0, U_bound]`` (first layer) and
    ``[U_lowbound, U_bound]`` (second layer), so the second layer keeps a
    long memory. With tanh both use ``Uniform(range=(U_bound))``: the
    parentheses do not make a tuple, so the range is the scalar ``U_bound``,
    i.e. ``[-U_bound, U_bound]``, as in the original.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).
    res_rnnmodel : class
        The recurrent layer class (the original's argument name).

    Returns
    -------
    dict
        The layers, keyed as in the original (``'input'``, ``'rnn0'``,
        ``'rnn'``, ``'out'``).

    Examples
    --------
    >>> args = make_parser().parse_args(['--hidden_units', '8',
    ...                                  '--seq_len', '12'])
    >>> net = build_indrnn_network(args)
    >>> net['rnn0'].output_shape, net['rnn'].output_shape
    ((32, 12, 8), (32, 8))
    """
    g = network_globals(args)
    net = {}
    net['input'] = InputLayer((g.batch_size, g.seq_len, g.feature_size))
    if g.act is rectify:
        init0 = lasagne.init.Uniform(range=(0, g.U_bound))
        init1 = lasagne.init.Uniform(range=(g.U_lowbound, g.U_bound))
    else:
        init0 = lasagne.init.Uniform(range=(g.U_bound))
        init1 = lasagne.init.Uniform(range=(g.U_bound))
    net['rnn0'] = res_rnnmodel(
        net['input'], g.hidden_units,
        W_in_to_hid=lasagne.init.Normal(args.in2hidW), nonlinearity=g.act,
        W_hid_to_hid=init0, grad_clipping=args.gradclipvalue)
    net['rnn'] = res_rnnmodel(
        net['rnn0'], g.hidden_units,
        W_in_to_hid=lasagne.init.Normal(args.in2hidW), nonlinearity=g.act,
        W_hid_to_hid=init1, only_return_final=True,
        grad_clipping=args.gradclipvalue)
    net['out'] = DenseLayer(net['rnn'], g.outputclass, nonlinearity=None)
    return net


def build_network(args):
    """Build the network ``--model`` selects, as the original script does.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (see :func:`make_parser`).

    Returns
    -------
    dict
        The ``net`` dict of :func:`build_rnn_network` (``rnn``, ``lstm``) or
        :func:`build_indrnn_network` (``indrnn``).

    Raises
    ------
    ValueError
        For another ``--model`` (the original then failed with a NameError).

    Examples
    --------
    >>> args = make_parser().parse_args(['--model', 'gru'])
    >>> build_network(args)
    Traceback (most recent call last):
    ...
    ValueError: unknown --model 'gru': choose rnn, lstm or indrnn
    """
    if args.model == 'rnn':
        return build_rnn_network(args, RecurrentLayer)
    if args.model == 'lstm':
        return build_rnn_network(args, LSTMLayer)
    if args.model == 'indrnn':
        return build_indrnn_network(args, IndRNNLayer)
    raise ValueError("unknown --model %r: choose rnn, lstm or indrnn"
                     % args.model)


def generate_data(time_steps, n_data, rng):
    """Draw a batch of the adding problem, as the original generator.

    The draws, their order and the layout are the original's, with an
    explicit random state in place of the global ``np.random``.

    Parameters
    ----------
    time_steps : int
        Sequence length.
    n_data : int
        Number of sequences.
    rng : numpy.random.RandomState
        Source of randomness.

    Returns
    -------
    x : numpy.ndarray
        ``(n_data, time_steps, 2)`` of ``floatX``: channel 0 uniform in
        [0, 1), channel 1 is 1 at one step of the first half
        (``< time_steps // 2``) and one of the second half, 0 elsewhere.
    y : numpy.ndarray
        ``(n_data, 1)`` of ``floatX``: the sum of the two marked numbers.

    Examples
    --------
    >>> x, y = generate_data(10, 3, np.random.RandomState(0))
    >>> x.shape, y.shape, x[:, :, 1].sum(axis=1).tolist()
    ((3, 10, 2), (3, 1), [2.0, 2.0, 2.0])
    """
    floatX = pytensor.config.floatX
    n_data = int(n_data)
    x = np.zeros((time_steps, n_data, 2), dtype=floatX)
    x[:, :, 0] = np.asarray(rng.uniform(low=0., high=1.,
                                        size=(time_steps, n_data)),
                            dtype=floatX)
    inds = np.asarray(rng.randint(time_steps // 2, size=(n_data, 2)))
    inds[:, 1] += time_steps // 2
    columns = np.arange(n_data)
    x[inds[:, 0], columns, 1] = 1.0
    x[inds[:, 1], columns, 1] = 1.0
    y = (x[:, :, 0] * x[:, :, 1]).sum(axis=0)
    y = np.reshape(y, (n_data, 1))
    x = np.transpose(x, (1, 0, 2))
    return x, y


def compile_functions(args, net, mode=None):
    """Compile the original's ``train_fn`` and ``test_fn``.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed flags (``--model``, ``--seq_len`` for the clip bound).
    net : dict
        The network from :func:`build_network`.
    mode : str or Mode, optional
        PyTensor compilation mode (None: the configured default).

    Returns
    -------
    train_fn : callable
        ``train_fn(x, y, learning_rate) -> [mse]``: one Adam step on the
        batch's mean squared error; for ``--model indrnn`` the recurrent
        weights are first clipped to ``[-U_bound, U_bound]``, as the
        original loop does before every step.
    test_fn : callable
        ``test_fn(x, y) -> [mse]``.
    """
    X_sym = pt.tensor3('inputs', dtype=pytensor.config.floatX)
    y_sym = pt.matrix('label', dtype=pytensor.config.floatX)
    prediction = lasagne.layers.get_output(net['out'], X_sym,
                                           deterministic=False)
    loss = lasagne.objectives.squared_error(prediction, y_sym).mean()
    params = lasagne.layers.get_all_params(net['out'], trainable=True)
    U_bound = network_globals(args).U_bound if args.model == 'indrnn' \
        else None
    train_fn = compile_train_fn([X_sym, y_sym], loss, params,
                                U_bound=U_bound, mode=mode)
    test_fn = compile_test_fn([X_sym, y_sym], [loss], mode=mode)
    return train_fn, test_fn


def _run(args, argv):
    run = Run(args, argv, args.model + str(args.seq_len),
              'indrnn.experiments.adding', CONFIG_KEYS)
    g = network_globals(args)
    learn_net = build_network(args)
    run.log("output shape", lasagne.layers.get_output_shape(learn_net['out']))
    run.log("Compiling")
    train_fn, test_fn = compile_functions(args, learn_net)
    # One random state for initialisation and data, as the original's
    # global np.random: initial weights first, then batches.
    rng = run.rng

    def evaluate(state):
        x, y = generate_data(g.seq_len, 1000, rng)
        mse, = test_fn(x, y)
        return {"test_mse": float(mse)}

    return run.train(
        lambda batch, lr: train_fn(*batch, lr),
        lambda: generate_data(g.seq_len, g.batch_size, rng), g.lr,
        learn_net['out'], train_fn, names=("mse",),
        report_every=args.report_every, evaluate=evaluate,
        # The original counts reports and decays after the 201st
        # (count > 200), then counts again: every 201 reports.
        schedule=StepDecay(201 * args.report_every, stop_below=1e-6),
        best_metric='test_mse', curves=('train_mse', 'test_mse'))


def main(argv=None):
    """Run the adding problem from the command line.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 on success, 1 if the loss became NaN or Inf or a checkpoint could
        not be read or written, 128 + the signal number if stopped by
        SIGINT or SIGTERM.

    Examples
    --------
    ::

        python -m indrnn.experiments.adding --model indrnn --seq_len 100 \\
            --max_steps 3000 --out runs/adding
    """
    return command(make_parser, _run, argv)


if __name__ == '__main__':
    raise SystemExit(main())
