"""Learning-rate schedules of the original scripts, with saveable state.

The original scripts use two rules:

- :class:`StepDecay`: the learning rate is multiplied by a factor every so
  many training steps, and the run ends once it falls below a floor
  (adding problem: x0.1 after every 201 reports, stop below 1e-6;
  sequential MNIST: x0.1 every 600,000 batches, stop below 1e-8).
- :class:`PlateauDecay`: after every evaluation, an improvement of the
  monitored figure keeps the parameters as the best; after ``patience``
  evaluations without one the best parameters are restored and the
  learning rate is decayed; the run ends below a floor (Penn Treebank,
  action recognition).

A schedule is called by the training loop with its
:class:`~indrnn.run.loop.TrainState` after every report, may change
``state.learning_rate`` and set ``state.stop``, and has ``state_dict`` /
``load_state_dict`` so that a checkpoint holds it and a resumed run
continues the same schedule.
"""
import numpy as np

__all__ = ["StepDecay", "PlateauDecay"]


class StepDecay:
    """Multiply the learning rate by ``factor`` every ``every`` steps.

    Checked at each report, as the original loops did: when the step count
    has reached the next multiple of ``every``, the rate is multiplied
    (in float32, as the originals' ``np.float32(lr * 0.1)``) and logged;
    once it is below ``stop_below`` the run ends.

    Parameters
    ----------
    every : int
        Steps between decays.
    factor : float
        Multiplier of each decay.
    stop_below : float, optional
        End the run once the rate is below this.

    Examples
    --------
    >>> import types
    >>> decay = StepDecay(every=200, stop_below=1e-5)
    >>> state = types.SimpleNamespace(step=200, stop=False, log=print,
    ...                               learning_rate=np.float32(0.5))
    >>> decay(state)
    learning rate 0.05
    >>> decay.state_dict()
    {'next_decay': 400}
    """

    def __init__(self, every, factor=0.1, stop_below=None):
        if int(every) != every or every < 1:
            raise ValueError("every must be a positive number of steps, "
                             "got %r" % (every,))
        self.every = int(every)
        self.factor = factor
        self.stop_below = stop_below
        self.next_decay = self.every

    def __call__(self, state):
        while state.step >= self.next_decay and not state.stop:
            self.next_decay += self.every
            state.learning_rate = np.float32(state.learning_rate
                                             * self.factor)
            state.log('learning rate', state.learning_rate)
            if self.stop_below is not None \
                    and state.learning_rate < self.stop_below:
                state.stop = True

    def state_dict(self):
        """dict: what a checkpoint keeps (JSON types)."""
        return {'next_decay': self.next_decay}

    def load_state_dict(self, state):
        """Continue from :meth:`state_dict`'s ``state``."""
        self.next_decay = int(state['next_decay'])


