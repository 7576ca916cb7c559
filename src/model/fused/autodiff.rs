//! The fused ops as autodiff nodes on burn-flex, each with its hand-written backward.
use burn::backend::{
    Flex, TensorMetadata,
    autodiff::{
        Autodiff,
        checkpoint::{base::Checkpointer, strategy::NoCheckpointing},
        grads::Gradients,
        ops::{Backward, Ops, OpsKind, unary},
    },
    flex::FlexTensor,
    tensor::FloatTensor,
};

/// A float tensor of burn-flex under autodiff.
type Ad = FloatTensor<Autodiff<Flex>>;

/// An element-wise op's node: its backward maps the saved tensor (the input or the output, as
/// the op needs) and the output's gradient to the input's gradient.
#[derive(Debug)]
struct Pointwise {
    backward: fn(&FlexTensor, &FlexTensor) -> FlexTensor,
}

impl Backward<Flex, 1> for Pointwise {
    type State = FlexTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let saved = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |grad| {
            (self.backward)(&saved, &grad)
        });
    }
}

/// `y`, the output of an element-wise op on `x`, as an autodiff tensor; `save` picks what its
/// `backward` reads.
fn pointwise(
    x: Ad,
    y: FlexTensor,
    save: impl FnOnce(Ad, &FlexTensor) -> FlexTensor,
    backward: fn(&FlexTensor, &FlexTensor) -> FlexTensor,
) -> Ad {
    match (Pointwise { backward })
        .prepare::<NoCheckpointing>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let saved = save(x, &y);
            prep.finish(saved, y)
        }
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}

/// GELU on an autodiff tensor of burn-flex (its backward reads the input).
pub fn gelu(x: Ad) -> Ad {
    let y = super::flex::gelu(x.primitive());
    let input = |x: Ad, _: &FlexTensor| x.into_primitive();
    pointwise(x, y, input, super::flex::gelu_backward)
}

/// tanh on an autodiff tensor of burn-flex (its backward reads the output).
pub fn tanh(x: Ad) -> Ad {
    let y = super::flex::tanh(x.primitive());
    let output = |_: Ad, y: &FlexTensor| y.clone();
    pointwise(x, y, output, super::flex::tanh_backward)
}

#[derive(Debug)]
struct CausalSoftmax {
    scale: f32,
}

impl Backward<Flex, 1> for CausalSoftmax {
    /// The output (the weights).
    type State = FlexTensor;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let y = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |grad| {
            super::flex::causal_softmax_backward(&y, &grad, self.scale)
        });
    }
}

/// The causal softmax on an autodiff tensor of burn-flex.
pub fn causal_softmax(scores: Ad, scale: f32) -> Ad {
    let y = super::flex::causal_softmax(scores.primitive(), scale);
    let op = CausalSoftmax { scale };
    match op
        .prepare::<NoCheckpointing>([scores.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(y.clone(), y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}

#[derive(Debug)]
struct Linear;

impl Backward<Flex, 3> for Linear {
    /// The input and the weight.
    type State = (FlexTensor, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, w) = ops.state;
        let d_out = w.shape()[1];
        let dy = grads.consume::<Flex>(&ops.node);
        let [for_x, for_w, for_b] = ops.parents;
        if let Some(node) = for_w {
            grads.register::<Flex>(node.id, super::flex::linear_grad_weight(&x, &dy, d_out));
        }
        if let Some(node) = for_b {
            grads.register::<Flex>(node.id, super::flex::linear_grad_bias(&dy, d_out));
        }
        if let Some(node) = for_x {
            grads.register::<Flex>(node.id, super::flex::linear_grad_input(&dy, &w));
        }
    }
}

/// `x·W + b` on autodiff tensors of burn-flex.
pub fn linear(x: Ad, w: Ad, b: Ad) -> Ad {
    let y = super::flex::linear(x.primitive(), w.primitive(), b.primitive());
    match Linear
        .prepare::<NoCheckpointing>([x.node(), w.node(), b.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish((x.into_primitive(), w.into_primitive()), y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}

#[derive(Debug)]
struct LayerNorm;

impl Backward<Flex, 3> for LayerNorm {
    /// `x̂` and `1/σ` per row, and `γ`.
    type State = (super::flex::NormSaved, FlexTensor);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (saved, gamma) = ops.state;
        let dy = grads.consume::<Flex>(&ops.node);
        let [dx, dgamma, dbeta] = super::flex::layer_norm_grads(&dy, &saved, &gamma);
        for (parent, grad) in ops.parents.into_iter().zip([dx, dgamma, dbeta]) {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, grad);
            }
        }
    }
}

/// Layer norm on autodiff tensors of burn-flex.
pub fn layer_norm(x: Ad, gamma: Ad, beta: Ad, eps: f32) -> Ad {
    let (y, saved) =
        super::flex::layer_norm(x.primitive(), gamma.primitive(), beta.primitive(), eps);
    match LayerNorm
        .prepare::<NoCheckpointing>([x.node(), gamma.node(), beta.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish((saved, gamma.into_primitive()), y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}

#[derive(Debug)]
struct CausalAttention {
    heads: usize,
    scale: f32,
}

impl Backward<Flex, 3> for CausalAttention {
    /// `q`, `k`, `v` (contiguous) and the weights.
    type State = ([FlexTensor; 3], FlexTensor);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let ([q, k, v], weights) = ops.state;
        let d_context = grads.consume::<Flex>(&ops.node);
        let g = super::flex::causal_attention_grads(
            [&q, &k, &v],
            &weights,
            &d_context,
            self.heads,
            self.scale,
        );
        for (parent, grad) in ops.parents.into_iter().zip(g) {
            if let Some(node) = parent {
                grads.register::<Flex>(node.id, grad);
            }
        }
    }
}

/// Causal self-attention on autodiff tensors of burn-flex.
pub fn causal_attention(q: Ad, k: Ad, v: Ad, heads: usize, scale: f32) -> Ad {
    let (context, weights) =
        super::flex::causal_attention(q.primitive(), k.primitive(), v.primitive(), heads, scale);
    match (CausalAttention { heads, scale })
        .prepare::<NoCheckpointing>([q.node(), k.node(), v.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let inputs = [q, k, v].map(|t| super::flex::contiguous(&t.into_primitive()));
            prep.finish((inputs, weights), context)
        }
        OpsKind::UnTracked(prep) => prep.finish(context),
    }
}
