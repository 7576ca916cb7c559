//! Fused CPU ops for the transformer and the bag of words: linear layers, layer norms, GELU, tanh,
//! causal self-attention and its softmax, weighted bags of embedding rows, each one pass over
//! memory forward and one backward, in place of burn-flex's several passes (and its scalar
//! `erff`/`expf`, which dominated the RM-bench profile after the matrix products).
//!
//! Each op takes an ordinary tensor and checks where it lives: on burn-flex (with or without
//! autodiff) and in f32 it runs the kernels of [`kernels`]; anywhere else (wgpu, other float
//! types) it runs the same maths as burn's own ops, so results agree across devices within
//! rounding (tested in `tests/fused_ops.rs`).
#[macro_use]
pub mod kernels;
mod attention;
mod autodiff;
pub mod bags;
mod flex;
mod linear;
mod norm;
mod ops;

pub use bags::{BagLayout, weighted_bags};
pub use ops::{
    causal_attention, causal_softmax, causal_softmax_reference, gelu, layer_norm, linear,
    split_heads, tanh,
};
