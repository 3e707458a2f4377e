"""Layers that apply a function, a bias, a scale, a learned or random
rectifier, an inverse, or a spatial transformation: Lasagne's
``lasagne.layers.special``."""
import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.mode import Mode
from pytensor.graph.basic import Variable

from .. import init, nonlinearities
from .. import random as lasagne_random
from ..utils import as_tuple, floatX, int_types
from . import _spatial
from .base import Layer, MergeLayer
from .noise import call_counter, uniform

__all__ = [
    "NonlinearityLayer",
    "BiasLayer",
    "ScaleLayer",
    "standardize",
    "ExpressionLayer",
    "InverseLayer",
    "TransformerLayer",
    "TPSTransformerLayer",
    "ParametricRectifierLayer",
    "prelu",
    "RandomizedRectifierLayer",
    "rrelu",
]


def _shared_axes(shared_axes, ndim, allow_all=False):
    """Lasagne's ``shared_axes`` argument as a tuple: 'auto' is all axes
    but the second, 'all' (where allowed) every axis."""
    if shared_axes == "auto":
        return (0,) + tuple(range(2, ndim))
    if allow_all and shared_axes == "all":
        return tuple(range(ndim))
    if isinstance(shared_axes, int_types):
        return (shared_axes,)
    return tuple(shared_axes)


def _unshared_shape(layer, shared_axes, what):
    """Shape of a parameter over the axes it is not shared over."""
    shape = [size for axis, size in enumerate(layer.input_shape)
             if axis not in shared_axes]
    if any(size is None for size in shape):
        raise ValueError("%s needs specified input sizes for all axes that "
                         "%s are not shared over." % (type(layer).__name__,
                                                      what))
    return shape


def _spread(param, shared_axes, ndim):
    """``param`` with broadcastable axes inserted where it is shared."""
    axes = iter(range(param.ndim))
    return param.dimshuffle(["x" if axis in shared_axes else next(axes)
                             for axis in range(ndim)])


