"""Functions to create initializers for parameter variables
(Lasagne's ``lasagne.init``).

An initializer is called with a shape and returns a numpy array of
``floatX`` of that shape. All random draws come from
:func:`indrnn.lasagne.random.get_rng`, so seeding that generator (or
``np.random`` while it is the default) makes the initialisation
reproducible, draw for draw as in Lasagne.

Examples
--------
Initializers are passed to layers, which call them with the parameter's
shape::

    from indrnn.lasagne.layers import InputLayer, DenseLayer
    from indrnn.lasagne.init import Constant, GlorotUniform
    l_in = InputLayer((100, 20))
    l1 = DenseLayer(l_in, num_units=50, W=GlorotUniform('relu'),
                    b=Constant(0.0))
"""
import numpy as np

from .random import get_rng
from .utils import floatX

__all__ = [
    "Initializer",
    "Normal",
    "Uniform",
    "Glorot",
    "GlorotNormal",
    "GlorotUniform",
    "He",
    "HeNormal",
    "HeUniform",
    "Constant",
    "Sparse",
    "Orthogonal",
]


class Initializer(object):
    """Base class for parameter tensor initializers.

    Subclasses implement :meth:`sample`; calling the instance is the same as
    calling :meth:`sample`, so an initializer can be used wherever a
    callable ``f(shape) -> array`` is expected (e.g. ``create_param``).

    Examples
    --------
    >>> class Twos(Initializer):
    ...     def sample(self, shape):
    ...         return floatX(np.full(shape, 2.0))
    >>> Twos()((2,)).tolist()
    [2.0, 2.0]
    """

    def __call__(self, shape):
        """Make the instance callable; same as :meth:`sample`."""
        return self.sample(shape)

    def sample(self, shape):
        """Sample an initial value for a parameter tensor.

        Parameters
        ----------
        shape : tuple of int
            Shape of the parameter tensor.

        Returns
        -------
        numpy.ndarray
            An array of ``floatX`` with the given shape.
        """
        raise NotImplementedError()


class Normal(Initializer):
    """Sample initial weights from the Gaussian distribution.

    Parameters
    ----------
    std : float
        Standard deviation of the initial parameters.
    mean : float
        Mean of the initial parameters.

    Examples
    --------
    >>> Normal(std=0.1)((3, 4)).shape
    (3, 4)
    """

    def __init__(self, std=0.01, mean=0.0):
        self.std = std
        self.mean = mean

    def sample(self, shape):
        """Draw ``N(mean, std**2)`` values of the given shape."""
        return floatX(get_rng().normal(self.mean, self.std, size=shape))


class Uniform(Initializer):
    """Sample initial weights from the uniform distribution.

    Parameters are sampled from ``U(a, b)``.

    Parameters
    ----------
    range : float or tuple of float
        When ``std`` is None, ``range`` gives the bounds: a number ``r``
        means ``(a, b) = (-r, r)``, a tuple ``(a, b)`` is used as is.
    std : float or None
        If not None, the distribution has this standard deviation and mean
        ``mean``: ``(a, b) = (mean - sqrt(3) * std, mean + sqrt(3) * std)``,
        and ``range`` is ignored.
    mean : float
        Mean of the distribution when ``std`` is given; ignored otherwise.

    Examples
    --------
    >>> Uniform(range=(0.0, 1.0)).range
    (0.0, 1.0)
    >>> Uniform(0.5).range
    (-0.5, 0.5)
    """

    def __init__(self, range=0.01, std=None, mean=0.0):
        if std is not None:
            a = mean - np.sqrt(3) * std
            b = mean + np.sqrt(3) * std
        else:
            try:
                a, b = range  # range is a tuple
            except TypeError:
                a, b = -range, range  # range is a number
        self.range = (a, b)

    def sample(self, shape):
        """Draw ``U(a, b)`` values of the given shape."""
        return floatX(get_rng().uniform(
            low=self.range[0], high=self.range[1], size=shape))


