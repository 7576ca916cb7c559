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
    tensor::{Bool, Int, Tensor, TensorData, activation},
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

/// [`causal_encoder`] read at one position per row, `at[b] < seq`: `[batch, d_model]`, the
/// encoder's output at `(b, at[b])`. The layers before the last run at every position; the last
/// one only as far as the read positions need: keys and values at every position, the query,
/// attention, feed-forward and residual at the read one (with a causal mask, position `at[b]`
/// sees keys `0..=at[b]`).
pub fn causal_encoder_at(
    encoder: &TransformerEncoder,
    x: Tensor<3>,
    eps: f64,
    at: &[usize],
) -> Tensor<2> {
    let [batch, seq, width] = x.dims();
    assert!(
        at.len() == batch && at.iter().all(|&t| t < seq),
        "causal_encoder_at: one read position per row, inside the sequence"
    );
    let device = x.device();
    let rows: Vec<i64> = at
        .iter()
        .enumerate()
        .map(|(b, &t)| (b * seq + t) as i64)
        .collect();
    let rows = Tensor::<1, Int>::from_data(TensorData::new(rows, [batch]), &device);
    let pick = |t: Tensor<3>| t.reshape([batch * seq, width]).select(0, rows.clone());
    let Some((last, before)) = encoder.layers.split_last() else {
        return pick(x);
    };
    let x = before
        .iter()
        .fold(x, |x, layer| causal_layer(layer, x, eps));
    let attend = |normed: Tensor<3>| attention_at(&last.mha, pick(normed.clone()), normed, at);
    layer_around(last, x, eps, attend, pick)
}

/// Multi-head attention of one query per row (`query_in` `[batch, width]`, at position `at[b]`)
/// over the keys and values of `kv_in` `[batch, seq, width]` up to that position.
fn attention_at(
    mha: &MultiHeadAttention,
    query_in: Tensor<2>,
    kv_in: Tensor<3>,
    at: &[usize],
) -> Tensor<2> {
    let [batch, seq, width] = kv_in.dims();
    let (heads, d) = (mha.n_heads, mha.d_k);
    let device = kv_in.device();
    let q = fused::linear(&mha.query, query_in).reshape([batch, heads, 1, d]);
    let k = fused::split_heads(fused::linear(&mha.key, kv_in.clone()), heads);
    let v = fused::split_heads(fused::linear(&mha.value, kv_in), heads);
    let future: Vec<bool> = at
        .iter()
        .flat_map(|&t| (0..heads * seq).map(move |i| i % seq > t))
        .collect();
    let future =
        Tensor::<4, Bool>::from_data(TensorData::new(future, [batch, heads, 1, seq]), &device);
    // As burn's attention masks: −10⁴ before the softmax, which gives those keys weight 0.
    let scores = q
        .matmul(k.transpose())
        .mul_scalar(1.0 / (d as f32).sqrt())
        .mask_fill(future, -1.0e4);
    let weights = mha.dropout.forward(activation::softmax(scores, 3));
    let context = weights.matmul(v).reshape([batch, width]);
    fused::linear(&mha.output, context)
}

fn causal_layer(layer: &TransformerEncoderLayer, x: Tensor<3>, eps: f64) -> Tensor<3> {
    layer_around(
        layer,
        x,
        eps,
        |normed| causal_attention(&layer.mha, normed),
        |x| x,
    )
}

/// One encoder layer around its attention, in burn's order (layer norms before or after each
/// residual as `layer.norm_first` says): `attend` takes the attention's input at every position,
/// `[batch, seq, width]`, and returns its output at the positions kept, which `keep` picks from
/// the residual stream (every position for a whole layer, rank `K = 3`; one per row for the last
/// block read at one position, `K = 2`). Layer norms and the feed-forward act per position, so
/// they run at the kept positions only.
pub(super) fn layer_around<const K: usize>(
    layer: &TransformerEncoderLayer,
    x: Tensor<3>,
    eps: f64,
    attend: impl FnOnce(Tensor<3>) -> Tensor<K>,
    keep: impl FnOnce(Tensor<3>) -> Tensor<K>,
) -> Tensor<K> {
    // `norm` works at the kept positions' rank; the attention's input is at every position.
    let norm = |n, x| fused::layer_norm(n, x, eps);
    let normed = if layer.norm_first {
        fused::layer_norm(&layer.norm_2, x.clone(), eps)
    } else {
        x.clone()
    };
    let mut y = keep(x) + layer.dropout.forward(attend(normed));
    let normed = if layer.norm_first {
        norm(&layer.norm_1, y.clone())
    } else {
        y = norm(&layer.norm_1, y);
        y.clone()
    };
    let mut y = y + layer.dropout.forward(feed_forward(&layer.pwff, normed));
    if !layer.norm_first {
        y = norm(&layer.norm_2, y);
    }
    y
}

fn feed_forward<const D: usize>(ff: &PositionWiseFeedForward, x: Tensor<D>) -> Tensor<D> {
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
