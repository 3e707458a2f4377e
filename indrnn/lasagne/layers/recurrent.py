"""Recurrent layers: :class:`CustomRecurrentLayer`, :class:`RecurrentLayer`,
:class:`LSTMLayer` and :class:`GRULayer` with :class:`Gate`.

Inputs are batch-first ``(batch, time, features...)``; the recurrence runs
time-first through :func:`pytensor.scan` (or, with ``unroll_scan=True``,
through :func:`indrnn.lasagne.utils.unroll_scan`).
"""
import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.gradient import grad_clip

from .. import init, nonlinearities
from ..utils import unroll_scan as _unroll_scan
from . import helper
from .base import Layer, MergeLayer
from .dense import DenseLayer
from .input import InputLayer

__all__ = [
    "CustomRecurrentLayer",
    "RecurrentLayer",
    "Gate",
    "LSTMLayer",
    "GRULayer",
    "run_recurrence",
    "batch_first_output",
    "repeat_initial_state",
]


def repeat_initial_state(init_param, num_batch):
    """Repeat a ``(1, ...)`` initial-state parameter over the batch.

    Written as ``dot(ones((num_batch, 1)), init)`` as Lasagne does, so the
    gradient flows to a learned initial state in the same way.

    Parameters
    ----------
    init_param : TensorVariable
        Shape ``(1, units...)``.
    num_batch : scalar

    Returns
    -------
    TensorVariable
        Shape ``(num_batch, units...)``.

    Examples
    --------
    >>> h = pytensor.shared(np.ones((1, 3)))
    >>> repeat_initial_state(h, 2).eval().shape
    (2, 3)
    """
    dot_dims = list(range(1, init_param.ndim - 1)) + [0, init_param.ndim - 1]
    ones = pt.ones((num_batch, 1), dtype=init_param.dtype)
    return pt.dot(ones, init_param.dimshuffle(dot_dims))


def run_recurrence(step, sequences, outputs_info, non_sequences,
                   backwards=False, unroll=False, n_steps=None,
                   gradient_steps=-1):
    """Run a step function over time-first sequences.

    Parameters
    ----------
    step : callable
        ``step(*seq_slices, *previous_states, *non_sequences)``.
    sequences : list of TensorVariable
        Time-first.
    outputs_info : list of TensorVariable
        Initial states.
    non_sequences : list of Variable
        Passed to every step (scan runs in strict mode).
    backwards : bool
        Process the sequence from the end; outputs stay in processing
        order (as Lasagne's layers expect).
    unroll : bool
        Unroll into a plain graph (needs ``n_steps``).
    n_steps : int, optional
        Known sequence length, required when unrolling.
    gradient_steps : int
        Truncated back-propagation length; -1 for full.

    Returns
    -------
    TensorVariable or list of TensorVariable
        States at every step, stacked on axis 0.

    Examples
    --------
    >>> x = pt.matrix('x')
    >>> h = run_recurrence(lambda x_t, h: h + x_t, [x], [pt.zeros((2,))], [])
    >>> h.eval({x: np.ones((3, 2))})[-1].tolist()
    [3.0, 3.0]
    """
    if unroll:
        if n_steps is None:
            raise ValueError("Input sequence length cannot be specified as "
                             "None when unroll_scan is True")
        out = _unroll_scan(fn=step, sequences=sequences,
                           outputs_info=outputs_info,
                           non_sequences=non_sequences, n_steps=n_steps,
                           go_backwards=backwards)
    else:
        out = pytensor.scan(fn=step, sequences=sequences,
                            outputs_info=outputs_info,
                            non_sequences=non_sequences,
                            go_backwards=backwards,
                            truncate_gradient=gradient_steps,
                            strict=True, return_updates=False)
    if isinstance(out, (list, tuple)) and len(out) == 1:
        return out[0]
    return out