class Glorot(Initializer):
    """Glorot weight initialization (Glorot & Bengio, 2010).

    The weights are drawn from ``initializer`` with standard deviation
    ``gain * sqrt(2 / ((fan_in + fan_out) * receptive_field_size))``.
    By default the first two axes of the shape are ``fan_in`` and
    ``fan_out`` and the rest is the receptive field (Dense and Conv
    layers); with ``c01b=True`` the shape must have four axes and they are
    read as ``(fan_in, rows, columns, fan_out)`` (cuda-convnet layout).

    Parameters
    ----------
    initializer : class
        An :class:`Initializer` subclass taking ``std`` as a keyword, e.g.
        :class:`Normal` or :class:`Uniform`.
    gain : float or 'relu'
        Scaling factor; ``'relu'`` means ``sqrt(2)``.
    c01b : bool
        Use the cuda-convnet axis layout.

    See Also
    --------
    GlorotNormal, GlorotUniform

    Examples
    --------
    >>> bool(Glorot(Normal, gain='relu').gain == np.sqrt(2))
    True
    """

    def __init__(self, initializer, gain=1.0, c01b=False):
        if gain == 'relu':
            gain = np.sqrt(2)
        self.initializer = initializer
        self.gain = gain
        self.c01b = c01b

    def sample(self, shape):
        """Draw Glorot-scaled values of the given shape (2-D or more)."""
        if self.c01b:
            if len(shape) != 4:
                raise RuntimeError(
                    "If c01b is True, only shapes of length 4 are accepted")
            n1, n2 = shape[0], shape[3]
            receptive_field_size = shape[1] * shape[2]
        else:
            if len(shape) < 2:
                raise RuntimeError(
                    "This initializer only works with shapes of length >= 2")
            n1, n2 = shape[:2]
            receptive_field_size = np.prod(shape[2:])
        std = self.gain * np.sqrt(2.0 / ((n1 + n2) * receptive_field_size))
        return self.initializer(std=std).sample(shape)


class GlorotNormal(Glorot):
    """Glorot initialization with normally distributed weights.

    Parameters
    ----------
    gain : float or 'relu'
        Scaling factor; ``'relu'`` means ``sqrt(2)``.
    c01b : bool
        Use the cuda-convnet axis layout (see :class:`Glorot`).

    Examples
    --------
    >>> GlorotNormal()((20, 30)).shape
    (20, 30)
    """

    def __init__(self, gain=1.0, c01b=False):
        super(GlorotNormal, self).__init__(Normal, gain, c01b)


class GlorotUniform(Glorot):
    """Glorot initialization with uniformly distributed weights.

    With the default gain the bounds are
    ``+-sqrt(6 / ((fan_in + fan_out) * receptive_field_size))``.

    Parameters
    ----------
    gain : float or 'relu'
        Scaling factor; ``'relu'`` means ``sqrt(2)``.
    c01b : bool
        Use the cuda-convnet axis layout (see :class:`Glorot`).

    Examples
    --------
    >>> w = GlorotUniform()((20, 30))
    >>> bool(np.abs(w).max() <= np.sqrt(6.0 / 50))
    True
    """

    def __init__(self, gain=1.0, c01b=False):
        super(GlorotUniform, self).__init__(Uniform, gain, c01b)


class He(Initializer):
    """He weight initialization (He et al., 2015).

    The weights are drawn from ``initializer`` with standard deviation
    ``gain * sqrt(1 / fan_in)``, where ``fan_in`` is ``shape[0]`` for 2-D
    shapes (Dense layers), ``prod(shape[1:])`` for more axes (Conv layers),
    and ``prod(shape[:3])`` with ``c01b=True``.

    Parameters
    ----------
    initializer : class
        An :class:`Initializer` subclass taking ``std`` as a keyword.
    gain : float or 'relu'
        Scaling factor; ``'relu'`` means ``sqrt(2)``.
    c01b : bool
        Use the cuda-convnet axis layout; the shape must have four axes.

    See Also
    --------
    HeNormal, HeUniform

    Examples
    --------
    >>> bool(He(Normal, gain='relu').gain == np.sqrt(2))
    True
    """

    def __init__(self, initializer, gain=1.0, c01b=False):
        if gain == 'relu':
            gain = np.sqrt(2)
        self.initializer = initializer
        self.gain = gain
        self.c01b = c01b

    def sample(self, shape):
        """Draw He-scaled values of the given shape (2-D or more)."""
        if self.c01b:
            if len(shape) != 4:
                raise RuntimeError(
                    "If c01b is True, only shapes of length 4 are accepted")
            fan_in = np.prod(shape[:3])
        else:
            if len(shape) == 2:
                fan_in = shape[0]
            elif len(shape) > 2:
                fan_in = np.prod(shape[1:])
            else:
                raise RuntimeError(
                    "This initializer only works with shapes of length >= 2")
        std = self.gain * np.sqrt(1.0 / fan_in)
        return self.initializer(std=std).sample(shape)


