//! The fused ops on burn-flex tensors (f32): contiguous inputs, a fresh output, the kernels run
//! over chunks in parallel.
use burn::{
    backend::{TensorMetadata, flex::FlexTensor},
    tensor::DType,
};

/// Elements per parallel chunk: large enough to amortise a task, small enough to share work
/// between two cores on the smallest shapes used here.
#[cfg(not(target_arch = "wasm32"))]
const CHUNK: usize = 1 << 14;

/// An f32 view of a contiguous copy of `t`.
fn contiguous(t: &FlexTensor) -> FlexTensor {
    if t.is_contiguous() && t.layout().start_offset() == 0 {
        t.clone()
    } else {
        t.to_contiguous()
    }
}

/// A fresh f32 tensor of `like`'s shape, filled by `fill(input chunks…, output chunk)` over
/// chunks of `chunk` elements, in parallel where threads exist.
fn map_chunks<const N: usize>(
    inputs: [&FlexTensor; N],
    chunk: usize,
    fill: impl Fn([&[f32]; N], &mut [f32]) + Sync,
) -> FlexTensor {
    let inputs = inputs.map(contiguous);
    let mut out = FlexTensor::empty(inputs[0].shape(), DType::F32);
    let slices: [&[f32]; N] = std::array::from_fn(|i| inputs[i].storage::<f32>());
    let dst: &mut [f32] = out.storage_mut::<f32>();
    let n = dst.len();
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        if n > chunk {
            dst.par_chunks_mut(chunk).enumerate().for_each(|(i, o)| {
                let span = i * chunk..i * chunk + o.len();
                fill(slices.map(|s| &s[span.clone()]), o);
            });
            return out;
        }
    }
    let _ = chunk;
    fill(slices.map(|s| &s[..n]), dst);
    out
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
