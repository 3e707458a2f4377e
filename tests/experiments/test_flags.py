"""Range checks of the experiments' flags (indrnn.run.flags).

Each experiment's parser refuses an out-of-range value at start with
argparse's usual message, which names the flag; values in range parse to
the same type as the original's ``type=``.
"""
import argparse

import numpy as np
import pytest

from indrnn.experiments import Indrnn_action_train as action
from indrnn.experiments import adding, pixelmnist
from indrnn.run import flags as _flags
from indrnn.experiments import penntree_charlevel_rernn as ptb_char
from indrnn.experiments import penntree_wordlevel_rernn_WT as ptb_word

PARSERS = {
    'adding': adding.make_parser,
    'pixelmnist': pixelmnist.make_main_parser,
    'action': action.make_parser,
    'ptb_char': ptb_char.make_parser,
    'ptb_word': ptb_word.make_parser,
}

BAD = [
    ('adding', '--batch_size', '0'), ('adding', '--seq_len', '0'),
    ('adding', '--hidden_units', '-4'), ('adding', '--lr', '-0.001'),
    ('adding', '--lr', 'nan'), ('adding', '--in2hidW', '-0.1'),
    ('adding', '--report_every', '0'), ('adding', '--max_steps', '-1'),
    ('adding', '--checkpoint_every', '0'),
    ('pixelmnist', '--num_layers', '0'), ('pixelmnist', '--batch_size', '-2'),
    ('pixelmnist', '--dropout', '1'), ('pixelmnist', '--dropout', '-0.1'),
    ('pixelmnist', '--dropout_first', '1.5'),
    ('pixelmnist', '--subset', '0'), ('pixelmnist', '--eval_every', '0'),
    ('pixelmnist', '--decayrate', '-1'), ('pixelmnist', '--MAG', '0'),
    ('action', '--droprate', '1'), ('action', '--droprate', '-0.5'),
    ('action', '--seq_len', '0'), ('action', '--batch_size', '0'),
    ('action', '--eval_fold', '0'), ('action', '--MAG', '0'),
    ('action', '--drop_layers', '-1'), ('action', '--lr', 'inf'),
    ('ptb_char', '--hidden_units', '0'), ('ptb_char', '--seq_len', '0'),
    ('ptb_char', '--droprate', '1'), ('ptb_char', '--lr', '-0.001'),
    ('ptb_char', '--residual_layers', '0'), ('ptb_char', '--pThre', '-1'),
    ('ptb_word', '--batch_size', '0'), ('ptb_word', '--droprate_last', '1.2'),
    ('ptb_word', '--lr_decay', '0'), ('ptb_word', '--randstart', '-2'),
]


@pytest.mark.parametrize('script, flag, value', BAD)
def test_out_of_range_is_refused_naming_the_flag(script, flag, value,
                                                  capsys):
    with pytest.raises(SystemExit) as exc:
        PARSERS[script]().parse_args([flag, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert 'argument %s:' % flag in err and value in err


@pytest.mark.parametrize('script, flag, value, expected', [
    ('adding', '--batch_size', '1', 1), ('adding', '--in2hidW', '0', 0.0),
    ('pixelmnist', '--dropout', '0', 0.0),
    ('pixelmnist', '--dropout', '0.999', 0.999),
    ('action', '--droprate', '0.25', 0.25), ('action', '--drop_layers', '0', 0),
])
def test_boundary_values_are_accepted(script, flag, value, expected):
    args = PARSERS[script]().parse_args([flag, value])
    assert getattr(args, flag[2:]) == pytest.approx(expected)


def test_types_are_the_originals():
    args = action.make_parser().parse_args(['--lr', '0.01', '--droprate',
                                            '0.2', '--batch_size', '3'])
    assert type(args.lr) is np.float32 and type(args.droprate) is np.float32
    assert type(args.batch_size) is int
    args = pixelmnist.make_main_parser().parse_args(['--dropout', '0.2'])
    assert type(args.dropout) is float


def test_converters():
    assert _flags.positive_int('7') == 7
    with pytest.raises(argparse.ArgumentTypeError, match='invalid int'):
        _flags.positive_int('1.5')
    with pytest.raises(argparse.ArgumentTypeError, match=r'\[0, 1\)'):
        _flags.probability('1.0')
    with pytest.raises(argparse.ArgumentTypeError, match='greater than 0'):
        _flags.positive_float32('0')
    assert _flags.nonnegative_float('0') == 0.0


@pytest.mark.parametrize('script', sorted(set(PARSERS) - {'ptb_char',
                                                          'ptb_word'}))
def test_checkpoint_every_takes_steps_or_a_time(script):
    parser = PARSERS[script]()
    assert parser.parse_args(['--checkpoint_every', '250']) \
        .checkpoint_every.steps == 250
    assert parser.parse_args(['--checkpoint_every', '45m']) \
        .checkpoint_every.minutes == 45.0


def test_num_first_zero_means_no_first_layer():
    # The PTB default of --net dense; 0 must be accepted on the command
    # line too, negative values not.
    parser = ptb_char.make_parser(extras=True)
    assert parser.parse_args(['--num_first', '0']).num_first == 0
    with pytest.raises(SystemExit):
        parser.parse_args(['--num_first', '-1'])
