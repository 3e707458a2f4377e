"""What setup.cfg installs (read as text, nothing built): every package of
``indrnn/``, the experiments as ``indrnn.experiments`` from ``experiments/``
and no top-level ``experiments``, the registry ``papers.toml`` as their
package data, console commands that name existing ``main`` functions, and
registry rows that name the installed modules.

The wheel itself (``pip wheel . --no-deps``) is checked by hand: its only
top-level folder is ``indrnn/``, with ``indrnn/experiments/papers.toml``."""
import ast
import configparser
import pathlib
import tomllib

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]


def _options():
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / 'setup.cfg')
    return config


def _lines(value):
    return [line.strip() for line in value.splitlines() if line.strip()]


def _package_dir():
    pairs = (line.split('=') for line in
             _lines(_options()['options']['package_dir']))
    return {name.strip(): folder.strip() for name, folder in pairs}


def _source(module):
    """The file of a dotted module name, as setup.cfg maps it."""
    package_dir = _package_dir()
    parts = module.split('.')
    for n in range(len(parts), 0, -1):
        prefix = '.'.join(parts[:n])
        if prefix in package_dir:
            folder = REPO_ROOT / package_dir[prefix]
            rest = parts[n:]
            break
    else:
        folder, rest = REPO_ROOT, parts
    path = folder.joinpath(*rest)
    return path / '__init__.py' if path.is_dir() else path.with_suffix('.py')


def test_every_package_is_listed_and_experiments_is_indrnn_experiments():
    listed = _lines(_options()['options']['packages'])
    on_disk = {'.'.join(p.parent.relative_to(REPO_ROOT).parts)
               for p in (REPO_ROOT / 'indrnn').rglob('__init__.py')}
    assert sorted(listed) == sorted(on_disk | {'indrnn.experiments'})
    assert _package_dir() == {'indrnn.experiments': 'experiments'}
    assert all(_source(name).is_file() for name in listed)
    assert _source('indrnn.experiments') \
        == REPO_ROOT / 'experiments' / '__init__.py'
    assert not any(name.split('.')[0] == 'experiments' for name in listed)


def test_the_registry_is_package_data():
    data = _options()['options.package_data']
    assert _lines(data['indrnn.experiments']) == ['papers.toml']
    assert (REPO_ROOT / 'experiments' / 'papers.toml').is_file()


def test_every_console_command_names_a_main_function():
    commands = dict(
        (name.strip(), target.strip()) for name, target in
        (line.split('=') for line in
         _lines(_options()['options.entry_points']['console_scripts'])))
    for name in ('indrnn', 'adding', 'pixelmnist', 'Indrnn_action_train',
                 'penntree_charlevel_rernn', 'penntree_wordlevel_rernn_WT',
                 'indrnn-adding', 'indrnn-pixelmnist', 'indrnn-action-train',
                 'indrnn-ntu-convert', 'indrnn-ntu-synthetic', 'indrnn-viz',
                 'indrnn-reproduce'):
        assert name in commands
    for name, target in commands.items():
        module, function = target.split(':')
        assert module.startswith('indrnn.'), (name, target)
        tree = ast.parse(_source(module).read_text())
        assert function in {node.name for node in tree.body
                             if isinstance(node, ast.FunctionDef)}, \
            (name, target)


def test_the_registry_and_the_indrnn_command_name_installed_modules():
    from indrnn.experiments import command
    with open(REPO_ROOT / 'experiments' / 'papers.toml', 'rb') as f:
        registry = tomllib.load(f)
    modules = [family['module'] for family in registry['families'].values()]
    modules += [module for module, _ in command.COMMANDS.values()]
    assert modules
    for module in modules:
        assert module.startswith('indrnn.'), module
        assert _source(module).is_file(), module
