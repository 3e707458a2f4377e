"""The dependencies run one way (read from the source, nothing compiled):
the Lasagne shim imports nothing from the rest of ``indrnn``, and the
library (``indrnn/``) imports nothing from the experiments
(``indrnn.experiments``, installed from ``experiments/``)."""
import ast
import pathlib

import numpy as np
import pytensor
import pytensor.tensor as pt

import indrnn
from indrnn.lasagne.layers import BatchNormLayer, InputLayer
from indrnn.lasagne.layers import normalization

ROOT = pathlib.Path(indrnn.__file__).parent


def _imports(path):
    """(module, level) of every import statement of a file."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0
        elif isinstance(node, ast.ImportFrom):
            yield node.module or '', node.level


def _imported_modules(path, root=ROOT):
    """The absolute module names a file under ``root`` (the folder of the
    package ``indrnn``) imports: for ``from A import b``, both ``A`` and
    ``A.b`` (``b`` may be a module)."""
    package = ['indrnn', *path.relative_to(root).parent.parts]
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level \
                else []
            module = '.'.join(base + ([node.module] if node.module else []))
            yield module
            yield from (module + '.' + alias.name for alias in node.names)


def _is_experiment(module):
    """Whether a module name is the experiments' (or their former name)."""
    parts = module.split('.')
    return parts[0] == 'experiments' or parts[:2] == ['indrnn', 'experiments']


def test_the_shim_imports_nothing_else_from_indrnn():
    found = []
    for path in sorted((ROOT / 'lasagne').rglob('*.py')):
        depth = len(path.relative_to(ROOT / 'lasagne').parts) - 1
        for module, level in _imports(path):
            outside = (level == 0 and (module == 'indrnn' or (
                module.startswith('indrnn.')
                and not module.startswith('indrnn.lasagne')))) \
                or level > depth + 1
            if outside:
                found.append((path.relative_to(ROOT).as_posix(), module,
                              level))
    assert found == []


def test_the_library_does_not_import_the_experiments():
    """Nothing in indrnn/ (the experiments are installed as
    indrnn.experiments from experiments/, outside it) imports them."""
    found = [(path.relative_to(ROOT).as_posix(), module)
             for path in sorted(ROOT.rglob('*.py'))
             for module in _imported_modules(path)
             if _is_experiment(module)]
    assert found == []


def test_the_import_rule_sees_the_experiments(tmp_path):
    """The rule above catches each way of writing such an import, and lets
    the library's own imports pass."""
    lines = ['import indrnn.experiments.adding',
             'from indrnn.experiments import adding',
             'from indrnn import experiments',
             'from .. import experiments',
             'from ..experiments.adding import main',
             'from experiments import adding']
    folder = tmp_path / 'indrnn' / 'run'
    folder.mkdir(parents=True)
    path = folder / 'x.py'
    for line in lines:
        path.write_text(line + '\n')
        assert any(map(_is_experiment,
                       _imported_modules(path, tmp_path / 'indrnn'))), line
    path.write_text('from .. import legacy\nfrom . import engine\n'
                    'import indrnn.run.flags\n')
    assert sorted(_imported_modules(path, tmp_path / 'indrnn')) == [
        'indrnn', 'indrnn.legacy', 'indrnn.run', 'indrnn.run.engine',
        'indrnn.run.flags']


def test_indrnn_installs_the_fused_batchnorm_in_the_shim():
    from indrnn.ops.batchnorm import BatchNormTrain
    assert normalization._FUSED_BATCH_NORM[0] is not None
    x = pt.matrix('x', dtype='float64')
    data = np.random.RandomState(0).randn(6, 3)
    outputs = []
    previous = normalization.register_fused_batch_norm(None)
    try:
        # Without the op the layer builds the symbolic graph.
        layer = BatchNormLayer(InputLayer((None, 3)))
        assert not layer.fused_applies(x, use_averages=False)
        outputs.append(layer.get_output_for(x))
    finally:
        normalization.register_fused_batch_norm(previous)
    assert layer.fused_applies(x, use_averages=False)
    outputs.append(layer.get_output_for(x))
    assert any(isinstance(node.owner.op, BatchNormTrain)
               for node in pytensor.graph.traversal.ancestors([outputs[1]])
               if node.owner is not None)
    plain, fused = (pytensor.function([x], out, mode='FAST_COMPILE',
                                      on_unused_input='ignore')(data)
                    for out in outputs)
    expected = (data - data.mean(0)) / np.sqrt(data.var(0) + layer.epsilon)
    np.testing.assert_allclose(plain, expected, rtol=1e-10)
    np.testing.assert_allclose(fused, expected, rtol=1e-10)
