"""``indrnn reproduce NAME``: the papers' tables as grids of original runs.

The rows (command lines, the papers' numbers, how each number is read, the
budgets of the ``cpu`` and ``smoke`` profiles) are in ``papers.toml`` next
to this file; :mod:`indrnn.reproduce` runs them on Ray and collects them.

Examples
--------
List the rows, then run Fig. 2 at the ``cpu`` profile on a local Ray::

    indrnn reproduce --list
    indrnn reproduce fig2 --profile cpu --seeds 1
"""
import os

from indrnn.reproduce import command

#: The registry of the papers' tables and figures.
REGISTRY = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'papers.toml')


def main(argv=None):
    """Run ``indrnn reproduce``; return its exit status."""
    return command.main(argv, registry_path=REGISTRY)


if __name__ == '__main__':
    raise SystemExit(main())
