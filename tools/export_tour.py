"""Export the ```python blocks of a Markdown tutorial as one script.

``docs/tour.md`` is the source of the tour; ``docs/tour.py`` is generated
from it by this script, so that the tour can also be run (or stepped
through in an editor) as a plain Python file::

    python tools/export_tour.py            # rewrite docs/tour.py
    python tools/export_tour.py --check    # exit 1 if docs/tour.py is stale

``tests/docs/test_tour.py`` runs the blocks and fails when the exported
script is out of date.
"""
import argparse
import os
import re
import sys

__all__ = ["extract_python_blocks", "render_script", "main"]

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SOURCE = os.path.join(REPO_ROOT, "docs", "tour.md")
DEFAULT_TARGET = os.path.join(REPO_ROOT, "docs", "tour.py")

# A fenced block opened by ```python (nothing else on the line) and closed
# by the next line holding only ```; other languages (```sh) are skipped.
_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$",
                    re.MULTILINE | re.DOTALL)


def extract_python_blocks(markdown):
    """Return the code of every ```python block, in order.

    Parameters
    ----------
    markdown : str
        The Markdown text.

    Returns
    -------
    list of str
        Each block's code, ending with a newline.

    Examples
    --------
    >>> extract_python_blocks("text\\n```python\\na = 1\\n```\\n"
    ...                       "```sh\\nls\\n```\\n```python\\nb = a\\n```\\n")
    ['a = 1\\n', 'b = a\\n']
    """
    return [m.group(1) for m in _BLOCK.finditer(markdown)]


def render_script(markdown, source_name="docs/tour.md"):
    """The script exported from a Markdown tutorial.

    Parameters
    ----------
    markdown : str
        The Markdown text.
    source_name : str
        The source's name, written into the header.

    Returns
    -------
    str
        A header saying where the script comes from, then the blocks,
        each preceded by a ``# --- block i`` comment.

    Examples
    --------
    >>> print(render_script("```python\\nprint(1)\\n```\\n", "x.md"), end="")
    # Generated from x.md by tools/export_tour.py: edit the Markdown, then
    # run `python tools/export_tour.py` (the tests check the two agree).
    <BLANKLINE>
    # --- block 1
    print(1)
    """
    parts = ["# Generated from %s by tools/export_tour.py: edit the "
             "Markdown, then\n# run `python tools/export_tour.py` (the "
             "tests check the two agree).\n" % source_name]
    for i, block in enumerate(extract_python_blocks(markdown), 1):
        parts.append("\n# --- block %d\n%s" % (i, block))
    return "".join(parts)


def main(argv=None):
    """Write (or check) the exported script.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 on success; 1 with ``--check`` when the script is out of date.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=DEFAULT_SOURCE)
    parser.add_argument("--target", default=DEFAULT_TARGET)
    parser.add_argument("--check", action="store_true",
                        help="only check that the target is up to date")
    args = parser.parse_args(argv)
    with open(args.source, encoding="utf-8") as f:
        name = os.path.relpath(args.source, REPO_ROOT).replace(os.sep, "/")
        script = render_script(f.read(), name)
    if args.check:
        try:
            with open(args.target, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != script:
            print("%s is out of date: run python tools/export_tour.py"
                  % args.target, file=sys.stderr)
            return 1
        return 0
    with open(args.target, "w", encoding="utf-8") as f:
        f.write(script)
    print("wrote", args.target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
