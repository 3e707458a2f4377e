"""The collected table: each row's runs beside the paper's number.

:func:`summarize` turns the results of a table's runs into one line per
row: the paper's number (or what the paper shows, for a figure), ours as
mean +- standard deviation over the seeds that finished (n), the
difference, the profile and the wall time, and the runs that failed with
their errors. :func:`write_table` writes it as ``table.md`` and
``table.csv``; :func:`plot_table` draws every run's learning curve, one
panel per group of rows (for Fig. 2: one panel per sequence length, a line
per model and seed, like the paper's figure).

Examples
--------
>>> line = summarize_row({'paper': 1.0, 'better': 'lower'},
...                      [{'status': 'done', 'value': 1.5, 'wall_s': 10},
...                       {'status': 'done', 'value': 2.5, 'wall_s': 30},
...                       {'status': 'failed', 'error': 'NaN', 'seed': 3}])
>>> line['ours'], line['n'], line['difference'], line['failed']
('2 ± 0.7071', 2, '+1', 'seed 3: NaN')
"""
import csv
import math
import os
import re

__all__ = ["summarize_row", "summarize", "write_table", "plot_table"]

COLUMNS = ("row", "label", "paper", "ours", "n", "difference", "metric",
           "profile", "budget", "wall_time", "failed", "command")


def _fmt(value):
    if value is None:
        return ""
    return "%.4g" % value


def _duration(seconds):
    if not seconds:
        return ""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return "%dh%02dm" % (hours, minutes)
    return "%dm%02ds" % (minutes, seconds) if minutes else "%ds" % seconds


def summarize_row(row, results):
    """One table line from a row's run results.

    Parameters
    ----------
    row : dict
        ``paper`` (a number or None) and, optionally, ``paper_note``.
    results : list of dict
        The runs' results (``status``, ``value``, ``wall_s``, ``seed``,
        ``error``).

    Returns
    -------
    dict
        ``ours`` (``mean ± std``, std with n - 1; ``mean`` alone for one
        run), ``mean``, ``std``, ``n``, ``difference`` (ours - paper),
        ``wall_time`` (summed over the runs), ``failed`` (``seed S:
        error``, joined).
    """
    values = [r["value"] for r in results if r.get("status") == "done"
              and isinstance(r.get("value"), (int, float))
              and math.isfinite(r["value"])]
    n = len(values)
    mean = sum(values) / n if n else None
    std = (math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
           if n > 1 else None)
    ours = "" if mean is None else (
        _fmt(mean) if std is None else "%s ± %s" % (_fmt(mean), _fmt(std)))
    paper = row.get("paper")
    difference = ("%+.4g" % (mean - paper)
                  if mean is not None and paper is not None else "")
    failed = "; ".join("seed %s: %s" % (r.get("seed"), r.get("error"))
                       for r in results if r.get("status") != "done")
    return {"ours": ours, "mean": mean, "std": std, "n": n,
            "difference": difference, "failed": failed,
            "wall_time": _duration(sum(r.get("wall_s") or 0
                                       for r in results))}


def summarize(table, profile, results_by_row):
    """The table's lines, in the registry's order.

    Parameters
    ----------
    table : indrnn.reproduce.registry.Table
    profile : str
    results_by_row : dict
        ``{row id: [result, ...]}``.

    Returns
    -------
    list of dict
        One per row, with the :data:`COLUMNS`.
    """
    lines = []
    for row in table.rows:
        line = summarize_row({"paper": row.paper},
                             results_by_row.get(row.id, []))
        paper = "%g" % row.paper if row.paper is not None else \
            row.paper_note
        line.update(row=row.id, label=row.label, paper=paper,
                    metric=row.family.metric.label, profile=profile,
                    budget=row.budget(profile),
                    command=row.original())
        lines.append(line)
    return lines


def _md_cell(value):
    return str(value).replace("|", "\\|").replace("\n", " ")


def write_table(folder, table, profile, lines):
    """Write ``table.md`` and ``table.csv`` into ``folder``.

    Returns
    -------
    (str, str)
        The two paths.
    """
    md_path = os.path.join(folder, "table.md")
    csv_path = os.path.join(folder, "table.csv")
    shown = ("row", "label", "paper", "ours", "n", "difference", "metric",
             "profile", "budget", "wall_time", "failed")
    text = ["# %s" % table.title, ""]
    if table.source:
        text += [table.source, ""]
    text += ["Profile `%s`. Ours: mean ± standard deviation over the seeds "
             "that finished (n); difference: ours - paper." % profile, ""]
    text.append("| " + " | ".join(shown) + " |")
    text.append("|" + "---|" * len(shown))
    for line in lines:
        text.append("| " + " | ".join(_md_cell(line[c]) for c in shown)
                    + " |")
    text += ["", "Command lines (the original's):", ""]
    text += ["- `%s`: `%s`" % (line["row"], line["command"])
             for line in lines]
    tmp = md_path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(text) + "\n")
    os.replace(tmp, md_path)
    tmp = csv_path + ".tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS + ("mean", "std"),
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(lines)
    os.replace(tmp, csv_path)
    return md_path, csv_path


def _panel(row):
    # Rows of one setting share a panel: "indrnn-T100" and "lstm-T100" go
    # to "T100"; a row id without a "-" suffix has a panel of its own.
    match = re.search(r"-([^-]+)$", row.id)
    return match.group(1) if match else row.id


def plot_table(path, table, profile, results_by_row):
    """Draw every run's learning curve, a panel per setting.

    Parameters
    ----------
    path : str
        The PNG.
    table : indrnn.reproduce.registry.Table
    profile : str
    results_by_row : dict
        ``{row id: [result, ...]}`` with ``curve`` (``[[x, y], ...]``).

    Returns
    -------
    str or None
        ``path``, or None without matplotlib.
    """
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    panels = []
    for row in table.rows:
        if _panel(row) not in panels:
            panels.append(_panel(row))
    cols = min(len(panels), 2)
    rows_n = int(math.ceil(len(panels) / float(cols)))
    fig, axes = plt.subplots(rows_n, cols, figsize=(6.5 * cols,
                                                    4.0 * rows_n),
                             squeeze=False)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    # One colour per label across the panels (IndRNN alike at every T).
    labels = list(dict.fromkeys(r.label for r in table.rows))
    colour_of = {label: cycle[i % len(cycle)]
                 for i, label in enumerate(labels)}
    for index, panel in enumerate(panels):
        ax = axes[index // cols][index % cols]
        members = [r for r in table.rows if _panel(r) == panel]
        for row in members:
            colour = colour_of[row.label]
            for j, result in enumerate(results_by_row.get(row.id, [])):
                curve = result.get("curve") or []
                if not curve:
                    continue
                xs, ys = zip(*curve)
                ax.plot(xs, ys, color=colour, alpha=0.9, linewidth=1.2,
                        label=row.label if j == 0 else None)
        if members:
            family = members[0].family
            ax.set_xlabel("training steps" if family.x in ("step", "steps")
                          else family.x)
            ax.set_ylabel(family.curve)
            if family.curve.endswith("mse"):
                ax.set_yscale("log")
                ax.axhline(0.167, color="grey", linestyle="--",
                           linewidth=0.8, label="predict 1 (0.167)")
        ax.set_title(re.sub(r"^T(\d+)$", r"T = \1", panel))
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    for index in range(len(panels), rows_n * cols):
        axes[index // cols][index % cols].axis("off")
    fig.suptitle("%s (profile %s)" % (table.title, profile))
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
