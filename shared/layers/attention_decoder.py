"""The attention decoder: a GRU cell that attends over the encoder outputs at every step."""

import keras
import tensorflow as tf
from keras import ops

from shared.layers.attention import make_attention


@keras.saving.register_keras_serializable(package="shared")
class AttentionDecoder(keras.layers.Layer):
    """GRU decoder with Bahdanau or Luong attention and input feeding.

    One step (`step`) is the whole decoder; training runs it over the target with `tf.scan`
    (teacher forcing) and the searches of `shared.decoding` call it once per token, so both
    use exactly the same computation.

    - Luong: `h_t = GRU([y_t; a_{t-1}], h_{t-1})`, attend with `h_t`.
    - Bahdanau: attend with `h_{t-1}`, `h_t = GRU([y_t; c_t; a_{t-1}], h_{t-1})`.
    In both, the attentional vector `a_t = tanh(W [h_t; c_t])` feeds the output layer and,
    with `input_feeding`, the next step.

    Args:
        units: int. GRU units and size of the attentional vector.
        attention: `"luong"` or `"bahdanau"`.
        attention_units: int. Hidden size of Bahdanau scores (unused by Luong).
        input_feeding: bool. Feed `a_{t-1}` into step `t` (Luong et al., 2015).

    Call arguments:
        inputs: float `[batch, time, features]`, embedded target tokens (shifted right).
        memory: float `[batch, steps, memory_dim]`, encoder outputs.
        initial_state: float `[batch, units]`.
        memory_mask: optional bool `[batch, steps]`, `False` on source padding.

    Returns:
        `(outputs [batch, time, units], weights [batch, time, steps])`: attentional vectors and
        attention weights.
    """

    def __init__(self, units, attention="luong", attention_units=128, input_feeding=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.attention_kind = attention
        self.attention_units = attention_units
        self.input_feeding = input_feeding
        self.cell = keras.layers.GRUCell(units, name="gru_cell")
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
        """`(h, a)`: the decoder state and a zero attentional vector."""
        return initial_state, ops.zeros((ops.shape(initial_state)[0], self.units))

    def step(self, inputs, states, memory, keys, memory_mask=None):
        """One token: `inputs [batch, features]` -> `(output, new states, weights)`."""
        state, feed = states
        extra = [feed] if self.input_feeding else []
        if self.attention_kind == "bahdanau":
            context, weights = self.attention(state, memory, keys, memory_mask)
            state, _ = self.cell(ops.concatenate([inputs, context, *extra], -1), state)
        else:
            state, _ = self.cell(ops.concatenate([inputs, *extra], -1), state)
            context, weights = self.attention(state, memory, keys, memory_mask)
        output = self.combine(ops.concatenate([state, context], -1))
        return output, (state, output), weights

    def call(self, inputs, memory, initial_state, memory_mask=None):
        keys = self.prepare(memory)
        states = self.initial_states(initial_state)
        no_weights = ops.zeros((ops.shape(memory)[0], ops.shape(memory)[1]))
        # The scan carries what `step` returns, (output, states, weights), and stacks it.
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
        )
        return config


# Models saved before the decoder moved here name it by its old package.
keras.saving.get_custom_objects().setdefault("translation>AttentionDecoder", AttentionDecoder)
