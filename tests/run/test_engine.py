"""The run engine (indrnn.run): start-up, resume checks and reports,
through the adding experiment's command (the default mode) and directly."""
import csv
import doctest
import json
import re

import numpy as np
import pytest

from indrnn.experiments import adding
from indrnn import run as run_package
from indrnn.run import engine, flags, report, schedules
from indrnn.run.report import RunReport

ARGV = ['--seq_len', '10', '--hidden_units', '8', '--batch_size', '4',
        '--report_every', '2', '--seed', '3']


@pytest.mark.parametrize("module", [engine, flags, report, schedules,
                                    run_package])
def test_docstring_examples(module):
    failures, tests = doctest.testmod(module, extraglobs={"np": np})
    assert not failures, module.__name__
    assert tests or module is run_package


def test_a_run_writes_its_reports(tmp_path):
    out = tmp_path / 'a'
    assert adding.main(ARGV + ['--max_steps', '6', '--out', str(out)]) == 0
    log = (out / 'indrnn10.log').read_text()
    logged = [float(v) for v in re.findall(r'test_mse (\S+)', log)]
    with open(out / 'indrnn10.csv') as f:
        rows = list(csv.DictReader(f))
    with open(out / 'indrnn10.json') as f:
        saved = json.load(f)
    assert [int(r['step']) for r in rows] == [2, 4, 6]
    # The CSV and JSON hold the logged figures (printed to 6 digits).
    np.testing.assert_allclose([float(r['test_mse']) for r in rows], logged,
                               rtol=1e-5)
    assert [r['test_mse'] for r in saved['reports']] == \
        [float(r['test_mse']) for r in rows]
    assert saved['stop_reason'] == 'max_steps' and saved['steps'] == 6
    assert saved['seed'] == 3
    assert saved['script'] == 'indrnn.experiments.adding'
    assert saved['args']['hidden_units'] == 8
    png = (out / 'indrnn10.png').read_bytes()
    assert png.startswith(b'\x89PNG')


def test_a_checkpoint_of_another_experiment_is_refused(tmp_path, capsys):
    out = tmp_path / 'a'
    assert adding.main(ARGV + ['--max_steps', '2', '--out', str(out),
                               '--checkpoint_every', '2']) == 0
    path = out / 'indrnn10_checkpoints' / 'checkpoint-step00000002.h5'
    import h5py
    with h5py.File(path, 'r+') as f:
        state = json.loads(str(f.attrs['state_json']))
        state['schedule']['script'] = 'indrnn.experiments.pixelmnist'
        f.attrs['state_json'] = json.dumps(state)
    capsys.readouterr()
    assert adding.main(ARGV + ['--max_steps', '4', '--out', str(out),
                               '--resume', str(path)]) == 1
    assert ('checkpoint %s was not written by indrnn.experiments.adding'
            % path) in capsys.readouterr().err


def test_a_resumed_run_continues_its_reports_and_time(tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    assert adding.main(ARGV + ['--max_steps', '8', '--out', str(a)]) == 0
    assert adding.main(ARGV + ['--max_steps', '4', '--out', str(b),
                               '--checkpoint_every', '4']) == 0
    ckpt = b / 'indrnn10_checkpoints' / 'checkpoint-step00000004.h5'
    assert adding.main(ARGV + ['--max_steps', '8', '--out', str(b),
                               '--resume', str(ckpt)]) == 0
    reports = []
    for out in (a, b):
        with open(out / 'indrnn10.json') as f:
            reports.append(json.load(f)['reports'])
    strip = [[{k: v for k, v in r.items() if k != 'time'} for r in rs]
             for rs in reports]
    assert [r['step'] for r in strip[1]] == [2, 4, 6, 8]
    assert strip[0] == strip[1]
    # The time goes on from the checkpoint's, not from zero.
    times = [r['time'] for r in reports[1]]
    assert times == sorted(times)


def test_report_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setattr(report, 'plot_curves', lambda *a, **k: None)
    lines = []
    writer = RunReport(str(tmp_path / 'r'), {'seed': 1}, curves=('loss',),
                       log=lambda *parts: lines.append(parts))
    rows = [{'step': 1, 'learning_rate': 0.1, 'loss': 1.0, 'time': 0.1}]
    writer.write(rows)
    assert lines == []           # drawn only at the end
    writer.write(rows, stop_reason='max_steps', steps=1)
    writer.write(rows, stop_reason='max_steps', steps=1)
    assert len(lines) == 1 and 'matplotlib is not installed' in lines[0][0]
    assert not (tmp_path / 'r.png').exists()


def test_report_rows_appended_read_as_one_write(tmp_path):
    rows = [{'step': i, 'learning_rate': 0.1, 'loss': 1.0 / i, 'time': i}
            for i in range(1, 6)]
    rows[3]['accuracy'] = 0.5       # a column that appears late
    growing = RunReport(str(tmp_path / 'a'), {})
    for n in range(1, len(rows) + 1):
        growing.write(rows[:n])
    RunReport(str(tmp_path / 'b'), {}).write(rows)
    assert (tmp_path / 'a.csv').read_text() == \
        (tmp_path / 'b.csv').read_text()
    # Other rows than those written before: the file is rewritten.
    growing.write(rows[:2])
    assert (tmp_path / 'a.csv').read_text().splitlines()[0] == \
        'step,learning_rate,loss,time'
    assert len((tmp_path / 'a.csv').read_text().splitlines()) == 3
