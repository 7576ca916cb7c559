//! The fused ops on any tensor: the kernels on burn-flex in f32, burn's own ops elsewhere.
use burn::{
    backend::{Autodiff, Flex},
    tensor::{DType, Tensor, activation},
};

use super::{autodiff, flex};

/// GELU (exact erf form, as `burn::nn::Gelu`).
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if let Ok(t) = x.clone().try_into_primitive::<Autodiff<Flex>>()
        && t.primitive().dtype() == DType::F32
    {
        return Tensor::from_primitive::<Autodiff<Flex>>(autodiff::gelu(t));
    }
    if let Ok(t) = x.clone().try_into_primitive::<Flex>()
        && t.dtype() == DType::F32
    {
        return Tensor::from_primitive::<Flex>(flex::gelu(&t));
    }
    activation::gelu(x)
}

/// Attention weights from raw scores `[batch, heads, seq, seq]`: `softmax(scale · scores)` along
/// the last axis, where query position `i` sees key positions `0..=i` only (the others get
/// weight 0). The same as burn's multi-head attention with an autoregressive mask.
pub fn causal_softmax(scores: Tensor<4>, scale: f32) -> Tensor<4> {
    if let Ok(t) = scores.clone().try_into_primitive::<Autodiff<Flex>>()
        && t.primitive().dtype() == DType::F32
    {
        return Tensor::from_primitive::<Autodiff<Flex>>(autodiff::causal_softmax(t, scale));
    }
    if let Ok(t) = scores.clone().try_into_primitive::<Flex>()
        && t.dtype() == DType::F32
    {
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
    let parts = (
        x.clone().try_into_primitive::<Autodiff<Flex>>(),
        weight.clone().try_into_primitive::<Autodiff<Flex>>(),
        bias.clone().try_into_primitive::<Autodiff<Flex>>(),
    );
    if let (Ok(x), Ok(w), Ok(b)) = parts
        && [&x, &w, &b]
            .iter()
            .all(|t| t.primitive().dtype() == DType::F32)
    {
        return Tensor::from_primitive::<Autodiff<Flex>>(autodiff::linear(x, w, b));
    }
    let parts = (
        x.clone().try_into_primitive::<Flex>(),
        weight.try_into_primitive::<Flex>(),
        bias.try_into_primitive::<Flex>(),
    );
    if let (Ok(x), Ok(w), Ok(b)) = parts
        && [&x, &w, &b].iter().all(|t| t.dtype() == DType::F32)
    {
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
    let parts = (
        x.clone().try_into_primitive::<Autodiff<Flex>>(),
        gamma.clone().try_into_primitive::<Autodiff<Flex>>(),
        beta.clone().try_into_primitive::<Autodiff<Flex>>(),
    );
    if let (Ok(x), Ok(g), Ok(b)) = parts
        && [&x, &g, &b]
            .iter()
            .all(|t| t.primitive().dtype() == DType::F32)
    {
        return Tensor::from_primitive::<Autodiff<Flex>>(autodiff::layer_norm(x, g, b, eps as f32));
    }
    // Without autodiff burn-flex's own layer norm is one SIMD pass already (and keeps no x̂).
    norm.forward(x)
}
