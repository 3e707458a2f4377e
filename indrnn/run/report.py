"""The reports of a run: the CSV, the JSON and the learning-curve PNG.

Every experiment writes the same three files beside its log, rewritten at
every report, so they are complete whenever a run stops or is killed:

- ``<base>.csv``: one row per report (``step``, ``learning_rate``, then
  the figures in the order they first appear, then ``time``);
- ``<base>.json``: the run's header (flags, seed, ``floatX``, what the
  experiment adds) with ``"reports"``, the same rows, and, once the run
  ended, ``stop_reason`` and ``steps``;
- ``<base>.png``: the chosen figures against the training steps, drawn
  when the run ends (drawing takes about a second, longer than many
  report intervals), when matplotlib is installed
  (``pip install 'indrnn[plot]'``); without it the log says so;
- for each table an experiment reports besides the loop's rows (e.g. the
  action script's per-epoch evaluations), ``<base>_<name>.csv`` and the
  same rows as ``"<name>"`` in the JSON.
"""
import csv
import json
import os

from .flags import jsonable
from .loop import writing

__all__ = ["RunReport", "plot_curves"]


class RunReport:
    """Write a run's reports (see the module docstring).

    Parameters
    ----------
    base : str
        Path without suffix.
    header : dict
        What the JSON holds besides the reports.
    curves : sequence of str
        Figures of the rows to plot; no PNG when empty.
    log : callable, optional
        Where a missing matplotlib is reported (once).
    tables : dict, optional
        ``{name: callable}``, each returning the table's rows (a list of
        dict) whenever the files are written.
    columns : sequence of str
        The CSV's first columns (``time`` is always the last).
    x : str
        The row entry the PNG has on its horizontal axis.
    plot_always : bool
        Draw the PNG at every write, not only at the end (for reports as
        rare as epochs).

    Examples
    --------
    >>> import tempfile
    >>> base = os.path.join(tempfile.mkdtemp(), 'run')
    >>> report = RunReport(base, {'seed': 1})
    >>> report.write([{'step': 10, 'learning_rate': 0.1, 'loss': 2.0,
    ...                'time': 1.5}])
    >>> open(base + '.csv').read().splitlines()
    ['step,learning_rate,loss,time', '10,0.1,2.0,1.5']
    >>> json.load(open(base + '.json'))['reports'][0]['loss']
    2.0

    A table beside the reports, and an entry added after the run:

    >>> report = RunReport(base, {}, tables={'evals': lambda: [{'acc': 1}]})
    >>> report.write([])
    >>> report.add(test=0.5)
    >>> open(base + '_evals.csv').read().splitlines()
    ['acc', '1']
    >>> saved = json.load(open(base + '.json'))
    >>> saved['evals'], saved['test']
    ([{'acc': 1}], 0.5)
    """

    def __init__(self, base, header, curves=(), log=None, tables=None,
                 columns=('step', 'learning_rate'), x='step',
                 plot_always=False):
        self.base = base
        self.header = dict(header)
        self.curves = tuple(curves)
        self.log = log
        self.columns = list(columns)
        self.x = x
        self.plot_always = plot_always
        self._csv_columns, self._csv_rows, self._csv_last = [], 0, None
        self.tables = dict(tables or {})
        self.rows = []
        self._plot = bool(self.curves)
        os.makedirs(os.path.dirname(os.path.abspath(base)), exist_ok=True)

    def write(self, rows, **final):
        """Rewrite the files with ``rows``, every report so far.

        Parameters
        ----------
        rows : list of dict
            The reports, oldest first.
        **final
            Entries added to the JSON (``stop_reason``, ``steps``) when
            the run has ended; the PNG is drawn then.
        """
        self.header.update(final)
        self.rows = rows
        tables = {name: rows() for name, rows in self.tables.items()}
        self._write_json(tables)
        self._write_reports_csv(rows)
        for name, table in tables.items():
            columns = []
            for row in table:
                columns += [k for k in row if k not in columns]
            _write_csv('%s_%s.csv' % (self.base, name), columns, table)
        if (final or self.plot_always) and self._plot and rows:
            xlabel = 'training steps' if self.x == 'step' else self.x
            if plot_curves(rows, self.base + '.png', self.curves, x=self.x,
                           xlabel=xlabel) is None:
                self._plot = False
                if self.log is not None:
                    self.log("matplotlib is not installed: no learning-curve "
                             "PNG (pip install 'indrnn[plot]')")

    def _write_reports_csv(self, rows):
        # Reports come every few steps for days: new rows are appended,
        # and the file is rewritten only when one brings a new column or
        # the rows are not those written before plus new ones.
        written = self._csv_rows
        if written > len(rows) or (written and rows[written - 1]
                                   is not self._csv_last):
            written = 0
        new = [k for row in rows[written:] for k in row
               if k not in self._csv_columns]
        if written and not new:
            with writing(self.base + '.csv', 'a', newline='') as f:
                csv.DictWriter(f, fieldnames=self._csv_columns).writerows(
                    rows[written:])
        else:
            columns = list(self.columns)
            for row in rows:
                columns += [k for k in row
                            if k not in columns and k != 'time']
            columns.append('time')
            _write_csv(self.base + '.csv', columns, rows)
            self._csv_columns = columns
        self._csv_rows = len(rows)
        self._csv_last = rows[-1] if rows else None

    def add(self, **entries):
        """Add entries to the JSON and rewrite it (e.g. test figures
        computed after the run), with the rows last written."""
        self.header.update(entries)
        self._write_json({name: rows() for name, rows in self.tables.items()})

    def _write_json(self, tables):
        text = json.dumps(dict(self.header, reports=self.rows, **tables),
                          indent=1, default=jsonable)
        with writing(self.base + '.json') as f:
            f.write(text)


def _write_csv(path, columns, rows):
    with writing(path, newline='') as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def plot_curves(rows, path, keys, x='step', xlabel='training steps'):
    """Plot figures of the report rows against ``x`` into a PNG.

    Parameters
    ----------
    rows : list of dict
    path : str
        The PNG to write.
    keys : sequence of str
        The figures; those missing from some row are left out.
    x : str
        The row entry on the horizontal axis.
    xlabel : str

    Returns
    -------
    str or None
        ``path``, or None when matplotlib is not installed.
    """
    try:
        import matplotlib
        matplotlib.use('Agg', force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    try:
        xs = [r[x] for r in rows]
        for key in keys:
            values = [r.get(key) for r in rows]
            if all(v is not None for v in values):
                ax.plot(xs, values, marker='o' if len(xs) < 50 else None,
                        label=key)
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
    return path
