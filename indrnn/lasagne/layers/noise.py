"""Layers that add noise during training: dropout and Gaussian noise.

Random numbers come from a counter-based generator built from ordinary
integer tensor operations (:func:`uniform`): a per-layer seed drawn from
:func:`indrnn.lasagne.random.get_rng` when the layer is built, and a
per-graph call counter that advances by one on every call of a compiled
function (a default update, see :mod:`indrnn.lasagne.default_updates`).
Unlike a shared random generator, an integer counter advances in every
backend, JAX included, so masks are fresh on every call everywhere, and a
seeded run is reproducible.
"""
import numpy as np
import pytensor
import pytensor.tensor as pt

from .. import random as lasagne_random
from ..default_updates import attach_default_update
from .base import Layer

__all__ = [
    "uniform",
    "call_counter",
    "DropoutLayer", "dropout", "dropout_channels", "spatial_dropout",
    "dropout_locations",
    "GaussianNoiseLayer",
]

def _u32(value):
    """A uint32 constant (a Python int would promote the integer math)."""
    return pt.constant(value, dtype="uint32")


def _mix32(x):
    """A 32-bit avalanche hash (Wellons' "lowbias32") on uint32.

    Unsigned 32-bit products wrap around modulo 2**32 in numpy, C, numba
    and JAX alike, which is what the hash relies on; right shifts are
    written as floor divisions.
    """
    x = pt.bitwise_xor(x, x // _u32(2 ** 16))
    x = x * _u32(0x7FEB352D)
    x = pt.bitwise_xor(x, x // _u32(2 ** 15))
    x = x * _u32(0x846CA68B)
    x = pt.bitwise_xor(x, x // _u32(2 ** 16))
    return x


def uniform(shape, seed, counter, dtype=None):
    """Uniform numbers in [0, 1) from a seed and a call counter.

    Every backend computes the same numbers: only uint32 arithmetic is
    used, and the result has 24 random bits, exact in float32 and float64.

    Parameters
    ----------
    shape : tuple of int or symbolic scalars
    seed : int
        Stream identifier (taken modulo 2**32).
    counter : integer scalar tensor
        Differs between calls; each value gives an independent draw.
    dtype : str, optional
        Float dtype; floatX when omitted.

    Returns
    -------
    TensorVariable
        Values ``k / 2**24`` for hashed 24-bit integers ``k``.

    Examples
    --------
    >>> u = uniform((1000,), seed=1, counter=pt.constant(0)).eval()
    >>> bool(0.45 < u.mean() < 0.55)
    True
    """
    dtype = dtype or pytensor.config.floatX
    size = 1
    for s in shape:
        size = size * s
    seed_bits = _u32(int(seed) % 2 ** 32)
    count_bits = pt.cast(counter, "uint32")
    key = _mix32(pt.bitwise_xor(seed_bits, _mix32(count_bits)))
    index = pt.cast(pt.arange(size), "uint32")
    bits = _mix32(pt.bitwise_xor(_mix32(index + key), key))
    top24 = pt.cast(bits // _u32(2 ** 8), dtype)
    return (top24 / pt.constant(2.0 ** 24, dtype=dtype)).reshape(shape)


def call_counter(name):
    """A fresh integer counter for one graph, advanced by one on every
    call of a function compiled from it (a default update).

    Parameters
    ----------
    name : str
        Name of the shared variable.

    Returns
    -------
    SharedVariable
        Starts at 0; pass it to :func:`uniform` as ``counter``.

    Examples
    --------
    >>> c = call_counter("c")
    >>> f = pytensor.function([], c + 0)
    >>> int(f()), int(f())
    (0, 1)
    """
    counter = pytensor.shared(np.int64(0), name=name)
    return attach_default_update(counter, counter + 1)


class DropoutLayer(Layer):
    """Randomly zero inputs during training.

    Parameters
    ----------
    incoming : Layer or tuple
    p : float or scalar tensor
        Probability of dropping a value.
    rescale : bool
        Divide the kept values by ``1 - p`` (so the expected sum is kept).
    shared_axes : tuple of int
        Axes along which the mask is the same (e.g. ``(0,)`` for a mask
        shared over time in time-first data).
    seed : int, optional
        Seed of this layer's masks; drawn from
        :func:`indrnn.lasagne.random.get_rng` when omitted.

    Notes
    -----
    With ``deterministic=True`` or ``p == 0`` the input passes unchanged.
    Every call of a compiled training function draws new masks.

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> DropoutLayer(InputLayer((None, 3)), p=0.2).p
    0.2
    """

    def __init__(self, incoming, p=0.5, rescale=True, shared_axes=(),
                 seed=None, **kwargs):
        super().__init__(incoming, **kwargs)
        if isinstance(p, (int, float)) and not 0 <= p < 1:
            raise ValueError("DropoutLayer: p must be in [0, 1), got %r" % p)
        self.p = p
        self.rescale = rescale
        self.shared_axes = tuple(shared_axes)
        if seed is None:
            seed = int(lasagne_random.get_rng().randint(1, 2147462579))
        self.seed = seed

    def get_output_for(self, input, deterministic=False, **kwargs):
        # p may be a number or a scalar tensor (e.g. a shared schedule)
        if deterministic or (isinstance(self.p, (int, float))
                             and self.p == 0):
            return input
        retain = pt.cast(1 - pt.as_tensor_variable(self.p), input.dtype)
        if self.rescale:
            input = input / retain
        mask_shape = self.input_shape
        if any(s is None for s in mask_shape):
            mask_shape = tuple(input.shape[i] for i in range(input.ndim))
        shared = tuple(a % input.ndim for a in self.shared_axes)
        mask_shape = tuple(1 if a in shared else s
                           for a, s in enumerate(mask_shape))
        counter = call_counter("dropout_counter")
        mask = pt.lt(uniform(mask_shape, self.seed, counter,
                             dtype=input.dtype), retain)
        mask = pt.cast(mask, input.dtype)
        if shared:
            mask = pt.specify_broadcastable(mask, *shared)
        return input * mask


dropout = DropoutLayer  # Lasagne's shortcut


def dropout_channels(incoming, *args, **kwargs):
    """Dropout with a mask shared over all axes but the first two.

    Parameters
    ----------
    incoming : Layer or tuple
    *args, **kwargs
        As :class:`DropoutLayer` (without ``shared_axes``).

    Returns
    -------
    DropoutLayer

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> dropout_channels(InputLayer((2, 3, 4, 5))).shared_axes
    (2, 3)
    """
    ndim = len(getattr(incoming, "output_shape", incoming))
    kwargs["shared_axes"] = tuple(range(2, ndim))
    return DropoutLayer(incoming, *args, **kwargs)


spatial_dropout = dropout_channels  # Lasagne's alias


def dropout_locations(incoming, *args, **kwargs):
    """Dropout with a mask shared over the second axis: whole locations
    (all channels of a position) are dropped.

    Parameters
    ----------
    incoming : Layer or tuple
    *args, **kwargs
        As :class:`DropoutLayer` (without ``shared_axes``).

    Returns
    -------
    DropoutLayer

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> dropout_locations(InputLayer((2, 3, 4, 5))).shared_axes
    (1,)
    """
    kwargs["shared_axes"] = (1,)
    return DropoutLayer(incoming, *args, **kwargs)


class GaussianNoiseLayer(Layer):
    """Add zero-mean Gaussian noise during training.

    Parameters
    ----------
    incoming : Layer or tuple
    sigma : float
        Standard deviation of the noise.
    seed : int, optional

    Examples
    --------
    >>> from indrnn.lasagne.layers import InputLayer
    >>> GaussianNoiseLayer(InputLayer((None, 3)), sigma=0.5).sigma
    0.5
    """

    def __init__(self, incoming, sigma=0.1, seed=None, **kwargs):
        super().__init__(incoming, **kwargs)
        self.sigma = sigma
        if seed is None:
            seed = int(lasagne_random.get_rng().randint(1, 2147462579))
        self.seed = seed

    def get_output_for(self, input, deterministic=False, **kwargs):
        if deterministic or self.sigma == 0:
            return input
        counter = call_counter("noise_counter")
        shape = tuple(input.shape[i] for i in range(input.ndim))
        # Box-Muller from two independent uniform draws
        u1 = uniform(shape, self.seed, 2 * counter, dtype="float64")
        u2 = uniform(shape, self.seed, 2 * counter + 1, dtype="float64")
        normal = pt.sqrt(-2 * pt.log1p(-u1)) * pt.cos(2 * np.pi * u2)
        return input + pt.cast(self.sigma * normal, input.dtype)
