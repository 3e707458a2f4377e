"""The ``indrnn`` command: every experiment and tool as a subcommand.

``indrnn adding --seq_len 100`` runs what ``python -m indrnn.experiments.adding
--seq_len 100`` runs; each subcommand takes its script's flags unchanged
(``indrnn adding --help``). The original script names are subcommands too
(``indrnn Indrnn_action_train ...``), and they stay commands of their own
(``adding``, ``pixelmnist``, ``Indrnn_action_train``,
``penntree_charlevel_rernn``, ``penntree_wordlevel_rernn_WT``), so the
original command lines work as they were.
"""
import importlib
import sys

#: Subcommand: (module, what it does). Modules are imported only when run.
COMMANDS = {
    'adding': ('indrnn.experiments.adding', 'the adding problem'),
    'pixelmnist': ('indrnn.experiments.pixelmnist',
                   'sequential and permuted MNIST'),
    'action': ('indrnn.experiments.Indrnn_action_train',
               'NTU RGB+D skeleton action recognition'),
    'ptb-char': ('indrnn.experiments.penntree_charlevel_rernn',
                 'char-level Penn Treebank'),
    'ptb-word': ('indrnn.experiments.penntree_wordlevel_rernn_WT',
                 'word-level Penn Treebank (weight tying)'),
    'ntu-convert': ('indrnn.data.ntu_convert',
                    'convert NTU .skeleton files to arrays'),
    'ntu-synthetic': ('indrnn.data.ntu_synthetic',
                      'write a small synthetic NTU data set'),
    'viz': ('indrnn.experiments.viz', 'pictures for teaching'),
    'reproduce': ('indrnn.experiments.reproduce',
                  "run a paper table or figure on Ray (--list)"),
}

#: The original scripts' names, as subcommands.
ALIASES = {
    'Indrnn_action_train': 'action',
    'penntree_charlevel_rernn': 'ptb-char',
    'penntree_wordlevel_rernn_WT': 'ptb-word',
}


def usage():
    """str: the list of subcommands."""
    width = max(map(len, COMMANDS))
    lines = ['usage: indrnn COMMAND [flags...]   (indrnn COMMAND --help)',
             '', 'commands:']
    lines += ['  %-*s  %s' % (width, name, what)
              for name, (_, what) in COMMANDS.items()]
    lines += ['', 'The original script names work too: %s.'
              % ', '.join(ALIASES)]
    return '\n'.join(lines)


def main(argv=None):
    """Run ``indrnn COMMAND [flags...]``; return the exit status.

    Examples
    --------
    >>> main(['nosuch'])
    2
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ('-h', '--help'):
        print(usage())
        return 0 if argv else 2
    name = ALIASES.get(argv[0], argv[0])
    if name not in COMMANDS:
        print("indrnn: unknown command %r\n\n%s" % (argv[0], usage()),
              file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    # argparse names the program in its messages and --help.
    sys.argv[0] = 'indrnn ' + argv[0]
    return module.main(argv[1:])


if __name__ == '__main__':
    raise SystemExit(main())
