//! The fused ops on burn-flex tensors (f32): contiguous inputs, a fresh output, the kernels run
//! over chunks in parallel.
use burn::{
    backend::{TensorMetadata, flex::FlexTensor},
    tensor::{Shape, TensorData},
};

/// Elements per parallel chunk: large enough to amortise a task, small enough to share work
/// between two cores on the smallest shapes used here.
#[cfg(not(target_arch = "wasm32"))]
const CHUNK: usize = 1 << 14;

/// `t` itself when its elements lie in order from the start of its buffer, else a contiguous
/// copy.
pub fn contiguous(t: &FlexTensor) -> FlexTensor {
    if t.is_contiguous() && t.layout().start_offset() == 0 {
        t.clone()
    } else {
        t.to_contiguous()
    }
}

/// The f32 elements of a tensor from [`contiguous`] (its buffer may run past them).
pub(super) fn values(t: &FlexTensor) -> &[f32] {
    &t.storage::<f32>()[..t.shape().num_elements()]
}

/// A fresh f32 tensor of the first input's shape, filled by `fill(input chunks…, output chunk)` over
/// chunks of `chunk` elements, in parallel where threads exist.
fn map_chunks<const N: usize>(
    inputs: [&FlexTensor; N],
    chunk: usize,
    fill: impl Fn([&[f32]; N], &mut [f32]) + Sync,
) -> FlexTensor {
    let inputs = inputs.map(contiguous);
    let shape = inputs[0].shape();
    let slices: [&[f32]; N] = std::array::from_fn(|i| values(&inputs[i]));
    let n = shape.num_elements();
    let mut out = vec![0f32; n];
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        if n > chunk {
            out.par_chunks_mut(chunk).enumerate().for_each(|(i, o)| {
                let span = i * chunk..i * chunk + o.len();
                fill(slices.map(|s| &s[span.clone()]), o);
            });
            return from_vec(out, shape);
        }
    }
    let _ = chunk;
    fill(slices, &mut out);
    from_vec(out, shape)
}

/// Elements per chunk for the softmax: whole `seq × seq` matrices, so a chunk's row `r` is query
/// position `r % seq`.
fn softmax_chunk(seq: usize) -> usize {
    let matrix = seq * seq;
    #[cfg(not(target_arch = "wasm32"))]
    {
        matrix * CHUNK.div_ceil(matrix).max(1)
    }
    #[cfg(target_arch = "wasm32")]
    {
        matrix
    }
}

fn elementwise_chunk() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        CHUNK
    }
    #[cfg(target_arch = "wasm32")]
    {
        usize::MAX
    }
}

pub fn gelu(x: &FlexTensor) -> FlexTensor {
    map_chunks([x], elementwise_chunk(), |[x], o| {
        super::kernels::gelu(x, o)
    })
}

pub fn gelu_backward(x: &FlexTensor, grad: &FlexTensor) -> FlexTensor {
    map_chunks([x, grad], elementwise_chunk(), |[x, g], o| {
        super::kernels::gelu_backward(x, g, o)
    })
}

pub fn tanh(x: &FlexTensor) -> FlexTensor {
    map_chunks([x], elementwise_chunk(), |[x], o| {
        super::kernels::tanh(x, o)
    })
}

/// The gradient of [`tanh`] from its output `y`.
pub fn tanh_backward(y: &FlexTensor, grad: &FlexTensor) -> FlexTensor {
    map_chunks([y, grad], elementwise_chunk(), |[y, g], o| {
        super::kernels::tanh_backward(y, g, o)
    })
}

pub fn causal_softmax(scores: &FlexTensor, scale: f32) -> FlexTensor {
    let seq = scores.shape()[3];
    map_chunks([scores], softmax_chunk(seq), |[s], o| {
        super::kernels::causal_softmax(s, seq, scale, o)
    })
}

pub fn causal_softmax_backward(y: &FlexTensor, dy: &FlexTensor, scale: f32) -> FlexTensor {
    let seq = y.shape()[3];
    map_chunks([y, dy], softmax_chunk(seq), |[y, dy], o| {
        super::kernels::causal_softmax_backward(y, dy, seq, scale, o)
    })
}

/// An f32 tensor of `shape` holding `values` (no copy).
pub(super) fn from_vec(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// `[d_in, d_out]` of a weight matrix.
fn weight_dims(w: &FlexTensor) -> (usize, usize) {
    let shape = w.shape();
    (shape[0], shape[1])
}

/// `x·W + b` over the last axis of `x`.
pub fn linear(x: &FlexTensor, w: &FlexTensor, b: &FlexTensor) -> FlexTensor {
    let (x, w, b) = (contiguous(x), contiguous(w), contiguous(b));
    let (d_in, d_out) = weight_dims(&w);
    let y = super::linear::forward(values(&x), values(&w), Some(values(&b)), d_in, d_out);
    let mut shape = x.shape();
    let last = shape.num_dims() - 1;
    shape[last] = d_out;
    from_vec(y, shape)
}

/// The gradient of [`linear`] for `x` (the shape of `dy` with `d_in` last).
pub fn linear_grad_input(dy: &FlexTensor, w: &FlexTensor) -> FlexTensor {
    let (dy, w) = (contiguous(dy), contiguous(w));
    let (d_in, d_out) = weight_dims(&w);
    let dx = super::linear::grad_input(values(&dy), values(&w), d_in, d_out);
    let mut shape = dy.shape();
    let last = shape.num_dims() - 1;
    shape[last] = d_in;
    from_vec(dx, shape)
}

/// The gradient of [`linear`] for `W`.
pub fn linear_grad_weight(x: &FlexTensor, dy: &FlexTensor, d_out: usize) -> FlexTensor {
    let (x, dy) = (contiguous(x), contiguous(dy));
    let shape = x.shape();
    let d_in = shape[shape.num_dims() - 1];
    let dw = super::linear::grad_weight(values(&x), values(&dy), d_in, d_out);
    from_vec(dw, Shape::new([d_in, d_out]))
}

/// The gradient of [`linear`] for `b`.
pub fn linear_grad_bias(dy: &FlexTensor, d_out: usize) -> FlexTensor {
    let dy = contiguous(dy);
    from_vec(
        super::linear::grad_bias(values(&dy), d_out),
        Shape::new([d_out]),
    )
}

/// Rows per parallel task of the layer norm.
fn norm_rows(d: usize) -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        CHUNK.div_ceil(d.max(1)).max(1)
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = d;
        usize::MAX
    }
}

