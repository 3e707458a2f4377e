"""Non-linear activation functions for artificial neurons
(Lasagne's ``lasagne.nonlinearities``).

Every function takes a symbolic tensor and returns a symbolic tensor of the
same shape. Python-number constants (leakiness, scales) are applied in the
input's floating-point dtype, as Theano did with ``floatX=float32``, so a
float32 network stays float32 whatever ``pytensor.config.floatX`` is.
"""
import numpy as np
import pytensor.tensor as pt
from pytensor.tensor.special import softmax as _pt_softmax

__all__ = [
    "sigmoid",
    "softmax",
    "tanh",
    "ScaledTanH",
    "ScaledTanh",
    "rectify",
    "LeakyRectify",
    "leaky_rectify",
    "very_leaky_rectify",
    "elu",
    "SELU",
    "selu",
    "softplus",
    "linear",
    "identity",
]


def _const_like(value, x):
    """Return ``value`` in ``x``'s float dtype when it is a plain number.

    PyTensor, like Theano with ``floatX=float64``, would upcast a float32
    tensor multiplied by a Python float such as ``0.01`` to float64; legacy
    Theano ran with ``floatX=float32`` where such constants were float32.
    Symbolic values are returned unchanged.
    """
    dtype = getattr(x, "dtype", None)
    if (isinstance(value, (int, float, np.number)) and dtype is not None
            and str(dtype).startswith("float")):
        return np.asarray(value, dtype=dtype)
    return value


def sigmoid(x):
    """Sigmoid activation function :math:`\\varphi(x) = 1 / (1 + e^{-x})`.

    Parameters
    ----------
    x : float32
        The activation (the summed, weighted input of a neuron).

    Returns
    -------
    float32 in [0, 1]
        The output of the sigmoid function applied to the activation.

    Examples
    --------
    >>> float(sigmoid(pt.constant(0.0)).eval())
    0.5
    """
    return pt.sigmoid(x)


def softmax(x):
    """Softmax activation function
    :math:`\\varphi(\\mathbf{x})_j = e^{x_j} / \\sum_{k=1}^K e^{x_k}`,
    where :math:`K` is the number of neurons in the layer.

    It is applied row-wise: over the last axis.

    Parameters
    ----------
    x : float32
        The activation (the summed, weighted input of a neuron).

    Returns
    -------
    float32 where the sum of the row is 1 and each single value is in [0, 1]
        The output of the softmax function applied to the activation.

    Examples
    --------
    >>> softmax(pt.as_tensor([[0.0, 0.0]])).eval().tolist()
    [[0.5, 0.5]]
    """
    return _pt_softmax(x, axis=-1)


def tanh(x):
    """Tanh activation function :math:`\\varphi(x) = \\tanh(x)`.

    Parameters
    ----------
    x : float32
        The activation (the summed, weighted input of a neuron).

    Returns
    -------
    float32 in [-1, 1]
        The output of the tanh function applied to the activation.

    Examples
    --------
    >>> float(tanh(pt.constant(0.0)).eval())
    0.0
    """
    return pt.tanh(x)


class ScaledTanH(object):
    """Scaled tanh :math:`\\varphi(x) = \\tanh(\\alpha x) \\cdot \\beta`.

    This is a modified tanh function which allows to rescale both the input
    and the output of the activation. With ``scale_in=2/3`` and
    ``scale_out=1.7159`` it is LeCun's recommended tanh, whose output
    variance is about 1 for unit-variance inputs.

    Parameters
    ----------
    scale_in : float32
        The scale parameter :math:`\\alpha` for the input.
    scale_out : float32
        The scale parameter :math:`\\beta` for the output.

    Examples
    --------
    >>> scaled_tanh = ScaledTanH(scale_in=0.5, scale_out=2.27)
    >>> round(float(scaled_tanh(pt.constant(2.0)).eval()), 4)
    1.7288
    """

    def __init__(self, scale_in=1, scale_out=1):
        self.scale_in = scale_in
        self.scale_out = scale_out

    def __call__(self, x):
        """Apply the scaled tanh to the activation ``x``."""
        return (_const_like(self.scale_out, x) *
                pt.tanh(x * _const_like(self.scale_in, x)))


ScaledTanh = ScaledTanH  # alias with alternative capitalization


def rectify(x):
    """Rectify activation function :math:`\\varphi(x) = \\max(0, x)`.

    Computed as ``0.5 * (x + abs(x))``, which is how Theano's
    ``T.nnet.relu`` (used by Lasagne) computes it. Besides being the same
    forward value, this gives Theano's gradient of 0.5 at exactly ``x = 0``
    (``abs`` has gradient ``sign(0) = 0`` there), where ``maximum(x, 0)``
    would give 1.

    Parameters
    ----------
    x : float32
        The activation (the summed, weighted input of a neuron).

    Returns
    -------
    float32
        The output of the rectify function applied to the activation.

    Examples
    --------
    >>> rectify(pt.as_tensor([-1.0, 2.0])).eval().tolist()
    [0.0, 2.0]
    """
    return 0.5 * (x + abs(x))


