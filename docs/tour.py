# Generated from docs/tour.md by tools/export_tour.py: edit the Markdown, then
# run `python tools/export_tour.py` (the tests check the two agree).

# --- block 1
import numpy as np
import pytensor
import pytensor.tensor as pt

import indrnn.lasagne as lasagne
from indrnn.indrnn import use_fused_recurrence
from indrnn.indrnn_onlyrecurrent import IndRNNLayer_onlyrecurrent
from indrnn.ops import indrnn_recurrence

T, B, N = 8, 2, 3          # time steps, sequences in a batch, neurons
floatX = pytensor.config.floatX
x = pt.tensor3("x", dtype=floatX)
print(x, x.type)

# --- block 2
lasagne.random.set_rng(np.random.RandomState(0))
l_in = lasagne.layers.InputLayer((T, B, N))
layer = IndRNNLayer_onlyrecurrent(
    l_in, N, W_hid_to_hid=lasagne.init.Uniform((0.5, 1.0)))
u = layer.W_hid_to_hid
print([p.name for p in layer.get_params()], u.get_value())

h = lasagne.layers.get_output(layer, x)     # (T, B, N), symbolic
print(layer.output_shape)

# --- block 3
pytensor.dprint(h)

# --- block 4
f = pytensor.function([x], h)
pytensor.dprint(f)

rng = np.random.RandomState(1)
x_val = rng.uniform(0.0, 1.0, (T, B, N)).astype(floatX)
h_val = f(x_val)
print(h_val[-1])

# --- block 5
def numpy_indrnn(x_val, u_val):
    h = np.zeros(x_val.shape[1:], dtype=x_val.dtype)
    out = []
    for x_t in x_val:
        h = np.maximum(x_t + u_val * h, 0)
        out.append(h)
    return np.stack(out)

assert np.allclose(h_val, numpy_indrnn(x_val, u.get_value()), rtol=1e-5)

# --- block 6
h0 = pt.zeros((B, N), dtype=floatX)

def step(x_t, h_prev, u):
    return pt.maximum(x_t + u * h_prev, 0)

h_scan = pytensor.scan(step, sequences=x, outputs_info=h0,
                       non_sequences=u, return_updates=False)

# --- block 7
h_fused = indrnn_recurrence(x, u, h0, activation="relu")

with use_fused_recurrence(False):
    layer_scan = IndRNNLayer_onlyrecurrent(l_in, N, W_hid_to_hid=u)
h_layer_scan = lasagne.layers.get_output(layer_scan, x)

# --- block 8
def compiled(h):
    loss = h[-1].sum()
    return pytensor.function([x], [h, pytensor.grad(loss, x)])

def op_names(fn):
    return sorted({type(node.op).__name__
                   for node in fn.maker.fgraph.apply_nodes})

fns = {"scan by hand": compiled(h_scan),
       "layer on scan": compiled(h_layer_scan),
       "fused Op": compiled(h_fused),
       "layer (default)": compiled(h)}
for name, fn in fns.items():
    print("%-16s %3d nodes: %s" % (name, len(fn.maker.fgraph.apply_nodes),
                                   ", ".join(op_names(fn))))

# --- block 9
assert "Scan" in op_names(fns["scan by hand"])
assert "Scan" in op_names(fns["layer on scan"])
assert "IndRNNRecurrence" in op_names(fns["fused Op"])
assert "IndRNNRecurrenceGrad" in op_names(fns["layer (default)"])
assert "Scan" not in op_names(fns["layer (default)"])
assert (len(fns["fused Op"].maker.fgraph.apply_nodes)
        < len(fns["scan by hand"].maker.fgraph.apply_nodes))

pytensor.dprint(fns["scan by hand"])
pytensor.dprint(fns["fused Op"])

# --- block 10
results = {name: fn(x_val) for name, fn in fns.items()}
reference_h, reference_g = results["scan by hand"]
for name, (h_out, g_out) in results.items():
    assert np.allclose(h_out, reference_h, rtol=1e-5), name
    assert np.allclose(g_out, reference_g, rtol=1e-5), name
print("all agree")

# --- block 11
grad_fn = pytensor.function([x], pytensor.grad(h[-1].sum(), x))
g_val = grad_fn(x_val)                       # (T, B, N)
print(np.abs(g_val).mean(axis=1))            # per time step and neuron

# --- block 12
steps = np.arange(T)[:, None]
expected = u.get_value()[None, :] ** (T - 1 - steps)    # (T, N)
assert np.allclose(g_val, expected[:, None, :], rtol=1e-5)

# --- block 13
for n, u_n in enumerate(u.get_value()):
    print("neuron %d: u = %.3f, gradient over %d steps = %.3g"
          % (n, u_n, T - 1, u_n ** (T - 1)))

# --- block 14
from indrnn.compile.linker import graph_source
from indrnn.run.functions import compile_test_fn

test_fn = compile_test_fn([x], [h[-1].sum()])
print(graph_source(test_fn))
assert np.allclose(test_fn(x_val)[0], f(x_val)[-1].sum(), rtol=1e-5)
