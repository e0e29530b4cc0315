import keras

_CELLS = {
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
    "simple_rnn": keras.layers.SimpleRNN,
}


@keras.saving.register_keras_serializable(package="shared")
class RecurrentStack(keras.layers.Layer):
    """Stacked, optionally bidirectional recurrent layers (LSTM, GRU or SimpleRNN).

    Every layer but the last returns full sequences; the last returns sequences or only its
    final output, as `return_sequences` says. Regularization is a float `l2` applied to the input
    and recurrent kernels, so the config stays plain JSON.

    Args:
        units: int. Units per layer and direction.
        cell: `"lstm"`, `"gru"` or `"simple_rnn"`.
        num_layers: int. Number of stacked layers.
        bidirectional: bool. Wrap each layer in `keras.layers.Bidirectional`.
        merge_mode: how the two directions combine: `"concat"`, `"sum"`, `"mul"` or `"ave"`.
        dropout: float. Dropout on each layer's inputs.
        recurrent_dropout: float. Dropout on the recurrent state. Any value above 0 rules out
            the fused cuDNN kernel on GPU (plain `dropout` does not).
        l2: float. L2 penalty on input and recurrent kernels; 0 disables it.
        kernel_initializer: initializer name for input kernels (`"glorot_uniform"`, `"he_normal"`).
        recurrent_initializer: initializer name for recurrent kernels (`"orthogonal"`).
        activation: `"tanh"` or `"relu"`.
        return_sequences: bool. Return every time step of the last layer, not only the last one.

    Call arguments:
        inputs: float tensor `[batch, time, features]`.
        mask: optional bool tensor `[batch, time]`; `True` marks real steps. Padded steps leave
            the state unchanged, so a padded batch gives the outputs of the unpadded sequences.
        training: bool, enables dropout.

    Masking: consumes the incoming mask and passes it to every recurrent layer. With
    `return_sequences=True` the same mask is returned for the next layer; otherwise the time
    axis is gone and no mask is returned.

    Example:
    >>> x = keras.layers.Embedding(100, 8, mask_zero=True)(keras.Input((None,), dtype="int32"))
    >>> y = RecurrentStack(16, cell="gru", num_layers=2, bidirectional=True)(x)  # [batch, 32]
    """

    def __init__(
        self,
        units,
        cell="lstm",
        num_layers=1,
        bidirectional=False,
        merge_mode="concat",
        dropout=0.0,
        recurrent_dropout=0.0,
        l2=0.0,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        activation="tanh",
        return_sequences=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if cell not in _CELLS:
            raise ValueError(f"cell must be one of {sorted(_CELLS)}, got {cell!r}")
        self.units = units
        self.cell = cell
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.merge_mode = merge_mode
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.l2 = l2
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.activation = activation
        self.return_sequences = return_sequences
        self.supports_masking = True
        # `Bidirectional` copies the layer it wraps through Keras serialization, which inside
        # `load_model` records objects by `id()`: a wrapped layer freed after its copy lets the
        # next one reuse its id and be taken for it (two wrappers sharing one direction, or
        # both directions forward). The originals stay alive, untracked, with this layer.
        wrapped = []
        self.recurrent_layers = [self._make_layer(i, wrapped) for i in range(num_layers)]
        object.__setattr__(self, "_wrapped_originals", tuple(wrapped))

    def _make_layer(self, index, wrapped):
        regularizer = keras.regularizers.L2(self.l2) if self.l2 > 0 else None
        last = index == self.num_layers - 1
        layer = _CELLS[self.cell](
            self.units,
            activation=self.activation,
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            kernel_initializer=self.kernel_initializer,
            recurrent_initializer=self.recurrent_initializer,
            kernel_regularizer=regularizer,
            recurrent_regularizer=regularizer,
            return_sequences=self.return_sequences or not last,
            dtype=self.dtype_policy,
            name=f"{self.cell}_{index}",
        )
        if self.bidirectional:
            wrapped.append(layer)
            layer = keras.layers.Bidirectional(
                layer,
                merge_mode=self.merge_mode,
                dtype=self.dtype_policy,
                name=f"bidirectional_{index}",
            )
        return layer

    def build(self, input_shape):
        shape = input_shape
        for layer in self.recurrent_layers:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, inputs, mask=None, training=None):
        outputs = inputs
        for layer in self.recurrent_layers:
            outputs = layer(outputs, mask=mask, training=training)
        return outputs

    def compute_mask(self, inputs, mask=None):
        return mask if self.return_sequences else None

    def compute_output_shape(self, input_shape):
        shape = input_shape
        for layer in self.recurrent_layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "cell": self.cell,
                "num_layers": self.num_layers,
                "bidirectional": self.bidirectional,
                "merge_mode": self.merge_mode,
                "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout,
                "l2": self.l2,
                "kernel_initializer": self.kernel_initializer,
                "recurrent_initializer": self.recurrent_initializer,
                "activation": self.activation,
                "return_sequences": self.return_sequences,
            }
        )
        return config