def batch_first_output(hid_out, only_return_final, backwards):
    """Turn the time-first states of a recurrence into a layer's output.

    Parameters
    ----------
    hid_out : TensorVariable
        ``(time, batch, units...)`` in processing order.
    only_return_final : bool
        Return the state after the last processed step only.
    backwards : bool
        Whether the sequence was processed from its end; the output is
        then reversed so that it lines up with the input.

    Returns
    -------
    TensorVariable
        ``(batch, units...)`` or ``(batch, time, units...)``.

    Examples
    --------
    >>> h = pt.as_tensor(np.arange(6.).reshape(3, 2, 1))
    >>> batch_first_output(h, False, True).eval()[0, :, 0].tolist()
    [4.0, 2.0, 0.0]
    """
    if only_return_final:
        return hid_out[-1]
    hid_out = hid_out.dimshuffle(1, 0, *range(2, hid_out.ndim))
    if backwards:
        hid_out = hid_out[:, ::-1]
    return hid_out


def _clip_gradient(x, clipping):
    """Identity forward; the gradient is clipped to [-clipping, clipping]."""
    if clipping:
        return grad_clip(x, -clipping, clipping)
    return x


def _recurrent_incomings(incoming, mask_input, hid_init, cell_init=None):
    """Incoming list of a recurrent MergeLayer and the indices of the
    optional mask / initial-state inputs (-1 when absent)."""
    incomings = [incoming]
    idx = {"mask": -1, "hid_init": -1, "cell_init": -1}
    if mask_input is not None:
        incomings.append(mask_input)
        idx["mask"] = len(incomings) - 1
    if isinstance(hid_init, Layer):
        incomings.append(hid_init)
        idx["hid_init"] = len(incomings) - 1
    if isinstance(cell_init, Layer):
        incomings.append(cell_init)
        idx["cell_init"] = len(incomings) - 1
    return incomings, idx


def _input_layers_of(layer):
    return [l for l in helper.get_all_layers(layer)
            if isinstance(l, InputLayer)]