class NonlinearityLayer(Layer):
    """Apply a nonlinearity elementwise.

    Parameters
    ----------
    incoming : Layer or tuple
    nonlinearity : callable or None
        None means identity.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> NonlinearityLayer(InputLayer((None, 3))).output_shape
    (None, 3)
    """

    def __init__(self, incoming, nonlinearity=nonlinearities.rectify,
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.nonlinearity = (nonlinearities.identity if nonlinearity is None
                             else nonlinearity)

    def get_output_for(self, input, **kwargs):
        return self.nonlinearity(input)


class BiasLayer(Layer):
    """Add a (trainable) bias: ``input + b``.

    Parameters
    ----------
    incoming : Layer or tuple
    b : initializer, array, expression or None
        The bias, of the input's shape without the shared axes; None
        passes the input unchanged.
    shared_axes : 'auto', int or tuple of int
        Axes the bias is shared over; 'auto' is all but the second.

    Examples
    --------
    >>> layer = BiasLayer((20, 30, 40, 50), shared_axes=(0, 2))
    >>> layer.b.get_value().shape
    (30, 50)
    """

    def __init__(self, incoming, b=init.Constant(0), shared_axes="auto",
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.shared_axes = _shared_axes(shared_axes, len(self.input_shape))
        if b is None:
            self.b = None
        else:
            shape = _unshared_shape(self, self.shared_axes, "biases")
            self.b = self.add_param(b, shape, "b", regularizable=False)

    def get_output_for(self, input, **kwargs):
        if self.b is None:
            return input
        return input + _spread(self.b, self.shared_axes, input.ndim)


class ScaleLayer(Layer):
    """Scale by learned coefficients: ``input * scales``.

    Parameters
    ----------
    incoming : Layer or tuple
    scales : initializer, array or expression
        Of the input's shape without the shared axes.
    shared_axes : 'auto', int or tuple of int
        Axes the scales are shared over; 'auto' is all but the second.

    Examples
    --------
    >>> layer = ScaleLayer((20, 30, 40, 50), shared_axes=(0, 2))
    >>> layer.scales.get_value().shape
    (30, 50)
    """

    def __init__(self, incoming, scales=init.Constant(1), shared_axes="auto",
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.shared_axes = _shared_axes(shared_axes, len(self.input_shape))
        shape = _unshared_shape(self, self.shared_axes, "scales")
        self.scales = self.add_param(scales, shape, "scales",
                                     regularizable=False)

    def get_output_for(self, input, **kwargs):
        return input * _spread(self.scales, self.shared_axes, input.ndim)


def standardize(layer, offset, scale, shared_axes="auto"):
    """Subtract a fixed offset and divide by a fixed scale.

    Adds a :class:`BiasLayer` with ``-offset`` and a :class:`ScaleLayer`
    with ``1 / scale``, neither trainable (they stay regularizable, as in
    Lasagne).

    Parameters
    ----------
    layer : Layer or tuple
    offset, scale : array, shared variable or expression
        Of the input's shape without the shared axes.
    shared_axes : 'auto', int or tuple of int

    Returns
    -------
    ScaleLayer

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> training_data = np.random.standard_normal((100, 20))
    >>> l_in = InputLayer((None, training_data.shape[1]))
    >>> offset = training_data.min(axis=0)
    >>> scale = training_data.max(axis=0) - training_data.min(axis=0)
    >>> l_std = standardize(l_in, offset, scale, shared_axes=0)
    >>> l_std.get_params(trainable=True)
    []
    """
    layer = BiasLayer(layer, -offset, shared_axes)
    layer.params[layer.b].remove("trainable")
    layer = ScaleLayer(layer, floatX(1.) / scale, shared_axes)
    layer.params[layer.scales].remove("trainable")
    return layer


#: A linker that only evaluates (no compilation) for shape inference.
_SHAPE_MODE = Mode(linker="py", optimizer="fast_compile")


class ExpressionLayer(Layer):
    """Apply an arbitrary function to the input.

    Parameters
    ----------
    incoming : Layer or tuple
    function : callable
        Maps the input expression to the output expression.
    output_shape : None, tuple, callable or 'auto'
        None: same as the input; a tuple (None for variable sizes); a
        callable of the input shape; 'auto': the function is applied to
        zeros of the input shape (0 for unknown sizes), and sizes that
        come out 0 are unknown.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> l_in = InputLayer((32, 100, 20))
    >>> ExpressionLayer(l_in, lambda X: X.mean(-1), output_shape='auto'
    ...                 ).output_shape
    (32, 100)
    """

    def __init__(self, incoming, function, output_shape=None, **kwargs):
        super().__init__(incoming, **kwargs)
        self.function = function
        if callable(output_shape):
            self._output_shape = output_shape
        elif output_shape is None or output_shape == "auto":
            self._output_shape = output_shape
        else:
            self._output_shape = tuple(output_shape)
        self._auto_shapes = {}

    def get_output_shape_for(self, input_shape):
        if self._output_shape is None:
            return input_shape
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        if self._output_shape == "auto":
            key = tuple(input_shape)
            if key not in self._auto_shapes:
                zeros = pt.zeros(tuple(0 if s is None else s
                                       for s in input_shape),
                                 dtype=pytensor.config.floatX)
                shape = pytensor.function([], self.function(zeros).shape,
                                          mode=_SHAPE_MODE)()
                self._auto_shapes[key] = tuple(int(s) if s else None
                                               for s in shape)
            return self._auto_shapes[key]
        return self._output_shape

    def get_output_for(self, input, **kwargs):
        return self.function(input)


class InverseLayer(MergeLayer):
    """The transpose of a layer's linear map: the gradient of ``layer``'s
    output with respect to its input, applied to this layer's input.

    For a :class:`DenseLayer` this multiplies by ``W.T`` (and by the
    derivative of its nonlinearity at the forward pass), which makes tied
    autoencoders easy.

    Parameters
    ----------
    incoming : Layer or tuple
        Of ``layer``'s output shape.
    layer : Layer
        The layer to invert; its input and output join this layer's
        incomings.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> l_in = InputLayer((100, 20))
    >>> l1 = DenseLayer(l_in, num_units=50)
    >>> InverseLayer(l1, l1).output_shape
    (100, 20)
    """

    def __init__(self, incoming, layer, **kwargs):
        super().__init__([incoming, layer, layer.input_layer], **kwargs)

    def get_output_shape_for(self, input_shapes):
        return input_shapes[2]

    def get_output_for(self, inputs, **kwargs):
        input, layer_out, layer_in = inputs
        return pytensor.grad(None, wrt=layer_in,
                             known_grads={layer_out: input})


def _transformed_shape(input_shapes, factors):
    shape = input_shapes[0]
    return shape[:2] + tuple(None if s is None else int(s // f)
                             for s, f in zip(shape[2:], factors))


def _check_images(input_shape):
    if len(input_shape) != 4:
        raise ValueError("The input network must have a 4-dimensional "
                         "output shape: (batch_size, num_input_channels, "
                         "input_rows, input_columns)")


def _sample_and_reshape(input, points, out_height, out_width, border_mode):
    """Sample ``input`` at the ``(batch, 2, P)`` normalised points and
    return ``(batch, channels, out_height, out_width)``."""
    sampled = _spatial.bilinear_sample(input, points[:, 0], points[:, 1],
                                       border_mode)
    out = sampled.reshape((input.shape[0], out_height, out_width,
                           input.shape[1]))
    return out.dimshuffle(0, 3, 1, 2)


class TransformerLayer(MergeLayer):
    """Spatial transformer with an affine map (Jaderberg et al., 2015).

    Every output pixel at normalised coordinates ``(x_t, y_t)`` reads the
    input at ``theta . (x_t, y_t, 1)`` with bilinear interpolation, where
    ``theta`` (2 x 3, row major) comes from the localization network.

    Parameters
    ----------
    incoming : Layer or tuple
        ``(batch, channels, rows, columns)``.
    localization_network : Layer
        Output ``(batch, 6)``.
    downsample_factor : float or pair of float
        Output size is the input size ``// factor``.
    border_mode : {'nearest', 'mirror', 'wrap'}
        How pixels outside the input are read.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> b = np.zeros((2, 3), dtype='float32')
    >>> b[0, 0] = b[1, 1] = 1  # identity transform
    >>> l_in = InputLayer((None, 3, 28, 28))
    >>> l_loc = DenseLayer(l_in, num_units=6, W=init.Constant(0.0),
    ...                    b=b.flatten(), nonlinearity=None)
    >>> TransformerLayer(l_in, l_loc, downsample_factor=2).output_shape
    (None, 3, 14, 14)
    """

    def __init__(self, incoming, localization_network, downsample_factor=1,
                 border_mode="nearest", **kwargs):
        super().__init__([incoming, localization_network], **kwargs)
        self.downsample_factor = as_tuple(downsample_factor, 2)
        self.border_mode = border_mode
        input_shp, loc_shp = self.input_shapes
        if loc_shp[-1] != 6 or len(loc_shp) != 2:
            raise ValueError("The localization network must have output "
                             "shape: (batch_size, 6)")
        _check_images(input_shp)

    def get_output_shape_for(self, input_shapes):
        return _transformed_shape(input_shapes, self.downsample_factor)

    def get_output_for(self, inputs, **kwargs):
        input, theta = inputs
        out_height = _spatial.output_size(input.shape[2],
                                          self.downsample_factor[0])
        out_width = _spatial.output_size(input.shape[3],
                                         self.downsample_factor[1])
        grid = _spatial.target_grid(out_height, out_width, input.dtype)
        theta = pt.cast(theta, input.dtype).reshape((-1, 2, 3))
        points = pt.dot(theta, grid)  # (batch, 2, P)
        return _sample_and_reshape(input, points, out_height, out_width,
                                   self.border_mode)


class TPSTransformerLayer(MergeLayer):
    """Spatial transformer with a thin plate spline (Bookstein, 1989).

    ``control_points`` source points lie on a square grid over the
    normalised image; the localization network gives each one an offset
    (all x offsets, then all y offsets). The spline through those pairs
    maps every output pixel to the input position it reads, with bilinear
    interpolation. Zero offsets give the identity.

    Parameters
    ----------
    incoming : Layer or tuple
        ``(batch, channels, rows, columns)``.
    localization_network : Layer
        Output ``(batch, 2 * control_points)``.
    downsample_factor : float or pair of float
    control_points : int
        A perfect square.
    precompute_grid : 'auto' or bool
        Compute the spline basis at the output pixels once, when the layer
        is built (needs the input's rows and columns); 'auto' does it when
        they are known.
    border_mode : {'nearest', 'mirror', 'wrap'}

    Notes
    -----
    Lasagne's graph for ``precompute_grid=False`` drops the spline's
    non-affine part (a bug in its NaN guard); here both settings compute
    the same spline.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> l_in = InputLayer((None, 3, 28, 28))
    >>> l_loc = DenseLayer(l_in, num_units=2 * 16, W=init.Constant(0.0),
    ...                    b=init.Constant(0.0), nonlinearity=None)
    >>> TPSTransformerLayer(l_in, l_loc, control_points=16).output_shape
    (None, 3, 28, 28)
    """

    def __init__(self, incoming, localization_network, downsample_factor=1,
                 control_points=16, precompute_grid="auto",
                 border_mode="nearest", **kwargs):
        super().__init__([incoming, localization_network], **kwargs)
        self.border_mode = border_mode
        self.downsample_factor = as_tuple(downsample_factor, 2)
        self.control_points = control_points
        input_shp, loc_shp = self.input_shapes
        if loc_shp[-1] != 2 * control_points or len(loc_shp) != 2:
            raise ValueError("The localization network must have output "
                             "shape: (batch_size, 2*control_points)")
        if round(np.sqrt(control_points)) ** 2 != control_points:
            raise ValueError("The number of control points must be a "
                             "perfect square.")
        _check_images(input_shp)
        known = all(s is not None for s in input_shp[2:])
        if precompute_grid == "auto":
            precompute_grid = known
        elif precompute_grid and not known:
            raise ValueError("Grid can only be precomputed if the input "
                             "height and width are pre-specified.")
        self.precompute_grid = precompute_grid
        self.source_points = _spatial.tps_source_points(control_points)
        self.L_inv = _spatial.tps_inverse_system(self.source_points)
        self.right_mat = None
        if precompute_grid:
            out_h, out_w = _transformed_shape(
                [input_shp], self.downsample_factor)[2:]
            x, y = np.meshgrid(np.linspace(-1, 1, out_w),
                               np.linspace(-1, 1, out_h))
            self.right_mat = _spatial.tps_basis_numpy(
                np.vstack([x.ravel(), y.ravel()]), self.source_points)

    def get_output_shape_for(self, input_shapes):
        return _transformed_shape(input_shapes, self.downsample_factor)

    def get_output_for(self, inputs, **kwargs):
        input, dest_offsets = inputs
        dtype = input.dtype
        k = self.control_points
        out_height = _spatial.output_size(input.shape[2],
                                          self.downsample_factor[0])
        out_width = _spatial.output_size(input.shape[3],
                                         self.downsample_factor[1])
        source = pt.constant(self.source_points.astype(dtype))
        dest = source + pt.cast(dest_offsets, dtype).reshape((-1, 2, k))
        # coefficients (a_1, a_x, a_y, w_1..w_K) of both coordinates
        to_coefficients = pt.constant(self.L_inv[:, 3:].T.astype(dtype))
        coefficients = pt.dot(dest, to_coefficients)  # (batch, 2, K + 3)
        if self.right_mat is not None:
            basis = pt.constant(self.right_mat.astype(dtype))
        else:
            grid = _spatial.target_grid(out_height, out_width, dtype)[:2]
            basis = _spatial.tps_basis(grid, self.source_points)
        points = pt.dot(coefficients, basis)  # (batch, 2, P)
        return _sample_and_reshape(input, points, out_height, out_width,
                                   self.border_mode)


class ParametricRectifierLayer(Layer):
    """Parametric rectifier (He et al., 2015):
    ``max(x, 0) + alpha * min(x, 0)`` with learned ``alpha``.

    Parameters
    ----------
    incoming : Layer or tuple
    alpha : initializer, number, array or expression
        Of the input's shape without the shared axes (trainable, not
        regularizable).
    shared_axes : 'auto', 'all', int or tuple of int
        'auto': all axes but the second; 'all': one scalar ``alpha``.

    Examples
    --------
    >>> layer = ParametricRectifierLayer((20, 3, 28, 28), shared_axes=(0, 3))
    >>> layer.alpha.get_value().shape
    (3, 28)
    """

    def __init__(self, incoming, alpha=init.Constant(0.25),
                 shared_axes="auto", **kwargs):
        super().__init__(incoming, **kwargs)
        self.shared_axes = _shared_axes(shared_axes, len(self.input_shape),
                                        allow_all=True)
        shape = [size for axis, size in enumerate(self.input_shape)
                 if axis not in self.shared_axes]
        if any(size is None for size in shape):
            raise ValueError("ParametricRectifierLayer needs input sizes for "
                             "all axes that alpha's are not shared over.")
        self.alpha = self.add_param(alpha, shape, name="alpha",
                                    regularizable=False)

    def get_output_for(self, input, **kwargs):
        alpha = _spread(self.alpha, self.shared_axes, input.ndim)
        return nonlinearities.LeakyRectify(alpha)(input)


def _steal_nonlinearity(layer):
    """Make ``layer`` linear (a convenience function's first step)."""
    if getattr(layer, "nonlinearity", None) is not None:
        layer.nonlinearity = nonlinearities.identity


def prelu(layer, **kwargs):
    """Replace ``layer``'s nonlinearity by a parametric rectifier.

    Parameters
    ----------
    layer : Layer
        Made linear (irreversibly).
    **kwargs
        Passed to :class:`ParametricRectifierLayer`.

    Returns
    -------
    ParametricRectifierLayer

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> layer = prelu(DenseLayer(InputLayer((32, 100)), num_units=200))
    >>> layer.alpha.get_value().shape
    (200,)
    """
    _steal_nonlinearity(layer)
    return ParametricRectifierLayer(layer, **kwargs)


class RandomizedRectifierLayer(Layer):
    """Randomized leaky rectifier (Xu et al., 2015): in training the slope
    for negative input is drawn from ``U(lower, upper)``; otherwise it is
    ``(lower + upper) / 2``.

    Parameters
    ----------
    incoming : Layer or tuple
    lower, upper : number or scalar expression
        Bounds of the slopes.
    shared_axes : 'auto', 'all', int or tuple of int
        Axes a drawn slope is shared over; 'auto' is all but the second.

    Notes
    -----
    The slopes come from the same counter-based generator as
    :class:`DropoutLayer`'s masks: seeded from
    :func:`indrnn.lasagne.random.get_rng` when the layer is built, fresh
    on every call of a compiled training function.

    Examples
    --------
    >>> layer = RandomizedRectifierLayer((None, 3), lower=0.1, upper=0.2)
    >>> layer.shared_axes
    (0,)
    """

    def __init__(self, incoming, lower=0.3, upper=0.8, shared_axes="auto",
                 **kwargs):
        super().__init__(incoming, **kwargs)
        self.seed = int(lasagne_random.get_rng().randint(1, 2147462579))
        self.lower = lower
        self.upper = upper
        if not isinstance(lower > upper, Variable) and lower > upper:
            raise ValueError("Upper bound for RandomizedRectifierLayer needs "
                             "to be higher than lower bound.")
        self.shared_axes = _shared_axes(shared_axes, len(self.input_shape),
                                        allow_all=True)

    def get_output_for(self, input, deterministic=False, **kwargs):
        if deterministic or self.upper is self.lower or (
                not isinstance(self.upper, Variable)
                and not isinstance(self.lower, Variable)
                and self.upper == self.lower):
            slope = (self.upper + self.lower) / 2.0
            return nonlinearities.LeakyRectify(slope)(input)
        shape = list(self.input_shape)
        if any(s is None for s in shape):
            shape = [input.shape[i] for i in range(input.ndim)]
        for axis in self.shared_axes:
            shape[axis] = 1
        u = uniform(tuple(shape), self.seed, call_counter("rrelu_counter"),
                    dtype=input.dtype)
        slope = pt.cast(self.lower + (self.upper - self.lower) * u,
                        input.dtype)
        if self.shared_axes:
            slope = pt.specify_broadcastable(slope, *self.shared_axes)
        return nonlinearities.LeakyRectify(slope)(input)


def rrelu(layer, **kwargs):
    """Replace ``layer``'s nonlinearity by a randomized rectifier.

    Parameters
    ----------
    layer : Layer
        Made linear (irreversibly).
    **kwargs
        Passed to :class:`RandomizedRectifierLayer`.

    Returns
    -------
    RandomizedRectifierLayer

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer, DenseLayer
    >>> dense = DenseLayer(InputLayer((32, 100)), num_units=200)
    >>> layer = rrelu(dense)
    >>> dense.nonlinearity is nonlinearities.identity
    True
    """
    _steal_nonlinearity(layer)
    return RandomizedRectifierLayer(layer, **kwargs)
