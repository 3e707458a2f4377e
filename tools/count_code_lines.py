"""Count the code lines of each experiment family against the original.

A code line is a line that holds code: not a docstring, a comment or a
blank line. A statement written over several lines counts each line that
holds part of it. Run from the repository root::

    python tools/count_code_lines.py            # the port's experiments
    python tools/count_code_lines.py FILE ...   # any Python files

The original scripts were counted the same way (the search tool's copy of
``Sunnydreamrain/IndRNN_Theano_Lasagne``); their figures are in
``ORIGINAL`` below. Each family may have at most ``LIMIT`` times its
original's lines; the script exits 1 when one has more.
"""
import ast
import io
import os
import sys
import tokenize

#: Code lines of the original scripts, by family.
ORIGINAL = {
    "adding": 135,          # adding/adding.py
    "pixelmnist": 161,      # mnist/pixelmnist.py
    "action": 240,          # action recognition/ train + network + opts
    "ptb": 517,             # the char- and word-level PTB scripts
}

#: How many times its original's code lines a family may have.
LIMIT = 1.3
#: Code lines allowed for a shared experiment helper (no original).
HELPER_LIMIT = 100

#: The port's files of each family, relative to ``experiments/``.
FAMILIES = {
    "adding": ["adding.py"],
    "pixelmnist": ["pixelmnist.py"],
    "action": ["Indrnn_action_train.py", "Indrnn_action_network.py",
               "opts.py"],
    "ptb": ["penntree_charlevel_rernn.py", "penntree_wordlevel_rernn_WT.py",
            "ptb_lm.py"],
}

#: Tokens that are not code by themselves.
_NOT_CODE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
             tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER,
             tokenize.ENCODING}


def _docstring_lines(tree):
    """Line numbers of every module, class and function docstring."""
    lines = set()
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                 ast.AsyncFunctionDef)):
            continue
        body = node.body
        if body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def code_lines(source):
    """Number of lines of ``source`` that hold code.

    Parameters
    ----------
    source : str
        Python source.

    Returns
    -------
    int

    Examples
    --------
    >>> code_lines("'''Doc.'''\\n# a comment\\n\\nx = (1,\\n     2)  # two\\n")
    2
    """
    docstrings = _docstring_lines(ast.parse(source))
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in _NOT_CODE:
            continue
        for line in range(token.start[0], token.end[0] + 1):
            if line not in docstrings:
                lines.add(line)
    return len(lines)


def count_file(path):
    """Code lines of the file at ``path``."""
    with open(path, encoding="utf-8") as f:
        return code_lines(f.read())


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        for path in argv:
            print("%6d  %s" % (count_file(path), path))
        return 0
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        os.pardir, "experiments")
    counted = set()
    over = []
    print("| family | port | original | limit (%.1fx) |" % LIMIT)
    print("| --- | --- | --- | --- |")
    for family, names in FAMILIES.items():
        port = sum(count_file(os.path.join(root, name)) for name in names)
        counted.update(names)
        limit = int(LIMIT * ORIGINAL[family])
        print("| %s | %d | %d | %d |" % (family, port, ORIGINAL[family],
                                        limit))
        if port > limit:
            over.append(family)
    for name in sorted(os.listdir(root)):
        if name.endswith(".py") and name not in counted \
                and name != "__init__.py":
            port = count_file(os.path.join(root, name))
            print("| helper %s | %d | - | %d |" % (name, port, HELPER_LIMIT))
            if port > HELPER_LIMIT:
                over.append(name)
    if over:
        print("over the limit: %s" % ", ".join(over))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
