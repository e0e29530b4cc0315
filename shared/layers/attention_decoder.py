"""The attention decoder: a GRU or LSTM cell that attends over a memory at every step."""

import keras
import tensorflow as tf
from keras import ops

from shared.layers.attention import make_attention

CELLS = {"gru": keras.layers.GRUCell, "lstm": keras.layers.LSTMCell}


@keras.saving.register_keras_serializable(package="shared")
class AttentionDecoder(keras.layers.Layer):
    """GRU or LSTM decoder with Bahdanau or Luong attention and input feeding.

    One step (`step`) is the whole decoder; training runs it over the target with `tf.scan`
    (teacher forcing) and the searches of `shared.decoding` call it once per token, so both
    use exactly the same computation.

    - Luong: `h_t = RNN([y_t; a_{t-1}], h_{t-1})`, attend with `h_t`.
    - Bahdanau: attend with `h_{t-1}`, `h_t = RNN([y_t; c_t; a_{t-1}], h_{t-1})` (with an
      LSTM cell and no input feeding this is Show, Attend and Tell's decoder).
    In both, the attentional vector `a_t = tanh(W [h_t; c_t])` feeds the output layer and,
    with `input_feeding`, the next step.

    Args:
        units: int. Cell units and size of the attentional vector.
        attention: `"luong"` or `"bahdanau"`.
        attention_units: int. Hidden size of Bahdanau scores (unused by Luong).
        input_feeding: bool. Feed `a_{t-1}` into step `t` (Luong et al., 2015).
        cell: `"gru"` or `"lstm"`.
        l2: float. L2 penalty on the cell's input and recurrent kernels.

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
        **kwargs,
    ):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.units = units
        self.attention_kind = attention
        self.attention_units = attention_units
        self.input_feeding = input_feeding
        self.cell_kind = cell
        self.l2 = l2
        regularizer = keras.regularizers.L2(l2) if l2 else None
        self.cell = CELLS[cell](
            units,
            kernel_regularizer=regularizer,
            recurrent_regularizer=regularizer,
            name=f"{cell}_cell",
        )
        self.attention = make_attention(attention, attention_units)
        self.combine = keras.layers.Dense(units, activation="tanh", use_bias=False, name="combine")

    def build(self, inputs_shape, memory_shape, initial_state_shape=None, memory_mask_shape=None):
        batch, features, memory_dim = inputs_shape[0], inputs_shape[-1], memory_shape[-1]
        cell_inputs = features + (self.units if self.input_feeding else 0)
        if self.attention_kind == "bahdanau":
            cell_inputs += memory_dim
        self.cell.build((batch, cell_inputs))
        self.attention.build((batch, self.units), memory_shape)
        self.combine.build((batch, self.units + memory_dim))

    def prepare(self, memory):
        """Attention keys of `memory`, computed once per source."""
        return self.attention.prepare(memory)

    def initial_states(self, initial_state):
        """`(cell state, a)`: the cell's state (`h`, or `[h, c]`) and a zero attentional vector.

        `initial_state` is `h` (an LSTM's `c` starts at zero) or, for an LSTM, `[h, c]`.
        """
        if self.cell_kind == "lstm":
            if not isinstance(initial_state, (list, tuple)):
                initial_state = [initial_state, ops.zeros_like(initial_state)]
            state = list(initial_state)
        else:
            state = initial_state
        h = state[0] if self.cell_kind == "lstm" else state
        return state, ops.zeros((ops.shape(h)[0], self.units), dtype=h.dtype)

    def step(self, inputs, states, memory, keys, memory_mask=None):
        """One token: `inputs [batch, features]` -> `(output, new states, weights)`."""
        state, feed = states
        extra = [feed] if self.input_feeding else []
        if self.attention_kind == "bahdanau":
            context, weights = self.attention(
                self._query(state), memory, keys, memory_mask=memory_mask
            )
            _, state = self.cell(ops.concatenate([inputs, context, *extra], -1), state)
            query = self._query(state)
        else:
            _, state = self.cell(ops.concatenate([inputs, *extra], -1), state)
            query = self._query(state)
            context, weights = self.attention(query, memory, keys, memory_mask=memory_mask)
        output = self.combine(ops.concatenate([query, context], -1))
        return output, (state, output), weights

    def _query(self, state):
        """The cell's output `h`, which attends and feeds the output layer."""
        return state[0] if self.cell_kind == "lstm" else state

    def call(self, inputs, memory, initial_state, memory_mask=None):
        keys = self.prepare(memory)
        states = self.initial_states(initial_state)
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
        )
        return config
