"""Command-line flags of the skeleton-based action recognition scripts.

Port of ``action recognition/opts.py`` of the original IndRNN code: the
flags shared by ``Indrnn_action_network.py`` (the network builder, see
:mod:`indrnn.experiments.Indrnn_action_network`) and ``Indrnn_action_train.py``
(the training script, see :mod:`indrnn.experiments.Indrnn_action_train`), and
(:func:`deep_opts`, not in the original) the options of the Deep IndRNN
networks.
"""
import numpy as np

from indrnn.run.flags import (add_deep_options, nonnegative_float32,
                               nonnegative_int, positive_float32,
                               positive_int, probability_float32)

__all__ = ["train_opts", "deep_opts"]


def train_opts(parser):
    """Add the original's action-recognition flags to ``parser``.

    Every flag keeps the original's name, type, default and help text
    (including help texts copied from other flags, such as ``'lr'`` for
    ``--decayrate``). Floats use ``type=np.float32`` as in the original, so
    a value given on the command line is a ``np.float32`` while a default
    stays a Python float.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser to extend, in place.

    Returns
    -------
    None

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(description='network')
    >>> train_opts(parser)
    >>> args = parser.parse_args(['--constrain_U'])
    >>> args.constrain_U, args.MAG, args.seq_len
    (True, 5.0, 20)
    """
    parser.add_argument('--lr', type=positive_float32, default=2e-4, help='lr')
    parser.add_argument('--batch_size', type=positive_int, default=128,
                        help='batch_size')
    parser.add_argument('--seq_len', type=positive_int, default=20)
    parser.add_argument('--num_layers', type=positive_int, default=6,
                        help='num_layers')
    parser.add_argument('--hidden_units', type=positive_int, default=512)
    parser.add_argument('--test_CV', action='store_true', default=False,
                        help='use the CS test setting. If True, then use CV '
                             'test setting.')
    parser.add_argument('--use_weightdecay_nohiddenW', action='store_true',
                        default=False)
    parser.add_argument('--decayrate', type=nonnegative_float32, default=1e-4,
                        help='lr')

    parser.add_argument('--use_bn_afterrnn', action='store_true',
                        default=False)

    parser.add_argument('--ini_in2hid', type=nonnegative_float32, default=0.002)

    parser.add_argument('--constrain_U', action='store_true', default=False)
    parser.add_argument('--MAG', type=positive_float32, default=5.0)

    parser.add_argument('--rotation_aug', action='store_true', default=False)
    parser.add_argument('--eval_fold', type=positive_int, default=5)
    parser.add_argument('--ini_b', type=np.float32, default=0.0)
    parser.add_argument('--end_rate', type=nonnegative_float32, default=1e-6)

    parser.add_argument('--use_dropout', action='store_true', default=False)
    # --bn_drop exists only in the later revision of the original (a
    # BatchNorm with dropout after each IndRNN layer); the builder rejects
    # it because that layer is not ported.
    parser.add_argument('--bn_drop', action='store_true', default=False)
    parser.add_argument('--droprate', type=probability_float32, default=0.1,
                        help='lr')
    parser.add_argument('--rec_drop', action='store_true', default=False)
    parser.add_argument('--drop_layers', type=nonnegative_int, default=1)
    parser.add_argument('--conv_drop', action='store_true', default=False)


def deep_opts(parser):
    """Add the Deep IndRNN options (``--net plain|residual|dense`` ...).

    Not in the original: the options of
    :func:`indrnn.run.flags.add_deep_options`, with the same names and
    defaults as in the pixel-MNIST script. They are kept out of
    :func:`train_opts`, which holds exactly the original's flags; the
    default ``--net plain`` builds the original network.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser to extend, in place.

    Returns
    -------
    argparse.ArgumentParser
        ``parser``.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(description='network')
    >>> train_opts(parser)
    >>> args = deep_opts(parser).parse_args(['--net', 'residual'])
    >>> args.net, args.num_blocks, args.MAG
    ('residual', 5, 5.0)
    """
    return add_deep_options(parser)
