"""
Readers of the data sets the experiments train on.

One module per data set; import the one you need, e.g.
``from indrnn.data import mnist``.
"""
