"""The registry of the papers' tables (experiments/papers.toml).

Independent truth: each experiment's own argument parser (every row's
command line, at every profile, must be one its script accepts), and the
papers' numbers as transcribed in ../shared/papers/RESULTS.md.
"""
import importlib
import inspect
import os
import re

import pytest

from indrnn.reproduce.registry import (PROFILES, RegistryError,
                                       load_registry)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
REGISTRY = os.path.join(REPO_ROOT, "experiments", "papers.toml")
RESULTS = os.path.join(REPO_ROOT, "..", "shared", "papers", "RESULTS.md")

#: The tables and figures the issue names.
NAMES = ("fig2", "table1", "table2", "table3", "table4", "deep-mnist",
         "deep-ptb-c", "deep-ptb-w", "deep-ntu")


@pytest.fixture(scope="module")
def registry():
    return load_registry(REGISTRY)


def _parser(module_name):
    """The parser of the experiment's command (its main's)."""
    module = importlib.import_module(module_name)
    if hasattr(module, "make_main_parser"):
        return module.make_main_parser()
    if "extras" in inspect.signature(module.make_parser).parameters:
        return module.make_parser(extras=True)
    return module.make_parser()


def test_every_named_table_is_there(registry):
    assert set(NAMES) <= set(registry.tables)
    for name in NAMES:
        assert registry.tables[name].rows, name


def test_fig2_is_the_papers_grid(registry):
    ids = {row.id for row in registry.table("fig2").rows}
    for T in (100, 500, 1000):
        for model in ("indrnn", "irnn", "lstm"):
            assert "%s-T%d" % (model, T) in ids
    assert "indrnn-T5000" in ids
    lstm = registry.table("fig2").row("lstm-T100")
    assert lstm.flags == ("--model", "lstm", "--lr", "2e-3",
                          "--seq_len", "100")


@pytest.mark.parametrize("profile", PROFILES)
def test_every_command_line_parses_with_its_script(registry, profile):
    """The flags (and each profile's additions) are ones the experiment
    accepts; the profile's budget reaches the parsed arguments."""
    parsers = {}
    for table in registry.tables.values():
        for row in table.rows:
            module = row.family.module
            if module not in parsers:
                parsers[module] = _parser(module)
            args = parsers[module].parse_args(
                row.flags_for(profile) + ["--seed", "1", "--out", "x"])
            if profile == "paper":
                assert args.max_steps is None, row.key
            else:
                assert args.max_steps is not None, (row.key, profile)


def test_readme_command_lines_are_rows_verbatim(registry):
    """The original README's command lines (as the port's README quotes
    them) are rows of the tables, flag for flag."""
    readme = open(os.path.join(REPO_ROOT, "README.md")).read()
    originals = {row.original().split(" ", 3)[-1]
                 for t in registry.tables.values() for row in t.rows}
    quoted = re.findall(r"^penntree_(?:charlevel_rernn|wordlevel_rernn_WT) "
                        r"(--[^\n`]*)$", readme, flags=re.M)
    assert len(quoted) == 3
    for flags in quoted:
        assert flags.strip() in originals


def test_paper_numbers_match_the_papers_transcription(registry):
    if not os.path.exists(RESULTS):
        if os.environ.get("CI"):
            pytest.fail("../shared/papers/RESULTS.md is missing")
        pytest.skip("../shared/papers/RESULTS.md is not beside the checkout")
    text = open(RESULTS).read()
    numbers = {float(n) for n in re.findall(r"(?<![\w.])\d+\.\d+", text)}
    rows = [row for t in registry.tables.values() for row in t.rows
            if row.paper is not None]
    assert len(rows) >= 20
    for row in rows:
        assert row.paper in numbers, (row.key, row.paper)


def test_bad_registry_entries_are_named(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text('[families.a]\nmodule = "m"\nscript = "s"\n'
                    'command = "c"\ncurve = "y"\n'
                    'metric = { key = "y", label = "Y", pick = "median" }\n')
    with pytest.raises(RegistryError, match=r"families\.a\.metric\.pick"):
        load_registry(str(path))
    path.write_text('[tables.t]\n[[tables.t.rows]]\nid = "r"\nlabel = "R"\n'
                    'family = "nosuch"\nflags = ""\n')
    with pytest.raises(RegistryError, match=r"no family 'nosuch'"):
        load_registry(str(path))
    path.write_text('[families.a]\nmodule = "m"\nscript = "s"\n'
                    'command = "c"\ncurve = "y"\nsmoek = "--x"\n'
                    'metric = { key = "y", label = "Y" }\n')
    with pytest.raises(RegistryError, match=r"unknown smoek"):
        load_registry(str(path))
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(str(tmp_path / "missing.toml"))


def test_unknown_table_lists_the_names(registry):
    with pytest.raises(RegistryError, match="fig2"):
        registry.table("fig9")


@pytest.mark.parametrize("name", ["registry", "metrics", "table", "data",
                                  "command"])
def test_docstring_examples(name):
    import doctest
    module = importlib.import_module("indrnn.reproduce." + name)
    failures, tests = doctest.testmod(module)
    assert tests > 0 and failures == 0
