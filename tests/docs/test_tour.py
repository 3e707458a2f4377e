"""The tour (docs/tour.md) runs as written, and docs/tour.py is its export.

The ```python blocks are executed in order in one namespace, as a reader
would paste them; their own assertions (the layer against a numpy loop,
scan against the fused Op, the gradient against ``u ** (T - 1 - t)``)
then check the text's claims. The tour's sizes are already small.
"""
import importlib.util
import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
TOUR_MD = REPO_ROOT / "docs" / "tour.md"
TOUR_PY = REPO_ROOT / "docs" / "tour.py"


def _export_module():
    spec = importlib.util.spec_from_file_location(
        "export_tour", REPO_ROOT / "tools" / "export_tour.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


export_tour = _export_module()


def test_extract_python_blocks_skips_other_languages():
    text = ("intro\n```python\na = 1\n```\n```sh\nrm -rf /\n```\n"
            "```\nplain\n```\n```python\nb = a + 1\n```\n")
    assert export_tour.extract_python_blocks(text) == ["a = 1\n",
                                                       "b = a + 1\n"]


def test_exported_script_is_in_sync():
    expected = export_tour.render_script(TOUR_MD.read_text("utf-8"),
                                         "docs/tour.md")
    assert TOUR_PY.read_text("utf-8") == expected, (
        "docs/tour.py is stale: run python tools/export_tour.py")
    assert export_tour.main(["--check"]) == 0


def test_check_reports_a_stale_export(tmp_path):
    stale = tmp_path / "tour.py"
    stale.write_text("# old\n")
    assert export_tour.main(["--check", "--target", str(stale)]) == 1


def test_tour_blocks_run_in_order(capsys):
    blocks = export_tour.extract_python_blocks(TOUR_MD.read_text("utf-8"))
    assert len(blocks) >= 10
    namespace = {"__name__": "tour"}
    for i, block in enumerate(blocks, 1):
        code = compile(block, "%s (block %d)" % (TOUR_MD, i), "exec")
        exec(code, namespace)
    out = capsys.readouterr().out
    # What the text says the reader will see.
    assert "IndRNNRecurrence" in out and "Scan{" in out
    assert "Inner graphs:" in out
    assert "all agree" in out
    for name in ("scan by hand", "layer on scan", "fused Op",
                 "layer (default)"):
        assert name in out
    # The gradient really is computed for every time step.
    T, B, N = namespace["T"], namespace["B"], namespace["N"]
    assert namespace["g_val"].shape == (T, B, N)
    assert namespace["g_val"][-1] == pytest.approx(1.0)
