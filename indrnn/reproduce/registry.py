"""The registry: the papers' tables as rows of original command lines.

A registry is a TOML file with two parts:

- ``[families.NAME]``: one experiment script. ``module`` (run as
  ``python -m MODULE``), ``script`` (the original file), ``command`` (the
  ``indrnn`` subcommand), ``data`` (``mnist``, ``ptb``, ``ntu`` or none),
  ``metric`` (see :class:`Metric`), ``curve`` (the report entry plotted
  against the steps), ``x`` (that axis' entry, ``step`` by default) and
  the flags each profile adds (``cpu = "..."``, ``smoke = "..."``).
- ``[tables.NAME]``: one table or figure, with ``title``, ``source`` and
  ``[[tables.NAME.rows]]``: ``id``, ``label``, ``family``, ``flags`` (the
  original command line's flags, verbatim), ``paper`` (the paper's number,
  or none for a figure) with ``paper_note`` (what the paper shows), and
  the row's own profile flags, added after the family's.

Profiles: ``paper`` runs the flags as they are (the paper's schedule, to
its end); ``cpu`` adds a step budget a 2-core machine can finish with the
same network; ``smoke`` makes the run tiny, for tests.

Examples
--------
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), 'r.toml')
>>> _ = open(path, 'w').write('''
... [families.adding]
... module = "indrnn.experiments.adding"
... script = "adding.py"
... command = "adding"
... metric = { key = "test_mse", pick = "last", label = "test MSE" }
... curve = "test_mse"
... cpu = "--max_steps 3000"
... [tables.fig2]
... title = "Fig. 2"
... [[tables.fig2.rows]]
... id = "indrnn-T100"
... label = "IndRNN, T = 100"
... family = "adding"
... flags = "--model indrnn --seq_len 100"
... paper_note = "converges"
... ''')
>>> registry = load_registry(path)
>>> row = registry.tables['fig2'].rows[0]
>>> row.original()
'python -u adding.py --model indrnn --seq_len 100'
>>> row.flags_for('cpu')
['--model', 'indrnn', '--seq_len', '100', '--max_steps', '3000']
"""
import dataclasses
import shlex
import tomllib

__all__ = ["PROFILES", "Metric", "Family", "Row", "Table", "Registry",
           "RegistryError", "load_registry"]

#: The scales a table can be run at.
PROFILES = ("paper", "cpu", "smoke")

_PICKS = ("last", "min", "max", "at_best")
_TRANSFORMS = ("none", "percent", "error_percent")
_DATA = (None, "mnist", "ptb-char", "ptb-word", "ntu-cs", "ntu-cv")


class RegistryError(ValueError):
    """A registry file that cannot be used (the message names the entry)."""


@dataclasses.dataclass(frozen=True)
class Metric:
    """How a row's number is read from its run.

    Parameters
    ----------
    key : str
        The report entry (``test_mse``), or with ``source = "json"`` a
        dotted path into the run's JSON (``test.bn_testacc.per_sample``).
    label : str
        What the number is, for the table (``test MSE``).
    pick : {'last', 'min', 'max', 'at_best'}
        Which report gives the number: the last, the lowest, the highest,
        or the one where ``by`` is best.
    better : {'lower', 'higher'}
        Which way the figure improves (for a run's best value).
    by : str, optional
        For ``at_best``: the entry that chooses the report (a validation
        figure).
    by_better : {'lower', 'higher'}
        Which way ``by`` improves.
    transform : {'none', 'percent', 'error_percent'}
        ``percent``: 100 x; ``error_percent``: 100 (1 - x), accuracy to
        error.
    source : {'reports', 'json'}
    table : str, optional
        Read the reports from this table of the JSON (``evals``) instead
        of ``reports``.
    """
    key: str
    label: str
    pick: str = "last"
    better: str = "lower"
    by: str = None
    by_better: str = "lower"
    transform: str = "none"
    source: str = "reports"
    table: str = None

    def describe(self):
        """str: how the number is read, in words."""
        unit = {"none": "", "percent": " (x 100)",
                "error_percent": " (as error %: 100 (1 - x))"}[self.transform]
        if self.source == "json":
            return "%s%s, from the run's JSON entry %s" % (
                self.label, unit, self.key)
        where = "report" if self.table is None else \
            "row of the %r table" % self.table
        how = {"last": "the last %s's %s" % (where, self.key),
               "min": "the lowest %s over the %ss" % (self.key, where),
               "max": "the highest %s over the %ss" % (self.key, where),
               "at_best": "%s at the %s with the %s %s" % (
                   self.key, where,
                   "lowest" if self.by_better == "lower" else "highest",
                   self.by)}[self.pick]
        return "%s%s: %s" % (self.label, unit, how)


@dataclasses.dataclass(frozen=True)
class Family:
    """One experiment script (see the module docstring)."""
    name: str
    module: str
    script: str
    command: str
    metric: Metric
    curve: str
    x: str = "step"
    data: str = None
    profiles: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Row:
    """One row of a table: a command line and the paper's number."""
    table: str
    id: str
    label: str
    family: Family
    flags: tuple
    paper: float = None
    paper_note: str = ""
    profiles: dict = dataclasses.field(default_factory=dict)
    data: str = None

    @property
    def key(self):
        """str: ``table/id``, unique in a registry."""
        return "%s/%s" % (self.table, self.id)

    def original(self):
        """str: the original command line (``python -u script flags``)."""
        return shlex.join(["python", "-u", self.family.script,
                           *self.flags])

    def port_command(self):
        """str: the same run with this port (``indrnn command flags``)."""
        return shlex.join(["indrnn", self.family.command, *self.flags])

    def profile_flags(self, profile):
        """list of str: what ``profile`` adds to the flags."""
        if profile not in PROFILES:
            raise RegistryError("unknown profile %r: choose %s"
                                % (profile, ", ".join(PROFILES)))
        return (list(self.family.profiles.get(profile, ()))
                + list(self.profiles.get(profile, ())))

    def flags_for(self, profile):
        """list of str: the row's flags at ``profile``'s scale."""
        return list(self.flags) + self.profile_flags(profile)

    def budget(self, profile):
        """str: the scale of ``profile`` in words."""
        extra = self.profile_flags(profile)
        if not extra:
            return "the paper's schedule, to its end"
        return shlex.join(extra)


