"""Read a row's number, its best value and its learning curve from a run.

Every experiment writes the same JSON beside its log (see
:mod:`indrnn.run.report`): the run's header, ``"reports"`` (one dict per
report, with ``step`` or, per epoch, ``steps``), ``stop_reason``,
``steps``, and whatever the experiment adds (extra tables such as the
action script's ``"evals"``, final test figures such as its ``"test"``).

Examples
--------
>>> from indrnn.reproduce.registry import Metric
>>> report = {'reports': [{'step': 100, 'acc': 0.5, 'valid': 2.0},
...                       {'step': 200, 'acc': 0.7, 'valid': 1.0},
...                       {'step': 300, 'acc': 0.6, 'valid': 1.5}]}
>>> read_metrics(report, Metric('acc', 'error %', pick='max',
...                             better='higher', transform='error_percent'),
...              curve='acc')['value']
30.000000000000004
>>> read_metrics(report, Metric('acc', 'acc', pick='at_best', by='valid'),
...              curve='acc')['value']
0.7
"""
import glob
import json
import math
import os

__all__ = ["MetricError", "find_report", "read_metrics"]


class MetricError(ValueError):
    """The run's reports do not hold what the row's metric reads."""


def _transform(value, how):
    if value is None:
        return None
    value = float(value)
    if how == "percent":
        return 100.0 * value
    if how == "error_percent":
        return 100.0 * (1.0 - value)
    return value


def _finite(rows, key):
    values = []
    for row in rows:
        value = row.get(key)
        if isinstance(value, (int, float)) and math.isfinite(value):
            values.append((row, float(value)))
    return values


def _json_path(report, path):
    value = report
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def read_metrics(report, metric, curve, x="step"):
    """The row's number, the run's final and best values, and its curve.

    Parameters
    ----------
    report : dict
        The run's JSON.
    metric : indrnn.reproduce.registry.Metric
    curve : str
        The report entry of the learning curve.
    x : str
        The entry on the curve's horizontal axis.

    Returns
    -------
    dict
        ``value`` (the row's number, as the metric picks it), ``final``
        (the last report's), ``best`` (the best report's), all
        transformed; ``curve``: ``[[x, y], ...]`` of ``curve`` (raw).

    Raises
    ------
    MetricError
        When no report holds the metric's entry.
    """
    rows = report.get(metric.table or "reports") or []
    points = [[r[x], v] for r, v in _finite(rows, curve) if x in r]
    if metric.source == "json":
        value = _json_path(report, metric.key)
        if not isinstance(value, (int, float)):
            raise MetricError("the run's JSON has no number at %r"
                              % metric.key)
        value = _transform(value, metric.transform)
        return {"value": value, "final": value, "best": value,
                "curve": points}
    values = _finite(rows, metric.key)
    if not values:
        raise MetricError("no report of the run has %r" % metric.key)
    pick = min if metric.better == "lower" else max
    best = pick(v for _, v in values)
    final = values[-1][1]
    if metric.pick == "last":
        value = final
    elif metric.pick == "min":
        value = min(v for _, v in values)
    elif metric.pick == "max":
        value = max(v for _, v in values)
    else:
        chosen = [(r, v) for r, v in values if isinstance(
            r.get(metric.by), (int, float)) and math.isfinite(r[metric.by])]
        if not chosen:
            raise MetricError("no report of the run has %r" % metric.by)
        by_pick = min if metric.by_better == "lower" else max
        # The first report reaching the best: as a plateau schedule keeps.
        best_by = by_pick(r[metric.by] for r, _ in chosen)
        value = next(v for r, v in chosen if r[metric.by] == best_by)
    # "best" follows the figure's own direction, after the transform: an
    # accuracy's highest value is the lowest error.
    out = {name: _transform(v, metric.transform)
           for name, v in (("value", value), ("final", final),
                           ("best", best))}
    out["curve"] = points
    return out


def find_report(folder):
    """The experiment's JSON report in a run folder, or None.

    Parameters
    ----------
    folder : str

    Returns
    -------
    (str, dict) or None
        The path and the contents of the JSON that has ``"reports"`` (the
        run's own ``result.json`` is not one).
    """
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        if os.path.basename(path) == "result.json":
            continue
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "reports" in data:
            return path, data
    return None
