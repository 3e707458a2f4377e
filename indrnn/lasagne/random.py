"""A module-wide random number generator (Lasagne's ``lasagne.random``).

All random draws of the layer library (weight initializers in
:mod:`indrnn.lasagne.init`, the seeds of symbolic random streams in noise
layers) come from the generator returned by :func:`get_rng`. As in Lasagne
the default is the global :mod:`numpy.random` module itself, so seeding with
``np.random.seed(s)`` works, and so does replacing it::

    lasagne.random.set_rng(np.random.RandomState(s))
"""
import numpy as np

__all__ = [
    "get_rng",
    "set_rng",
]

# Lasagne uses the numpy.random module itself as the default generator, so
# that np.random.seed() controls the initialisation of networks.
_rng = np.random


def get_rng():
    """Get the package-level random number generator.

    Returns
    -------
    numpy.random.RandomState or module
        The generator set with :func:`set_rng`; the :mod:`numpy.random`
        module when none was set.

    Examples
    --------
    >>> rng = get_rng()
    >>> rng.uniform(size=3).shape
    (3,)
    """
    return _rng


def set_rng(new_rng):
    """Set the package-level random number generator.

    Parameters
    ----------
    new_rng : numpy.random.RandomState or module
        The new generator; anything with numpy's ``RandomState`` methods
        (``uniform``, ``normal``, ``shuffle``, ``randint``, ...).

    Examples
    --------
    >>> import numpy as np
    >>> old = get_rng()
    >>> set_rng(np.random.RandomState(42))
    >>> a = get_rng().normal()
    >>> set_rng(np.random.RandomState(42))
    >>> a == get_rng().normal()
    True
    >>> set_rng(old)
    """
    global _rng
    _rng = new_rng