class CustomRecurrentLayer(MergeLayer):
    """A recurrent layer with arbitrary input-to-hidden and hidden-to-hidden
    connections: ``h_t = f(hidden_to_hidden(h_{t-1}) + input_to_hidden(x_t))``.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, time, features...)``.
    input_to_hidden : Layer
        Network (with exactly one InputLayer) applied to each time step's
        input.
    hidden_to_hidden : Layer
        Network (with exactly one InputLayer) applied to the previous state.
    nonlinearity : callable or None
    hid_init : initializer, array or Layer
        Initial state; a Layer gives it per batch, otherwise it is a
        ``(1, units)`` parameter (trainable only with ``learn_init``).
    backwards : bool
    learn_init : bool
    gradient_steps : int
    grad_clipping : float
        If non-zero, the gradient of the pre-activation is clipped to
        ``[-grad_clipping, grad_clipping]`` at every step.
    unroll_scan : bool
    precompute_input : bool
        Apply ``input_to_hidden`` to all steps at once before the scan.
    mask_input : Layer, optional
        ``(batch, time)`` mask; where 0, the previous state is carried.
    only_return_final : bool
        Return only the last state ``(batch, units)``.

    Examples
    --------
    >>> l_in = InputLayer((2, 5, 3))
    >>> i2h = DenseLayer(InputLayer((None, 3)), 4, nonlinearity=None)
    >>> h2h = DenseLayer(InputLayer((None, 4)), 4, nonlinearity=None, b=None)
    >>> CustomRecurrentLayer(l_in, i2h, h2h).output_shape
    (2, 5, 4)
    """

    #: axis of the input that is time (1: batch-first)
    time_axis = 1

    def __init__(self, incoming, input_to_hidden, hidden_to_hidden,
                 nonlinearity=nonlinearities.rectify,
                 hid_init=init.Constant(0.), backwards=False,
                 learn_init=False, gradient_steps=-1, grad_clipping=0,
                 unroll_scan=False, precompute_input=True, mask_input=None,
                 only_return_final=False, **kwargs):
        incomings, idx = _recurrent_incomings(incoming, mask_input, hid_init)
        self.mask_incoming_index = idx["mask"]
        self.hid_init_incoming_index = idx["hid_init"]
        super().__init__(incomings, **kwargs)

        for what, net in (("input_to_hidden", input_to_hidden),
                          ("hidden_to_hidden", hidden_to_hidden)):
            n_in = len(_input_layers_of(net))
            if n_in != 1:
                raise ValueError("`%s` must have exactly one InputLayer, but "
                                 "it has %d" % (what, n_in))
        self.input_to_hidden = input_to_hidden
        self.hidden_to_hidden = hidden_to_hidden
        self.learn_init = learn_init
        self.backwards = backwards
        self.gradient_steps = gradient_steps
        self.grad_clipping = grad_clipping
        self.unroll_scan = unroll_scan
        self.precompute_input = precompute_input
        self.only_return_final = only_return_final
        if unroll_scan and gradient_steps != -1:
            raise ValueError(
                "Gradient steps must be -1 when unroll_scan is true.")
        self.nonlinearity = (nonlinearities.identity if nonlinearity is None
                             else nonlinearity)
        self._check_connection_shapes()
        if isinstance(hid_init, Layer):
            self.hid_init = hid_init
        else:
            self.hid_init = self.add_param(
                hid_init, (1,) + hidden_to_hidden.output_shape[1:],
                name="hid_init", trainable=learn_init, regularizable=False)

    def _check_connection_shapes(self):
        input_shape = self.input_shapes[0]
        if self.unroll_scan and input_shape[self.time_axis] is None:
            raise ValueError("Input sequence length cannot be specified as "
                             "None when unroll_scan is True")
        n = (None if input_shape[0] is None or input_shape[1] is None
             else input_shape[0] * input_shape[1])
        i2h_out = helper.get_output_shape(self.input_to_hidden,
                                          (n,) + tuple(input_shape[2:]))
        h2h_in = _input_layers_of(self.hidden_to_hidden)[0].output_shape
        h2h_out = self.hidden_to_hidden.output_shape
        if h2h_in[1:] != h2h_out[1:]:
            raise ValueError("The input shape for `hidden_to_hidden` must be "
                             "equal to the output shape of `hidden_to_hidden` "
                             "in all but the first dimension; got %r and %r"
                             % (h2h_in, h2h_out))
        if i2h_out[1:] != h2h_out[1:]:
            raise ValueError("The output shape of `input_to_hidden` must be "
                             "equal to the output shape of `hidden_to_hidden` "
                             "in all but the first dimension; got %r and %r"
                             % (i2h_out, h2h_out))

    def get_params(self, **tags):
        # own params (hid_init) first, then the two connections' params:
        # this is the order legacy parameter files use
        params = super().get_params(**tags)
        params += helper.get_all_params(self.input_to_hidden, **tags)
        params += helper.get_all_params(self.hidden_to_hidden, **tags)
        return params

    def get_output_shape_for(self, input_shapes):
        input_shape = input_shapes[0]
        units = self.hidden_to_hidden.output_shape[1:]
        if self.only_return_final:
            return (input_shape[0],) + units
        return (input_shape[0], input_shape[1]) + units

    def _optional_inputs(self, inputs):
        mask = (inputs[self.mask_incoming_index]
                if self.mask_incoming_index > 0 else None)
        hid_init = (inputs[self.hid_init_incoming_index]
                    if self.hid_init_incoming_index > 0 else None)
        return mask, hid_init

    def _step_function(self, precomputed, **kwargs):
        """The per-step function ``(x_t[, mask_t], h_prev, *params)``."""
        def step(input_n, hid_previous, *args):
            hid_pre = helper.get_output(self.hidden_to_hidden, hid_previous,
                                        **kwargs)
            if precomputed:
                hid_pre = hid_pre + input_n
            else:
                hid_pre = hid_pre + helper.get_output(
                    self.input_to_hidden, input_n, **kwargs)
            hid_pre = _clip_gradient(hid_pre, self.grad_clipping)
            return self.nonlinearity(hid_pre)

        def step_masked(input_n, mask_n, hid_previous, *args):
            hid = step(input_n, hid_previous, *args)
            return pt.switch(mask_n, hid, hid_previous)
        return step, step_masked

    def recurrence(self, input, mask, hid_init, non_seqs, precomputed,
                   **kwargs):
        """Run the recurrence on time-first, already projected input.

        Parameters
        ----------
        input : TensorVariable
            ``(time, batch, ...)``.
        mask : TensorVariable or None
            ``(time, batch, 1)``.
        hid_init : TensorVariable
            ``(batch, units...)``.
        non_seqs : list of Variable
        precomputed : bool
            Whether ``input`` already went through ``input_to_hidden``.
        **kwargs
            Passed to the connection layers.

        Returns
        -------
        TensorVariable
            ``(time, batch, units...)`` in processing order.
        """
        step, step_masked = self._step_function(precomputed, **kwargs)
        if mask is not None:
            sequences, step_fun = [input, mask], step_masked
        else:
            sequences, step_fun = [input], step
        return run_recurrence(step_fun, sequences, [hid_init], non_seqs,
                              backwards=self.backwards,
                              unroll=self.unroll_scan,
                              n_steps=self.input_shapes[0][self.time_axis],
                              gradient_steps=self.gradient_steps)

    def get_output_for(self, inputs, **kwargs):
        input = inputs[0]
        mask, hid_init = self._optional_inputs(inputs)
        # scan iterates over the first axis: go time-first
        input = input.dimshuffle(1, 0, *range(2, input.ndim))
        seq_len, num_batch = input.shape[0], input.shape[1]
        if self.precompute_input:
            trailing = tuple(input.shape[n] for n in range(2, input.ndim))
            flat = pt.reshape(input, (seq_len * num_batch,) + trailing)
            proj = helper.get_output(self.input_to_hidden, flat, **kwargs)
            trailing = tuple(proj.shape[n] for n in range(1, proj.ndim))
            input = pt.reshape(proj, (seq_len, num_batch) + trailing)
        non_seqs = helper.get_all_params(self.hidden_to_hidden)
        if not self.precompute_input:
            non_seqs += helper.get_all_params(self.input_to_hidden)
        if mask is not None:
            mask = mask.dimshuffle(1, 0, "x")
        if not isinstance(self.hid_init, Layer):
            hid_init = repeat_initial_state(self.hid_init, num_batch)
        hid_out = self.recurrence(input, mask, hid_init, non_seqs,
                                  self.precompute_input, **kwargs)
        return batch_first_output(hid_out, self.only_return_final,
                                  self.backwards)


