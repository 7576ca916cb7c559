//! Fused CPU ops for the transformer: linear layers, layer norms, GELU, causal self-attention and
//! its softmax, each one pass over memory forward and one backward, in place of burn-flex's several
//! passes (and its scalar `erff`/`expf`, which dominated the RM-bench profile after the matrix
//! products).
//!
//! Each op takes an ordinary tensor and checks where it lives: on burn-flex (with or without
//! autodiff) and in f32 it runs the kernels of [`kernels`]; anywhere else (wgpu, other float
//! types) it runs the same maths as burn's own ops, so results agree across devices within
//! rounding (tested in `tests/fused_ops.rs`).
#[macro_use]
pub mod kernels;
mod attention;
mod autodiff;
mod flex;
mod linear;
mod norm;
mod ops;

pub use ops::{
    causal_attention, causal_softmax, causal_softmax_reference, gelu, layer_norm, linear,
    split_heads,
};
