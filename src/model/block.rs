//! The forward pass of burn's pre-LN transformer encoder with causal attention, step for step as
//! `burn::nn::transformer::TransformerEncoder::forward` with an autoregressive mask, but through
//! the fused linear layers, layer norms, GELU and causal attention of [`super::fused`]. The
//! modules (and so saved weights) are burn's own.
use burn::{
    nn::{
        activation::Activation,
        attention::MultiHeadAttention,
        transformer::{PositionWiseFeedForward, TransformerEncoder, TransformerEncoderLayer},
    },
    tensor::Tensor,
};

use super::fused;

/// All layers of `encoder` on `x` `[batch, seq, d_model]`, causal. `eps` is the encoder's
/// `layer_norm_eps` (its layer norms keep it private).
pub fn causal_encoder(encoder: &TransformerEncoder, x: Tensor<3>, eps: f64) -> Tensor<3> {
    encoder
        .layers
        .iter()
        .fold(x, |x, layer| causal_layer(layer, x, eps))
}

fn causal_layer(layer: &TransformerEncoderLayer, x: Tensor<3>, eps: f64) -> Tensor<3> {
    let norm = |n, x| fused::layer_norm(n, x, eps);
    let normed = if layer.norm_first {
        norm(&layer.norm_2, x.clone())
    } else {
        x.clone()
    };
    let mut x = x + layer.dropout.forward(causal_attention(&layer.mha, normed));
    let normed = if layer.norm_first {
        norm(&layer.norm_1, x.clone())
    } else {
        x = norm(&layer.norm_1, x);
        x.clone()
    };
    let mut x = x + layer.dropout.forward(feed_forward(&layer.pwff, normed));
    if !layer.norm_first {
        x = norm(&layer.norm_2, x);
    }
    x
}

fn feed_forward(ff: &PositionWiseFeedForward, x: Tensor<3>) -> Tensor<3> {
    match &ff.activation {
        Activation::Gelu(gelu) if !gelu.approximate => {
            let hidden = fused::gelu(fused::linear(&ff.linear_inner, x));
            fused::linear(&ff.linear_outer, ff.dropout.forward(hidden))
        }
        _ => ff.forward(x),
    }
}

fn causal_attention(mha: &MultiHeadAttention, x: Tensor<3>) -> Tensor<3> {
    let project = |linear: &burn::nn::Linear| fused::linear(linear, x.clone());
    let context = fused::causal_attention(
        project(&mha.query),
        project(&mha.key),
        project(&mha.value),
        mha.n_heads,
        1.0 / (mha.d_k as f32).sqrt(),
        &mha.dropout,
    );
    fused::linear(&mha.output, context)
}