class RecurrentLayer(CustomRecurrentLayer):
    """A vanilla dense RNN: ``h_t = f(x_t W_in + b + h_{t-1} W_hid)``.

    Parameters
    ----------
    incoming : Layer or tuple
    num_units : int
    W_in_to_hid, W_hid_to_hid, b : initializers
        Parameters named ``input_to_hidden.W``, ``hidden_to_hidden.W``
        and ``input_to_hidden.b``.
    nonlinearity, hid_init, backwards, learn_init, gradient_steps,
    grad_clipping, unroll_scan, precompute_input, mask_input,
    only_return_final
        As :class:`CustomRecurrentLayer`.

    Examples
    --------
    >>> l = RecurrentLayer(InputLayer((2, 5, 3)), 4)
    >>> [p.name for p in l.get_params()]
    ['hid_init', 'input_to_hidden.W', 'input_to_hidden.b', 'hidden_to_hidden.W']
    """

    def __init__(self, incoming, num_units, W_in_to_hid=init.Uniform(),
                 W_hid_to_hid=init.Uniform(), b=init.Constant(0.),
                 nonlinearity=nonlinearities.rectify,
                 hid_init=init.Constant(0.), backwards=False,
                 learn_init=False, gradient_steps=-1, grad_clipping=0,
                 unroll_scan=False, precompute_input=True, mask_input=None,
                 only_return_final=False, **kwargs):
        input_shape = (incoming if isinstance(incoming, tuple)
                       else incoming.output_shape)
        basename, layer_kwargs = _connection_naming(kwargs)
        in_to_hid = DenseLayer(InputLayer((None,) + tuple(input_shape[2:])),
                               num_units, W=W_in_to_hid, b=b,
                               nonlinearity=None,
                               name=basename + "input_to_hidden",
                               **layer_kwargs)
        hid_to_hid = DenseLayer(InputLayer((None, num_units)), num_units,
                                W=W_hid_to_hid, b=None, nonlinearity=None,
                                name=basename + "hidden_to_hidden",
                                **layer_kwargs)
        self.W_in_to_hid = in_to_hid.W
        self.W_hid_to_hid = hid_to_hid.W
        self.b = in_to_hid.b
        super().__init__(
            incoming, in_to_hid, hid_to_hid, nonlinearity=nonlinearity,
            hid_init=hid_init, backwards=backwards, learn_init=learn_init,
            gradient_steps=gradient_steps, grad_clipping=grad_clipping,
            unroll_scan=unroll_scan, precompute_input=precompute_input,
            mask_input=mask_input, only_return_final=only_return_final,
            **kwargs)


