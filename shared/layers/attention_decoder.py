"""The attention decoder: a GRU or LSTM that attends over a memory at every step."""

import keras
import tensorflow as tf
from keras import ops

from shared.layers.attention import make_attention

CELLS = {"gru": keras.layers.GRUCell, "lstm": keras.layers.LSTMCell}
LAYERS = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}


@keras.saving.register_keras_serializable(package="shared")
class AttentionDecoder(keras.layers.Layer):
    """GRU or LSTM decoder with Bahdanau or Luong attention and input feeding.

    One step (`step`) is the whole decoder; the searches of `shared.decoding` call it once per
    token. Training (teacher forcing) runs it over the whole target in one of two ways:

    - step-wise (`parallel=False`): `step` in a `tf.scan`, token by token. Any attention and
      input feeding; but no fused kernel, so a GPU runs hundreds of small ops per token.
    - parallel (`parallel=True`): the recurrent layer (`keras.layers.GRU`/`LSTM`) runs over
      the whole target in one call (the cuDNN kernel on a GPU, one fused loop on CPU), then
      every step attends at once. Possible because its steps attend *after* the recurrence
      (Luong order, with either score) and feed nothing back: no input feeding. `step` then
      computes exactly what one time step of this does, on the same weights.

    - Luong order: `h_t = RNN([y_t; a_{t-1}], h_{t-1})`, attend with `h_t` (always in parallel).
    - Bahdanau order (`attention="bahdanau"`, step-wise): attend with `h_{t-1}`,
      `h_t = RNN([y_t; c_t; a_{t-1}], h_{t-1})` (with an LSTM cell and no input feeding this
      is Show, Attend and Tell's decoder).
    In both, the attentional vector `a_t = tanh(W [h_t; c_t])` feeds the output layer and,
    with `input_feeding`, the next step.

    Args:
        units: int. Cell units and size of the attentional vector.
        attention: `"luong"` or `"bahdanau"`.
        attention_units: int. Hidden size of Bahdanau scores (unused by Luong).
        input_feeding: bool. Feed `a_{t-1}` into step `t` (Luong et al., 2015).
        cell: `"gru"` or `"lstm"`.
        l2: float. L2 penalty on the cell's input and recurrent kernels.
        parallel: bool. Run the recurrent layer over the whole target at once (needs
            `input_feeding=False`; attention scores with `attention`, after the recurrence).
        context_layer: bool. With `parallel`: a second recurrent layer over `[h_t; c_t]`
            after the attention, whose state `h'_t` replaces `h_t` in `a_t`. It remembers
            what was attended at earlier steps (what input feeding gives a step-wise
            decoder) and still runs over the whole target at once.

    Call arguments:
        inputs: float `[batch, time, features]`, embedded target tokens (shifted right).
        memory: float `[batch, steps, memory_dim]`, encoder outputs or image regions.
        initial_state: float `[batch, units]`; an LSTM also takes `[h, c]` (else `c` = 0).
        memory_mask: optional bool `[batch, steps]`, `False` on source padding.

    Returns:
        `(outputs [batch, time, units], weights [batch, time, steps])`: attentional vectors and
        attention weights.
    """

    def __init__(
        self,
        units,
        attention="luong",
        attention_units=128,
        input_feeding=True,
        cell="gru",
        l2=0.0,
        parallel=False,
        context_layer=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if parallel and input_feeding:
            raise ValueError("a parallel decoder feeds nothing back: pass input_feeding=False")
        if context_layer and not parallel:
            raise ValueError("context_layer is the parallel decoder's: pass parallel=True")
        self.units = units
        self.attention_kind = attention
        self.attention_units = attention_units
        self.input_feeding = input_feeding
        self.cell_kind = cell
        self.l2 = l2
        self.parallel = parallel
        self.context_layer = context_layer
        regularizer = keras.regularizers.L2(l2) if l2 else None
        dtype = self.dtype_policy
        common = dict(
            kernel_regularizer=regularizer, recurrent_regularizer=regularizer, dtype=dtype
        )
        if parallel:  # the layer owns the cell; `step` calls the layer's cell
            self.rnn = LAYERS[cell](units, return_sequences=True, name=cell, **common)
            if context_layer:
                self.context_rnn = LAYERS[cell](
                    units, return_sequences=True, name=f"context_{cell}", **common
                )
        else:
            self.cell = CELLS[cell](units, name=f"{cell}_cell", **common)
        self.attention = make_attention(attention, attention_units, dtype=dtype)
        self.combine = keras.layers.Dense(
            units, activation="tanh", use_bias=False, dtype=dtype, name="combine"
        )

    def build(self, inputs_shape, memory_shape, initial_state_shape=None, memory_mask_shape=None):
        batch, features, memory_dim = inputs_shape[0], inputs_shape[-1], memory_shape[-1]
        cell_inputs = features + (self.units if self.input_feeding else 0)
        if self._attends_first:
            cell_inputs += memory_dim
        if self.parallel:
            self.rnn.build((batch, None, cell_inputs))
            if self.context_layer:
                self.context_rnn.build((batch, None, self.units + memory_dim))
        else:
            self.cell.build((batch, cell_inputs))
        self.attention.build((batch, self.units), memory_shape)
        self.combine.build((batch, self.units + memory_dim))

    @property
    def _attends_first(self) -> bool:
        """Bahdanau order: attend with the previous state (step-wise only)."""
        return self.attention_kind == "bahdanau" and not self.parallel

    @property
    def _cell(self) -> keras.layers.Layer:
        return self.rnn.cell if self.parallel else self.cell

    def prepare(self, memory):
        """Attention keys of `memory`, computed once per source."""
        return self.attention.prepare(memory)

    def initial_states(self, initial_state):
        """`(cell state, a)`: the cell's state (`h`, or `[h, c]`) and a zero attentional vector.

        `initial_state` is `h` (an LSTM's `c` starts at zero) or, for an LSTM, `[h, c]`.
        With `context_layer`, the cell state is a pair, one per layer, both starting there.
        """
        if self.cell_kind == "lstm":
            if not isinstance(initial_state, (list, tuple)):
                initial_state = [initial_state, ops.zeros_like(initial_state)]
            state = list(initial_state)
        else:
            state = initial_state
        h = self._query(state)
        feed = ops.zeros((ops.shape(h)[0], self.units), dtype=h.dtype)
        return ((state, state) if self.context_layer else state), feed

    def step(self, inputs, states, memory, keys, memory_mask=None):
        """One token: `inputs [batch, features]` -> `(output, new states, weights)`."""
        state, feed = states
        if self.context_layer:
            state, upper = state
        extra = [feed] if self.input_feeding else []
        if self._attends_first:
            context, weights = self.attention(
                self._query(state), memory, keys, memory_mask=memory_mask
            )
            _, state = self._cell(ops.concatenate([inputs, context, *extra], -1), state)
            query = self._query(state)
        else:
            _, state = self._cell(ops.concatenate([inputs, *extra], -1), state)
            query = self._query(state)
            context, weights = self.attention(query, memory, keys, memory_mask=memory_mask)
        if self.context_layer:
            _, upper = self.context_rnn.cell(ops.concatenate([query, context], -1), upper)
            state, query = (state, upper), self._query(upper)
        output = self.combine(ops.concatenate([query, context], -1))
        return output, (state, output), weights

    def _query(self, state):
        """The cell's output `h`, which attends and feeds the output layer."""
        return state[0] if self.cell_kind == "lstm" else state

    def call(self, inputs, memory, initial_state, memory_mask=None):
        keys = self.prepare(memory)
        states = self.initial_states(initial_state)
        if self.parallel:
            state = states[0][0] if self.context_layer else states[0]
            state = state if self.cell_kind == "lstm" else [state]
            query = self.rnn(inputs, initial_state=state)  # [batch, time, units]
            context, weights = self.attention(query, memory, keys, memory_mask=memory_mask)
            if self.context_layer:
                query = self.context_rnn(ops.concatenate([query, context], -1), initial_state=state)
            return self.combine(ops.concatenate([query, context], -1)), weights
        no_weights = ops.zeros((ops.shape(memory)[0], ops.shape(memory)[1]))
        # The scan carries what `step` returns, (output, states, weights), and stacks it.
        # tf.scan, not keras.ops.scan: Keras 3.15's TF scan gives each stacked output its
        # carry's shape (here [batch, units] for the [batch, steps] weights) and fails.
        outputs, _, weights = tf.scan(
            lambda carry, token: self.step(token, carry[1], memory, keys, memory_mask),
            tf.transpose(inputs, [1, 0, 2]),
            initializer=(states[1], states, no_weights),
        )
        return tf.transpose(outputs, [1, 0, 2]), tf.transpose(weights, [1, 0, 2])

    def compute_output_shape(self, inputs_shape, memory_shape, *args):
        return (
            (inputs_shape[0], inputs_shape[1], self.units),
            (inputs_shape[0], inputs_shape[1], memory_shape[1]),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            attention=self.attention_kind,
            attention_units=self.attention_units,
            input_feeding=self.input_feeding,
            cell=self.cell_kind,
            l2=self.l2,
            parallel=self.parallel,
            context_layer=self.context_layer,
        )
        return config
