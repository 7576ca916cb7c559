//! The fused ops on any tensor: the kernels on burn-flex in f32, burn's own ops elsewhere.
use burn::{
    backend::{Autodiff, Flex, flex::FlexTensor, tensor::FloatTensor},
    tensor::{DType, Tensor, activation},
};

use super::{autodiff, flex};

/// `t` as an f32 autodiff tensor of burn-flex, if that is what it is.
pub(super) fn on_autodiff_flex<const R: usize>(
    t: &Tensor<R>,
) -> Option<FloatTensor<Autodiff<Flex>>> {
    let t = t.clone().try_into_primitive::<Autodiff<Flex>>().ok()?;
    (t.primitive().dtype() == DType::F32).then_some(t)
}

/// `t` as an f32 tensor of burn-flex without autodiff, if that is what it is.
pub(super) fn on_flex<const R: usize>(t: &Tensor<R>) -> Option<FlexTensor> {
    let t = t.clone().try_into_primitive::<Flex>().ok()?;
    (t.dtype() == DType::F32).then_some(t)
}

/// GELU (exact erf form, as `burn::nn::Gelu`).
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if let Some(t) = on_autodiff_flex(&x) {
        return Tensor::from_primitive::<Autodiff<Flex>>(autodiff::gelu(t));
    }
    if let Some(t) = on_flex(&x) {
        return Tensor::from_primitive::<Flex>(flex::gelu(&t));
    }
    activation::gelu(x)
}

/// tanh. On burn-flex one pass with a polynomial `exp` (within 1e-6 of libm's `tanhf`) and a
/// backward from the output; burn-flex's own `tanh` calls libm per element and computes tanh
/// again in its backward.
pub fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if let Some(t) = on_autodiff_flex(&x) {
        return Tensor::from_primitive::<Autodiff<Flex>>(autodiff::tanh(t));
    }
    if let Some(t) = on_flex(&x) {
        return Tensor::from_primitive::<Flex>(flex::tanh(&t));
    }
    x.tanh()
}

/// Attention weights from raw scores `[batch, heads, seq, seq]`: `softmax(scale · scores)` along
/// the last axis, where query position `i` sees key positions `0..=i` only (the others get
/// weight 0). The same as burn's multi-head attention with an autoregressive mask.
pub fn causal_softmax(scores: Tensor<4>, scale: f32) -> Tensor<4> {
    let [_, _, queries, keys] = scores.dims();
    assert_eq!(
        queries, keys,
        "causal_softmax: self-attention scores are square"
    );
    if let Some(t) = on_autodiff_flex(&scores) {
        return Tensor::from_primitive::<Autodiff<Flex>>(autodiff::causal_softmax(t, scale));
    }
    if let Some(t) = on_flex(&scores) {
        return Tensor::from_primitive::<Flex>(flex::causal_softmax(&t, scale));
    }
    causal_softmax_reference(scores, scale)
}

/// [`causal_softmax`] from burn's ops: scale, fill the future with −10⁴ (burn's attention does
/// the same), softmax.
pub fn causal_softmax_reference(scores: Tensor<4>, scale: f32) -> Tensor<4> {
    let [batch, _, seq, _] = scores.dims();
    let mask = burn::nn::attention::generate_autoregressive_mask(batch, seq, &scores.device())
        .unsqueeze_dim::<4>(1);
    let scores = scores.mul_scalar(scale).mask_fill(mask, -1.0e4);
    activation::softmax(scores, 3)
}

/// A linear layer (`burn::nn::Linear`) on `x`: `x·W + b` over the last axis.
pub fn linear<const D: usize>(layer: &burn::nn::Linear, x: Tensor<D>) -> Tensor<D> {
    let weight = layer.weight.val();
    let Some(bias) = layer.bias.as_ref().map(|b| b.val()) else {
        return layer.forward(x);
    };
    if let (Some(x), Some(w), Some(b)) = (
        on_autodiff_flex(&x),
        on_autodiff_flex(&weight),
        on_autodiff_flex(&bias),
    ) {
        return Tensor::from_primitive::<Autodiff<Flex>>(autodiff::linear(x, w, b));
    }
    if let (Some(x), Some(w), Some(b)) = (on_flex(&x), on_flex(&weight), on_flex(&bias)) {
        return Tensor::from_primitive::<Flex>(flex::linear(&x, &w, &b));
    }
    layer.forward(x)
}

/// A layer norm (`burn::nn::LayerNorm` built with epsilon `eps`, which burn keeps private) on
/// `x` over its last axis. Fused only under autodiff on burn-flex.
pub fn layer_norm<const D: usize>(norm: &burn::nn::LayerNorm, x: Tensor<D>, eps: f64) -> Tensor<D> {
    let gamma = norm.gamma.val();
    let Some(beta) = norm.beta.as_ref().map(|b| b.val()) else {
        return norm.forward(x);
    };
    if let (Some(x), Some(g), Some(b)) = (
        on_autodiff_flex(&x),
        on_autodiff_flex(&gamma),
        on_autodiff_flex(&beta),
    ) {
        return Tensor::from_primitive::<Autodiff<Flex>>(autodiff::layer_norm(x, g, b, eps as f32));
    }
    // Without autodiff burn-flex's own layer norm is one SIMD pass already (and keeps no x̂).
    norm.forward(x)
}

/// Causal multi-head self-attention from the query, key and value projections
/// `[batch, seq, width]`: each head's `softmax(scale · Q Kᵀ)` (query `i` sees keys `0..=i`) times
/// its `V`, the heads side by side again. Attention dropout (`dropout`, on the weights) needs the
/// weights as a tensor, so while it is active under autodiff this runs burn's products around
/// [`causal_softmax`]; otherwise, on burn-flex in f32, one fused op.
pub fn causal_attention(
    q: Tensor<3>,
    k: Tensor<3>,
    v: Tensor<3>,
    heads: usize,
    scale: f32,
    dropout: &burn::nn::Dropout,
) -> Tensor<3> {
    let dropping = dropout.prob > 0.0 && q.device().is_autodiff();
    if !dropping {
        if let (Some(q), Some(k), Some(v)) = (
            on_autodiff_flex(&q),
            on_autodiff_flex(&k),
            on_autodiff_flex(&v),
        ) {
            let context = autodiff::causal_attention(q, k, v, heads, scale);
            return Tensor::from_primitive::<Autodiff<Flex>>(context);
        }
        if let (Some(q), Some(k), Some(v)) = (on_flex(&q), on_flex(&k), on_flex(&v)) {
            let (context, _) = flex::causal_attention(&q, &k, &v, heads, scale);
            return Tensor::from_primitive::<Flex>(context);
        }
    }
    let [batch, seq, width] = q.dims();
    let split = |t| split_heads(t, heads);
    let weights = dropout.forward(causal_softmax(split(q).matmul(split(k).transpose()), scale));
    weights
        .matmul(split(v))
        .swap_dims(1, 2)
        .reshape([batch, seq, width])
}

/// `[batch, seq, width]` as `heads` heads side by side: `[batch, heads, seq, width / heads]`.
pub fn split_heads(t: Tensor<3>, heads: usize) -> Tensor<4> {
    let [batch, seq, width] = t.dims();
    t.reshape([batch, seq, heads, width / heads])
        .swap_dims(1, 2)
}