def _connection_naming(kwargs):
    """Name prefix for a recurrent layer's inner connection layers, and
    the keyword arguments they get (all but ``name``)."""
    name = kwargs.get("name")
    basename = name + "." if name is not None else ""
    layer_kwargs = dict((k, v) for k, v in kwargs.items() if k != "name")
    return basename, layer_kwargs


class Gate(object):
    """Parameters of one LSTM gate.

    Parameters
    ----------
    W_in : initializer
        Input weights, ``(num_inputs, num_units)``.
    W_hid : initializer
        Recurrent weights, ``(num_units, num_units)``.
    W_cell : initializer or None
        Peephole weights, ``(num_units,)``; None for none.
    b : initializer
        Bias, ``(num_units,)``.
    nonlinearity : callable or None

    Examples
    --------
    >>> Gate(W_cell=None).W_cell is None
    True
    """

    def __init__(self, W_in=init.Normal(0.1), W_hid=init.Normal(0.1),
                 W_cell=init.Normal(0.1), b=init.Constant(0.),
                 nonlinearity=nonlinearities.sigmoid):
        self.W_in = W_in
        self.W_hid = W_hid
        if W_cell is not None:
            self.W_cell = W_cell
        else:
            self.W_cell = None
        self.b = b
        self.nonlinearity = (nonlinearities.identity if nonlinearity is None
                             else nonlinearity)


_GATES = ("ingate", "forgetgate", "cell", "outgate")


def _add_gate_params(layer, gate, name, num_inputs):
    """Add a gate's ``W_in_to_<name>``, ``W_hid_to_<name>`` and
    ``b_<name>`` to ``layer`` (in that order, as Lasagne does) and keep its
    nonlinearity as ``nonlinearity_<name>``."""
    num_units = layer.num_units
    setattr(layer, "W_in_to_" + name, layer.add_param(
        gate.W_in, (num_inputs, num_units), name="W_in_to_" + name))
    setattr(layer, "W_hid_to_" + name, layer.add_param(
        gate.W_hid, (num_units, num_units), name="W_hid_to_" + name))
    setattr(layer, "b_" + name, layer.add_param(
        gate.b, (num_units,), name="b_" + name, regularizable=False))
    setattr(layer, "nonlinearity_" + name, gate.nonlinearity)


def _stacked_gate_params(layer, names):
    """The input weights, recurrent weights and biases of the named gates,
    each concatenated along the units axis (one dot product for all)."""
    def stack(prefix, axis):
        return pt.concatenate([getattr(layer, prefix + name)
                               for name in names], axis=axis)
    return stack("W_in_to_", 1), stack("W_hid_to_", 1), stack("b_", 0)