@dataclasses.dataclass(frozen=True)
class Table:
    """A table or figure of a paper: its rows."""
    name: str
    title: str
    source: str
    rows: tuple

    def row(self, row_id):
        for row in self.rows:
            if row.id == row_id:
                return row
        raise KeyError(row_id)


@dataclasses.dataclass(frozen=True)
class Registry:
    """Every table of a registry file, by name, in the file's order."""
    path: str
    tables: dict

    def table(self, name):
        """The table ``name``; a :class:`RegistryError` lists the names."""
        try:
            return self.tables[name]
        except KeyError:
            raise RegistryError("no table or figure %r: choose %s"
                                % (name, ", ".join(self.tables))) from None


def _flags(text, where):
    if isinstance(text, list):
        return tuple(str(t) for t in text)
    if not isinstance(text, str):
        raise RegistryError("%s: flags must be a string" % where)
    return tuple(shlex.split(text))


def _choice(value, choices, where):
    if value not in choices:
        raise RegistryError("%s is %r: choose %s"
                            % (where, value, ", ".join(choices)))
    return value


def _metric(entry, where):
    try:
        metric = Metric(**entry)
    except TypeError as exc:
        raise RegistryError("%s.metric: %s" % (where, exc)) from None
    _choice(metric.pick, _PICKS, where + ".metric.pick")
    _choice(metric.transform, _TRANSFORMS, where + ".metric.transform")
    _choice(metric.better, ("lower", "higher"), where + ".metric.better")
    _choice(metric.source, ("reports", "json"), where + ".metric.source")
    if metric.pick == "at_best" and not metric.by:
        raise RegistryError("%s.metric: pick 'at_best' needs 'by'" % where)
    return metric


def _profiles(entry, where):
    return {p: _flags(entry[p], "%s.%s" % (where, p))
            for p in PROFILES[1:] if p in entry}


_FAMILY_KEYS = {"module", "script", "command", "metric", "curve", "x",
                "data", *PROFILES[1:]}
_ROW_KEYS = {"id", "label", "family", "flags", "paper", "paper_note", "data",
             *PROFILES[1:]}


def _known(entry, keys, where):
    unknown = sorted(set(entry) - keys)
    if unknown:
        raise RegistryError("%s: unknown %s (known: %s)" % (
            where, ", ".join(unknown), ", ".join(sorted(keys))))


def _family(name, entry):
    where = "families.%s" % name
    _known(entry, _FAMILY_KEYS, where)
    missing = [k for k in ("module", "script", "command", "metric", "curve")
               if k not in entry]
    if missing:
        raise RegistryError("%s: missing %s" % (where, ", ".join(missing)))
    return Family(name=name, module=entry["module"], script=entry["script"],
                  command=entry["command"],
                  metric=_metric(entry["metric"], where),
                  curve=entry["curve"], x=entry.get("x", "step"),
                  data=_choice(entry.get("data"), _DATA, where + ".data"),
                  profiles=_profiles(entry, where))


def _row(table, index, entry, families):
    where = "tables.%s.rows[%d]" % (table, index)
    _known(entry, _ROW_KEYS, where)
    missing = [k for k in ("id", "label", "family", "flags")
               if k not in entry]
    if missing:
        raise RegistryError("%s: missing %s" % (where, ", ".join(missing)))
    if entry["family"] not in families:
        raise RegistryError("%s: no family %r" % (where, entry["family"]))
    paper = entry.get("paper")
    return Row(table=table, id=entry["id"], label=entry["label"],
               family=families[entry["family"]],
               flags=_flags(entry["flags"], where + ".flags"),
               paper=None if paper is None else float(paper),
               paper_note=entry.get("paper_note", ""),
               profiles=_profiles(entry, where),
               data=_choice(entry.get("data", families[entry["family"]].data),
                            _DATA, where + ".data"))


def load_registry(path):
    """Read a registry file.

    Parameters
    ----------
    path : str
        A TOML file laid out as the module docstring says.

    Returns
    -------
    Registry

    Raises
    ------
    RegistryError
        A missing or unknown entry, naming it.
    """
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError("cannot read the registry %s: %s"
                            % (path, exc)) from None
    families = {name: _family(name, entry)
                for name, entry in data.get("families", {}).items()}
    tables = {}
    for name, entry in data.get("tables", {}).items():
        rows = tuple(_row(name, i, r, families)
                     for i, r in enumerate(entry.get("rows", [])))
        ids = [r.id for r in rows]
        if len(set(ids)) != len(ids):
            raise RegistryError("tables.%s: row ids repeat" % name)
        tables[name] = Table(name=name, title=entry.get("title", name),
                             source=entry.get("source", ""), rows=rows)
    return Registry(path=path, tables=tables)
