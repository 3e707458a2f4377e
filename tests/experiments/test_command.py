"""The ``indrnn`` command (indrnn.experiments.command): subcommands and the
original script names, through the installed console script."""
import json
import os
import subprocess
import sys

import pytest

from indrnn.experiments import command


def _indrnn():
    """The installed ``indrnn`` script beside this Python."""
    path = os.path.join(os.path.dirname(sys.executable), 'indrnn')
    if not os.path.exists(path):
        pytest.fail('the indrnn command is not installed beside %s: run '
                    "pip install -e '.[test]' again" % sys.executable)
    return path


def test_help_lists_every_command(capsys):
    assert command.main(['--help']) == 0
    out = capsys.readouterr().out
    for name in list(command.COMMANDS) + list(command.ALIASES):
        assert name in out
    assert command.main([]) == 2


def test_unknown_command_is_refused(capsys):
    assert command.main(['addingg']) == 2
    err = capsys.readouterr().err
    assert "unknown command 'addingg'" in err and 'pixelmnist' in err


def test_every_command_has_a_main():
    import importlib
    for module, _ in command.COMMANDS.values():
        assert callable(importlib.import_module(module).main), module


@pytest.mark.parametrize('name', ['adding', 'ptb-char',
                                  'penntree_charlevel_rernn'])
def test_subcommand_help_is_the_scripts(name):
    done = subprocess.run([_indrnn(), name, '--help'], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('usage: indrnn %s' % name)
    assert '--seed' in done.stdout


def test_indrnn_adding_trains(tmp_path):
    out = tmp_path / 'run'
    env = dict(os.environ)
    env.pop('PYTENSOR_FLAGS', None)
    done = subprocess.run(
        [_indrnn(), 'adding', '--seq_len', '10', '--hidden_units', '8',
         '--batch_size', '4', '--max_steps', '4', '--report_every', '2',
         '--seed', '1', '--out', str(out)],
        capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    with open(out / 'indrnn10.json') as f:
        report = json.load(f)
    assert report['steps'] == 4
    assert report['script'] == 'indrnn.experiments.adding'
    assert (out / 'indrnn10.npz').exists()