class _GatedRecurrentLayer(MergeLayer):
    """What :class:`LSTMLayer` and :class:`GRULayer` share: the options,
    the optional mask and initial-state inputs, the output shape and the
    preparation of the input for a time-first recurrence."""

    def __init__(self, incoming, num_units, mask_input, hid_init,
                 cell_init, backwards, learn_init, gradient_steps,
                 grad_clipping, unroll_scan, precompute_input,
                 only_return_final, **kwargs):
        incomings, idx = _recurrent_incomings(incoming, mask_input,
                                              hid_init, cell_init)
        self.mask_incoming_index = idx["mask"]
        self.hid_init_incoming_index = idx["hid_init"]
        self.cell_init_incoming_index = idx["cell_init"]
        super().__init__(incomings, **kwargs)
        self.learn_init = learn_init
        self.num_units = num_units
        self.backwards = backwards
        self.gradient_steps = gradient_steps
        self.grad_clipping = grad_clipping
        self.unroll_scan = unroll_scan
        self.precompute_input = precompute_input
        self.only_return_final = only_return_final
        if unroll_scan and gradient_steps != -1:
            raise ValueError(
                "Gradient steps must be -1 when unroll_scan is true.")
        input_shape = self.input_shapes[0]
        if unroll_scan and input_shape[1] is None:
            raise ValueError("Input sequence length cannot be specified as "
                             "None when unroll_scan is True")
        #: int: features per time step (trailing input axes flattened)
        self.num_inputs = int(np.prod(input_shape[2:]))

    def _add_initial_state(self, name, spec):
        """Keep a Layer as it is; otherwise add a ``(1, num_units)``
        parameter, trainable only with ``learn_init``."""
        if isinstance(spec, Layer):
            setattr(self, name, spec)
        else:
            setattr(self, name, self.add_param(
                spec, (1, self.num_units), name=name,
                trainable=self.learn_init, regularizable=False))

    def _initial_state(self, name, given, num_batch):
        """The initial state ``name`` for a batch: the incoming layer's
        expression ``given``, or the parameter repeated over the batch."""
        if isinstance(getattr(self, name), Layer):
            return given
        return repeat_initial_state(getattr(self, name), num_batch)

    def _split_inputs(self, inputs):
        """``(input, mask, hid_init, cell_init)`` from the incoming
        expressions: the input time-first with its features flattened,
        the optional ones None when absent."""
        def optional(index):
            return inputs[index] if index > 0 else None
        input = inputs[0]
        if input.ndim > 3:
            input = input.flatten(3)
        return (input.dimshuffle(1, 0, 2),
                optional(self.mask_incoming_index),
                optional(self.hid_init_incoming_index),
                optional(self.cell_init_incoming_index))

    def get_output_shape_for(self, input_shapes):
        input_shape = input_shapes[0]
        if self.only_return_final:
            return input_shape[0], self.num_units
        return input_shape[0], input_shape[1], self.num_units

    def _run(self, step, step_masked, input, mask, initial_states,
             non_seqs):
        """Run the recurrence and shape the hidden states as the layer's
        output; the hidden state is the last of the step's states."""
        if mask is not None:
            sequences, step_fun = [input, mask.dimshuffle(1, 0, "x")], \
                step_masked
        else:
            sequences, step_fun = [input], step
        out = run_recurrence(
            step_fun, sequences, initial_states, non_seqs,
            backwards=self.backwards, unroll=self.unroll_scan,
            n_steps=self.input_shapes[0][1],
            gradient_steps=self.gradient_steps)
        hid_out = out[-1] if isinstance(out, (list, tuple)) else out
        return batch_first_output(hid_out, self.only_return_final,
                                  self.backwards)