class HeNormal(He):
    """He initializer with normally distributed weights.

    Parameters
    ----------
    gain : float or 'relu'
        Scaling factor; ``'relu'`` means ``sqrt(2)``.
    c01b : bool
        Use the cuda-convnet axis layout (see :class:`He`).

    Examples
    --------
    >>> HeNormal('relu')((50, 10)).shape
    (50, 10)
    """

    def __init__(self, gain=1.0, c01b=False):
        super(HeNormal, self).__init__(Normal, gain, c01b)


class HeUniform(He):
    """He initializer with uniformly distributed weights.

    Parameters
    ----------
    gain : float or 'relu'
        Scaling factor; ``'relu'`` means ``sqrt(2)``.
    c01b : bool
        Use the cuda-convnet axis layout (see :class:`He`).

    Examples
    --------
    >>> w = HeUniform()((50, 10))
    >>> bool(np.abs(w).max() <= np.sqrt(3.0 / 50))
    True
    """

    def __init__(self, gain=1.0, c01b=False):
        super(HeUniform, self).__init__(Uniform, gain, c01b)


class Constant(Initializer):
    """Initialize weights with a constant value.

    Parameters
    ----------
    val : float
        The constant value.

    Examples
    --------
    >>> Constant(1.5)((2,)).tolist()
    [1.5, 1.5]
    """

    def __init__(self, val=0.0):
        self.val = val

    def sample(self, shape):
        """Return an array of the given shape filled with ``val``."""
        return floatX(np.ones(shape) * self.val)


class Sparse(Initializer):
    """Initialize weights as a sparse matrix.

    Every column (output unit) gets ``int(sparsity * n_inputs)`` non-zero
    entries at random rows, drawn from ``N(0, std**2)``.

    Parameters
    ----------
    sparsity : float
        Fraction of non-zero entries per column.
    std : float
        Standard deviation of the non-zero entries.

    Examples
    --------
    >>> w = Sparse(sparsity=0.5)((10, 3))
    >>> (w != 0).sum(axis=0).tolist()
    [5, 5, 5]
    """

    def __init__(self, sparsity=0.1, std=0.01):
        self.sparsity = sparsity
        self.std = std

    def sample(self, shape):
        """Draw a sparse matrix of the given 2-D shape."""
        if len(shape) != 2:
            raise RuntimeError(
                "sparse initializer only works with shapes of length 2")

        w = floatX(np.zeros(shape))
        n_inputs, n_outputs = shape
        size = int(self.sparsity * n_inputs)  # fraction of number of inputs

        # The draw order (shuffle, then normal, per column) is Lasagne's, so
        # a seeded generator gives the same matrix.
        for k in range(n_outputs):
            indices = np.arange(n_inputs)
            get_rng().shuffle(indices)
            indices = indices[:size]
            values = floatX(get_rng().normal(0.0, self.std, size=size))
            w[indices, k] = values

        return w


class Orthogonal(Initializer):
    """Initialize weights as an orthogonal matrix (Saxe et al., 2013).

    A Gaussian matrix of shape ``(shape[0], prod(shape[1:]))`` is drawn and
    the orthonormal factor of its SVD with that shape is kept, so the rows
    (or columns, whichever are fewer) are orthonormal, then scaled by
    ``gain``.

    Parameters
    ----------
    gain : float or 'relu'
        Scaling factor; ``'relu'`` means ``sqrt(2)``.

    Examples
    --------
    >>> q = Orthogonal()((4, 4)).astype('float64')
    >>> bool(np.allclose(q.dot(q.T), np.eye(4), atol=1e-5))
    True
    """

    def __init__(self, gain=1.0):
        if gain == 'relu':
            gain = np.sqrt(2)
        self.gain = gain

    def sample(self, shape):
        """Draw a scaled orthogonal array of the given shape (2-D or more)."""
        if len(shape) < 2:
            raise RuntimeError("Only shapes of length 2 or more are "
                               "supported.")

        flat_shape = (shape[0], int(np.prod(shape[1:])))
        a = get_rng().normal(0.0, 1.0, flat_shape)
        u, _, v = np.linalg.svd(a, full_matrices=False)
        # pick the one with the correct shape
        q = u if u.shape == flat_shape else v
        q = q.reshape(shape)
        return floatX(self.gain * q)