class LeakyRectify(object):
    """Leaky rectifier :math:`\\varphi(x) = (x > 0)? x : \\alpha \\cdot x`.

    The leaky rectifier was introduced in [1]_. Compared to the standard
    rectifier :func:`rectify`, it has a nonzero gradient for negative input,
    which often helps convergence.

    As Theano's ``T.nnet.relu(x, alpha)`` it is computed as
    ``0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * abs(x)``.

    Parameters
    ----------
    leakiness : float
        Slope for negative input, usually between 0 and 1.
        A leakiness of 0 will lead to the standard rectifier,
        a leakiness of 1 will lead to a linear activation function,
        and any value in between will give a leaky rectifier.

    See Also
    --------
    leaky_rectify : Instance with default leakiness of 0.01, as in [1]_.
    very_leaky_rectify : Instance with high leakiness of 1/3, as in [2]_.

    References
    ----------
    .. [1] Maas et al. (2013): Rectifier Nonlinearities Improve Neural
       Network Acoustic Models.
    .. [2] Graham, Benjamin (2014): Spatially-sparse convolutional neural
       networks, arXiv:1409.6070.

    Examples
    --------
    >>> custom_rectify = LeakyRectify(0.1)
    >>> out = custom_rectify(pt.as_tensor([-1.0, 2.0])).eval()
    >>> [round(v, 6) for v in out.tolist()]
    [-0.1, 2.0]
    """

    def __init__(self, leakiness=0.01):
        self.leakiness = leakiness

    def __call__(self, x):
        """Apply the leaky rectifier to the activation ``x``."""
        alpha = self.leakiness
        if isinstance(alpha, (int, float, np.number)):
            # Theano folds these constants in the input's (float32) dtype.
            alpha = _const_like(alpha, x)
            half = _const_like(0.5, x)
            one = _const_like(1, x)
            f1 = half * (one + alpha)
            f2 = half * (one - alpha)
        else:
            f1 = 0.5 * (1 + alpha)
            f2 = 0.5 * (1 - alpha)
        return f1 * x + f2 * abs(x)


leaky_rectify = LeakyRectify()  # shortcut with default leakiness
leaky_rectify.__doc__ = """leaky_rectify(x)

    Instance of :class:`LeakyRectify` with leakiness :math:`\\alpha=0.01`.
    """

very_leaky_rectify = LeakyRectify(1. / 3)  # shortcut with leakiness 1/3
very_leaky_rectify.__doc__ = """very_leaky_rectify(x)

    Instance of :class:`LeakyRectify` with leakiness :math:`\\alpha=1/3`.
    """


def elu(x):
    """Exponential linear unit :math:`\\varphi(x) = (x > 0) ? x : e^x - 1`.

    The Exponential Linear Unit (ELU) was introduced in [1]_. Compared to
    the linear rectifier :func:`rectify`, it has a mean activation closer to
    zero and nonzero gradient for negative input, which can help
    convergence.

    Parameters
    ----------
    x : float32
        The activation (the summed, weighted input of a neuron).

    Returns
    -------
    float32
        The output of the exponential linear unit for the activation.

    References
    ----------
    .. [1] Djork-Arné Clevert, Thomas Unterthiner, Sepp Hochreiter (2015):
       Fast and Accurate Deep Network Learning by Exponential Linear Units
       (ELUs), http://arxiv.org/abs/1511.07289

    Examples
    --------
    >>> [round(v, 4) for v in elu(pt.as_tensor([-1.0, 2.0])).eval().tolist()]
    [-0.6321, 2.0]
    """
    return pt.switch(x > 0, x, pt.expm1(x))


class SELU(object):
    """Scaled Exponential Linear Unit
    :math:`\\varphi(x)=\\lambda \\left[(x>0) ? x : \\alpha(e^x-1)\\right]`.

    The Scaled Exponential Linear Unit (SELU) was introduced in [1]_
    as an activation function that allows the construction of
    self-normalizing neural networks.

    Parameters
    ----------
    scale : float32
        The scale parameter :math:`\\lambda` for scaling all output.
    scale_neg : float32
        The scale parameter :math:`\\alpha` for scaling output for
        nonpositive argument values.

    See Also
    --------
    selu : Instance with :math:`\\alpha\\approx1.6733,\\lambda\\approx1.0507`
        as used in [1]_.

    References
    ----------
    .. [1] Günter Klambauer et al. (2017):
       Self-Normalizing Neural Networks,
       https://arxiv.org/abs/1706.02515

    Examples
    --------
    >>> SELU(scale=2, scale_neg=3)(pt.as_tensor([1.0])).eval().tolist()
    [2.0]
    """

    def __init__(self, scale=1, scale_neg=1):
        self.scale = scale
        self.scale_neg = scale_neg

    def __call__(self, x):
        """Apply the SELU to the activation ``x``."""
        return _const_like(self.scale, x) * pt.switch(
            x > 0.0, x, _const_like(self.scale_neg, x) * pt.expm1(x))


selu = SELU(scale=1.0507009873554804934193349852946,
            scale_neg=1.6732632423543772848170429916717)
selu.__doc__ = """selu(x)

    Instance of :class:`SELU` with :math:`\\alpha\\approx 1.6733,
    \\lambda\\approx 1.0507`

    This has a stable and attracting fixed point of :math:`\\mu=0`,
    :math:`\\sigma=1` under the assumptions of the
    original paper on self-normalizing neural networks.
    """


def softplus(x):
    """Softplus activation function :math:`\\varphi(x) = \\log(1 + e^x)`.

    Parameters
    ----------
    x : float32
        The activation (the summed, weighted input of a neuron).

    Returns
    -------
    float32
        The output of the softplus function applied to the activation.

    Examples
    --------
    >>> round(float(softplus(pt.constant(0.0)).eval()), 6)
    0.693147
    """
    return pt.softplus(x)


def linear(x):
    """Linear activation function :math:`\\varphi(x) = x`.

    Parameters
    ----------
    x : float32
        The activation (the summed, weighted input of a neuron).

    Returns
    -------
    float32
        The same value passed as input.

    Examples
    --------
    >>> x = pt.vector()
    >>> linear(x) is x
    True
    """
    return x


identity = linear