class LSTMLayer(_GatedRecurrentLayer):
    """A long short-term memory layer (Lasagne's formulation).

    Parameters
    ----------
    incoming : Layer or tuple
        ``(batch, time, features...)``; trailing axes are flattened.
    num_units : int
    ingate, forgetgate, cell, outgate : Gate
    nonlinearity : callable or None
        Applied to the cell before the output gate.
    cell_init, hid_init : initializer, array or Layer
    backwards, learn_init, gradient_steps, unroll_scan, precompute_input,
    mask_input, only_return_final
        As :class:`CustomRecurrentLayer`.
    peepholes : bool
        Add the cell-to-gate (diagonal) connections.
    grad_clipping : float
        Clips the gradient of the stacked gate pre-activations (before the
        peephole terms are added).

    Examples
    --------
    >>> l = LSTMLayer(InputLayer((2, 5, 3)), 4, peepholes=False)
    >>> [p.name for p in l.get_params()][:3]
    ['W_in_to_ingate', 'W_hid_to_ingate', 'b_ingate']
    """

    def __init__(self, incoming, num_units, ingate=Gate(),
                 forgetgate=Gate(),
                 cell=Gate(W_cell=None, nonlinearity=nonlinearities.tanh),
                 outgate=Gate(), nonlinearity=nonlinearities.tanh,
                 cell_init=init.Constant(0.), hid_init=init.Constant(0.),
                 backwards=False, learn_init=False, peepholes=True,
                 gradient_steps=-1, grad_clipping=0, unroll_scan=False,
                 precompute_input=True, mask_input=None,
                 only_return_final=False, **kwargs):
        super().__init__(incoming, num_units, mask_input, hid_init,
                         cell_init, backwards=backwards,
                         learn_init=learn_init,
                         gradient_steps=gradient_steps,
                         grad_clipping=grad_clipping,
                         unroll_scan=unroll_scan,
                         precompute_input=precompute_input,
                         only_return_final=only_return_final, **kwargs)
        self.nonlinearity = (nonlinearities.identity if nonlinearity is None
                             else nonlinearity)
        self.peepholes = peepholes
        gates = dict(zip(_GATES, (ingate, forgetgate, cell, outgate)))
        for name in _GATES:
            _add_gate_params(self, gates[name], name, self.num_inputs)
        if self.peepholes:
            for name in ("ingate", "forgetgate", "outgate"):
                setattr(self, "W_cell_to_" + name, self.add_param(
                    gates[name].W_cell, (num_units,),
                    name="W_cell_to_" + name))
        self._add_initial_state("cell_init", cell_init)
        self._add_initial_state("hid_init", hid_init)

    def get_output_for(self, inputs, **kwargs):
        input, mask, hid_init, cell_init = self._split_inputs(inputs)
        num_batch = input.shape[1]
        W_in_stacked, W_hid_stacked, b_stacked = _stacked_gate_params(
            self, _GATES)
        if self.precompute_input:
            input = pt.dot(input, W_in_stacked) + b_stacked
        n = self.num_units

        def gate_slice(x, k):
            return x[:, k * n:(k + 1) * n]

        def step(input_n, cell_previous, hid_previous, *args):
            if not self.precompute_input:
                input_n = pt.dot(input_n, W_in_stacked) + b_stacked
            gates = input_n + pt.dot(hid_previous, W_hid_stacked)
            gates = _clip_gradient(gates, self.grad_clipping)
            ingate, forgetgate, cell_input, outgate = (
                gate_slice(gates, k) for k in range(4))
            if self.peepholes:
                ingate = ingate + cell_previous * self.W_cell_to_ingate
                forgetgate = (forgetgate
                              + cell_previous * self.W_cell_to_forgetgate)
            ingate = self.nonlinearity_ingate(ingate)
            forgetgate = self.nonlinearity_forgetgate(forgetgate)
            cell_input = self.nonlinearity_cell(cell_input)
            cell = forgetgate * cell_previous + ingate * cell_input
            if self.peepholes:
                outgate = outgate + cell * self.W_cell_to_outgate
            outgate = self.nonlinearity_outgate(outgate)
            hid = outgate * self.nonlinearity(cell)
            return [cell, hid]

        def step_masked(input_n, mask_n, cell_previous, hid_previous, *args):
            cell, hid = step(input_n, cell_previous, hid_previous, *args)
            return [pt.switch(mask_n, cell, cell_previous),
                    pt.switch(mask_n, hid, hid_previous)]

        cell_init = self._initial_state("cell_init", cell_init, num_batch)
        hid_init = self._initial_state("hid_init", hid_init, num_batch)
        non_seqs = [W_hid_stacked]
        if self.peepholes:
            non_seqs += [self.W_cell_to_ingate, self.W_cell_to_forgetgate,
                         self.W_cell_to_outgate]
        if not self.precompute_input:
            non_seqs += [W_in_stacked, b_stacked]
        return self._run(step, step_masked, input, mask,
                         [cell_init, hid_init], non_seqs)


_GRU_GATES = ("resetgate", "updategate", "hidden_update")