/// `f` on each block of whole rows (in order), in parallel where threads exist.
fn by_rows<T: Send>(
    rows: usize,
    block: usize,
    f: impl Fn(std::ops::Range<usize>) -> T + Sync,
) -> Vec<T> {
    let blocks: Vec<std::ops::Range<usize>> = (0..rows)
        .step_by(block.max(1))
        .map(|r| r..(r + block).min(rows))
        .collect();
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        blocks.into_par_iter().map(&f).collect()
    }
    #[cfg(target_arch = "wasm32")]
    {
        blocks.into_iter().map(f).collect()
    }
}

/// What the layer norm's backward needs: `x̂` and `1/σ` per row.
#[derive(Clone, Debug)]
pub struct NormSaved {
    xhat: FlexTensor,
    rstd: Vec<f32>,
}

/// Layer norm over the last axis of `x` (`γ`, `β` of its width).
pub fn layer_norm(
    x: &FlexTensor,
    gamma: &FlexTensor,
    beta: &FlexTensor,
    eps: f32,
) -> (FlexTensor, NormSaved) {
    let (x, gamma, beta) = (contiguous(x), contiguous(gamma), contiguous(beta));
    let (g, b) = (values(&gamma), values(&beta));
    let d = g.len().max(1);
    let xs = values(&x);
    let parts = by_rows(xs.len() / d, norm_rows(d), |r| {
        super::norm::forward(&xs[r.start * d..r.end * d], g, b, eps)
    });
    let (mut y, mut xhat, mut rstd) = (Vec::new(), Vec::new(), Vec::new());
    for (py, px, pr) in parts {
        y.extend(py);
        xhat.extend(px);
        rstd.extend(pr);
    }
    let shape = x.shape();
    (
        from_vec(y, shape.clone()),
        NormSaved {
            xhat: from_vec(xhat, shape),
            rstd,
        },
    )
}

/// The layer norm's gradients for `x`, `γ` and `β`.
pub fn layer_norm_grads(dy: &FlexTensor, saved: &NormSaved, gamma: &FlexTensor) -> [FlexTensor; 3] {
    let (dy, gamma) = (contiguous(dy), contiguous(gamma));
    let g = values(&gamma);
    let d = g.len().max(1);
    let (dys, hat) = (values(&dy), values(&saved.xhat));
    let parts = by_rows(dys.len() / d, norm_rows(d), |r| {
        let span = r.start * d..r.end * d;
        let dx = super::norm::grad_input(&dys[span.clone()], &hat[span.clone()], &saved.rstd[r], g);
        (
            dx,
            super::norm::grad_params(&dys[span.clone()], &hat[span], d),
        )
    });
    let (mut dx, mut dgamma, mut dbeta) = (Vec::new(), vec![0.0; d], vec![0.0; d]);
    for (px, (pg, pb)) in parts {
        dx.extend(px);
        dgamma.iter_mut().zip(pg).for_each(|(a, v)| *a += v);
        dbeta.iter_mut().zip(pb).for_each(|(a, v)| *a += v);
    }
    [
        from_vec(dx, dy.shape()),
        from_vec(dgamma, Shape::new([d])),
        from_vec(dbeta, Shape::new([d])),
    ]
}

/// The attention's sizes from `q` `[batch, seq, width]` and the head count.
fn attention_shape(q: &FlexTensor, heads: usize) -> super::attention::Shape {
    let shape = q.shape();
    super::attention::Shape {
        batch: shape[0],
        seq: shape[1],
        heads,
        width: shape[2],
    }
}

/// Causal self-attention from the projections: the context `[batch, seq, width]` and the
/// weights `[batch, heads, seq, seq]` (kept for the backward).
pub fn causal_attention(
    q: &FlexTensor,
    k: &FlexTensor,
    v: &FlexTensor,
    heads: usize,
    scale: f32,
) -> (FlexTensor, FlexTensor) {
    let (q, k, v) = (contiguous(q), contiguous(k), contiguous(v));
    let s = attention_shape(&q, heads);
    let (context, weights) =
        super::attention::forward(values(&q), values(&k), values(&v), s, scale);
    (
        from_vec(context, q.shape()),
        from_vec(weights, Shape::new([s.batch, heads, s.seq, s.seq])),
    )
}

/// Gradients of [`causal_attention`] for `q`, `k` and `v`.
pub fn causal_attention_grads(
    [q, k, v]: [&FlexTensor; 3],
    weights: &FlexTensor,
    d_context: &FlexTensor,
    heads: usize,
    scale: f32,
) -> [FlexTensor; 3] {
    let d_context = contiguous(d_context);
    let s = attention_shape(q, heads);
    super::attention::backward(
        (values(q), values(k), values(v)),
        values(weights),
        values(&d_context),
        s,
        scale,
    )
    .map(|g| from_vec(g, q.shape()))
}