class PlateauDecay:
    """Keep the best parameters; after a plateau restore them and decay.

    After each evaluation, :meth:`update` is given the monitored figure:

    - better than the best so far (lower, or higher with ``mode='max'``):
      it becomes the best, the parameters are copied (``snapshot()``) and
      the patience counter resets;
    - else, if the counter already exceeds ``patience``: the learning rate
      is multiplied by ``decay``, the best parameters are restored
      (``restore(copy)``), the counter resets, and the run stops once the
      rate is below ``stop_below``;
    - else the counter grows by one.

    So the first decay comes at the ``patience + 2``-th evaluation in a row
    without improvement, and every ``patience + 2`` such evaluations after
    that. This is the rule of the PTB scripts (``--pThre``, validation
    BPC or perplexity) and of the action-recognition script (patience 10,
    held-out accuracy).

    Parameters
    ----------
    learning_rate : float
        Initial rate (kept as ``numpy.float32``).
    patience : int
        The originals' ``pThre`` / ``patienceThre``.
    decay : float
        Factor of each decay.
    initial_best : float
        Starting best value (the originals' ``lastbpc`` / ``lastacc``).
    stop_below : float
        The run stops once the rate is below it.
    mode : {'min', 'max'}
        Whether lower or higher figures are better.

    Attributes
    ----------
    learning_rate : numpy.float32
    best : float
    best_epoch : int or None
        The evaluation (1, 2, ...) that gave ``best``.
    best_params : list of ndarray or None
    count : int
        The patience counter.
    stop : bool

    Examples
    --------
    >>> s = PlateauDecay(1.0, patience=1, decay=0.5)
    >>> [s.update(v, lambda: v, lambda p: None) for v in (5, 4, 4, 4, 4)]
    ['improved', 'improved', 'waiting', 'waiting', 'decayed']
    >>> float(s.learning_rate), s.best, s.best_epoch
    (0.5, 4, 2)
    """

    def __init__(self, learning_rate, patience, decay, initial_best=100.0,
                 stop_below=1e-6, mode='min'):
        if mode not in ('min', 'max'):
            raise ValueError("mode must be 'min' or 'max', got %r"
                             % (mode,))
        self.learning_rate = np.float32(learning_rate)
        self.patience = patience
        self.decay = decay
        self.best = initial_best
        self.best_epoch = None
        self.best_params = None
        self.count = 0
        self.stop_below = stop_below
        self.mode = mode
        self.stop = False
        self.epoch = 0

    def update(self, value, snapshot, restore):
        """Apply the rule to one evaluation's figure.

        Parameters
        ----------
        value : float
            The monitored figure.
        snapshot : callable
            ``snapshot() -> params``, a copy of all parameter values.
        restore : callable
            ``restore(params)`` sets them back.

        Returns
        -------
        str
            ``'improved'``, ``'decayed'`` or ``'waiting'``.
        """
        self.epoch += 1
        if value < self.best if self.mode == 'min' else value > self.best:
            self.best_params = snapshot()
            self.best = value
            self.best_epoch = self.epoch
            self.count = 0
            return "improved"
        if self.count > self.patience:
            self.learning_rate = np.float32(self.learning_rate * self.decay)
            # The originals restore even if no evaluation ever improved,
            # which fails there (best_para undefined); here nothing is
            # restored.
            if self.best_params is not None:
                restore(self.best_params)
            self.count = 0
            if self.learning_rate < self.stop_below:
                self.stop = True
            return "decayed"
        self.count += 1
        return "waiting"

    def state_dict(self):
        """The schedule's state as JSON-serialisable values.

        The best parameters are left out (arrays: a checkpoint stores them
        as datasets); ``has_best_params`` says whether there are any.

        Returns
        -------
        dict

        Examples
        --------
        >>> s = PlateauDecay(0.5, patience=2, decay=0.2)
        >>> s.update(3.0, lambda: [np.zeros(2)], None)
        'improved'
        >>> t = PlateauDecay(0.5, patience=2, decay=0.2)
        >>> t.load_state_dict(s.state_dict(), s.best_params)
        >>> t.best, t.best_epoch, t.epoch, t.best_params
        (3.0, 1, 1, [array([0., 0.])])
        """
        return {"learning_rate": float(self.learning_rate),
                "best": float(self.best), "best_epoch": self.best_epoch,
                "patience": self.count, "stop": self.stop,
                "epoch": self.epoch,
                "has_best_params": self.best_params is not None}

    def state_arrays(self):
        """dict: the best parameters, ``{'best_params': list of ndarray}``,
        for a checkpoint's arrays (empty while there are none)."""
        if self.best_params is None:
            return {}
        return {"best_params": self.best_params}

    def load_state_dict(self, state, best_params=None):
        """Restore a state from :meth:`state_dict`.

        Parameters
        ----------
        state : dict
            From :meth:`state_dict`.
        best_params : list of numpy.ndarray, optional
            The best parameters (used if ``state['has_best_params']``), as
            :meth:`state_arrays` gave them.
        """
        # float32 values are exact in float64, so the rate comes back
        # bit for bit.
        self.learning_rate = np.float32(state["learning_rate"])
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.count = int(state["patience"])
        self.stop = bool(state["stop"])
        self.epoch = int(state["epoch"])
        self.best_params = (list(best_params)
                            if state["has_best_params"] else None)