class GRULayer(_GatedRecurrentLayer):
    r"""A gated recurrent unit layer (Cho et al., 2014), as Lasagne has it.

    .. math::
        r_t &= \sigma_r(x_t W_{xr} + h_{t-1} W_{hr} + b_r) \\
        u_t &= \sigma_u(x_t W_{xu} + h_{t-1} W_{hu} + b_u) \\
        c_t &= \sigma_c(x_t W_{xc} + r_t \odot (h_{t-1} W_{hc}) + b_c) \\
        h_t &= (1 - u_t) \odot h_{t-1} + u_t \odot c_t

    The reset gate scales ``h_{t-1} W_{hc}`` (not ``h_{t-1}``), so all
    three recurrent products are one dot product.

    Parameters
    ----------
    incoming : Layer or tuple
        ``(batch, time, features...)``; trailing axes are flattened.
    num_units : int
    resetgate, updategate, hidden_update : Gate
        ``W_in``, ``W_hid``, ``b`` and ``nonlinearity`` of :math:`r`,
        :math:`u` and :math:`c` (``W_cell`` is not used).
    hid_init : initializer, array, expression or Layer
        Initial state; a Layer gives it per batch, ``(batch, num_units)``.
    backwards : bool
        Process the sequence from its end; the output is reversed back so
        that it lines up with the input.
    learn_init : bool
        Whether a ``hid_init`` parameter is trainable.
    gradient_steps : int
        Truncated back-propagation length; -1 for full.
    grad_clipping : float
        If non-zero, the gradients flowing into the input projection
        (or the raw input when ``precompute_input`` is False), into
        ``h_{t-1} W_hid`` and into the candidate's pre-activation are
        clipped to ``[-grad_clipping, grad_clipping]`` at every step.
    unroll_scan : bool
        Unroll the recurrence into a plain graph (needs a known length
        and ``gradient_steps=-1``).
    precompute_input : bool
        Project the whole input sequence before the recurrence.
    mask_input : Layer, optional
        ``(batch, time)`` mask; where 0, the previous state is carried.
    only_return_final : bool
        Return only the last state ``(batch, num_units)``.

    Notes
    -----
    Parameters are created in Lasagne's order, which legacy parameter
    files follow: ``W_in_to_updategate``, ``W_hid_to_updategate``,
    ``b_updategate``, the same for ``resetgate`` and ``hidden_update``,
    then ``hid_init``.

    Examples
    --------
    >>> l = GRULayer(InputLayer((2, 5, 3)), 4)
    >>> l.output_shape
    (2, 5, 4)
    >>> [p.name for p in l.get_params()][:3]
    ['W_in_to_updategate', 'W_hid_to_updategate', 'b_updategate']
    """

    def __init__(self, incoming, num_units,
                 resetgate=Gate(W_cell=None),
                 updategate=Gate(W_cell=None),
                 hidden_update=Gate(W_cell=None,
                                    nonlinearity=nonlinearities.tanh),
                 hid_init=init.Constant(0.), backwards=False,
                 learn_init=False, gradient_steps=-1, grad_clipping=0,
                 unroll_scan=False, precompute_input=True, mask_input=None,
                 only_return_final=False, **kwargs):
        super().__init__(incoming, num_units, mask_input, hid_init, None,
                         backwards=backwards, learn_init=learn_init,
                         gradient_steps=gradient_steps,
                         grad_clipping=grad_clipping,
                         unroll_scan=unroll_scan,
                         precompute_input=precompute_input,
                         only_return_final=only_return_final, **kwargs)
        # Lasagne adds the update gate first: the order of legacy files
        for name, gate in (("updategate", updategate),
                           ("resetgate", resetgate),
                           ("hidden_update", hidden_update)):
            _add_gate_params(self, gate, name, self.num_inputs)
        # Lasagne's attribute name for the candidate's nonlinearity
        self.nonlinearity_hid = self.nonlinearity_hidden_update
        self._add_initial_state("hid_init", hid_init)

    def get_output_for(self, inputs, **kwargs):
        input, mask, hid_init, _ = self._split_inputs(inputs)
        num_batch = input.shape[1]
        W_in_stacked, W_hid_stacked, b_stacked = _stacked_gate_params(
            self, _GRU_GATES)
        if self.precompute_input:
            input = pt.dot(input, W_in_stacked) + b_stacked
        n = self.num_units
        clip = self.grad_clipping

        def gate_slice(x, k):
            return x[:, k * n:(k + 1) * n]

        def step(input_n, hid_previous, W_hid, *in_params):
            hid_input = pt.dot(hid_previous, W_hid)
            input_n = _clip_gradient(input_n, clip)
            hid_input = _clip_gradient(hid_input, clip)
            if not self.precompute_input:
                W_in, b = in_params
                input_n = pt.dot(input_n, W_in) + b
            resetgate = self.nonlinearity_resetgate(
                gate_slice(input_n, 0) + gate_slice(hid_input, 0))
            updategate = self.nonlinearity_updategate(
                gate_slice(input_n, 1) + gate_slice(hid_input, 1))
            candidate = (gate_slice(input_n, 2)
                         + resetgate * gate_slice(hid_input, 2))
            candidate = self.nonlinearity_hid(_clip_gradient(candidate, clip))
            return (1 - updategate) * hid_previous + updategate * candidate

        def step_masked(input_n, mask_n, hid_previous, *params):
            hid = step(input_n, hid_previous, *params)
            return pt.switch(mask_n, hid, hid_previous)

        hid_init = self._initial_state("hid_init", hid_init, num_batch)
        non_seqs = [W_hid_stacked]
        if not self.precompute_input:
            non_seqs += [W_in_stacked, b_stacked]
        return self._run(step, step_masked, input, mask, [hid_init],
                         non_seqs)
