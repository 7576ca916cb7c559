//! The fused CPU ops (linear layer, layer norm, GELU, tanh, causal softmax and attention, weighted
//! bags of embedding rows) and the encoder forward built on them agree with burn's own ops and
//! burn's `TransformerEncoder` under an autoregressive mask: values and gradients, on burn-flex
//! with and without autodiff.
use burn::{
    nn::{
        DropoutConfig, LayerNormConfig, LinearConfig,
        attention::generate_autoregressive_mask,
        transformer::{TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput},
    },
    tensor::{Device, Distribution, Gradients, Int, Tensor, TensorData, activation},
};
use rlhf_lab::model::{
    block,
    fused::{self, BagLayout, bags},
    init,
};

fn close<const D: usize>(a: Tensor<D>, b: Tensor<D>, tol: f32, what: &str) {
    let (a, b) = (
        a.into_data().try_to_vec::<f32>().unwrap(),
        b.into_data().try_to_vec::<f32>().unwrap(),
    );
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(
        worst <= tol * scale,
        "{what}: largest difference {worst} (scale {scale})"
    );
}

fn random<const D: usize>(shape: [usize; D], range: f64, device: &Device, seed: u64) -> Tensor<D> {
    device.seed(seed);
    Tensor::random(shape, Distribution::Uniform(-range, range), device)
}

/// Gradients of `Σ w ⊙ op(x)` through our op and through burn's, after checking they agree for `x`.
fn gradients(
    ours: &dyn Fn(Tensor<3>) -> Tensor<3>,
    burns: &dyn Fn(Tensor<3>) -> Tensor<3>,
    x: Tensor<3>,
    device: &Device,
    tol: f32,
) -> [Gradients; 2] {
    let x = x.detach().require_grad();
    let outputs = [ours, burns].map(|op| op(x.clone()));
    let weights = random(outputs[0].dims(), 1.0, device, 99);
    let g = outputs.map(|y| (y * weights.clone()).sum().backward());
    let grad = |g| x.grad(g).expect("x has a gradient");
    close(grad(&g[0]), grad(&g[1]), tol, "input gradient");
    g
}

/// A parameter's gradient is the same in both.
fn same_grad<const R: usize>(p: Tensor<R>, g: &[Gradients; 2], what: &str) {
    let grad = |g| p.grad(g).expect("the parameter has a gradient");
    close(grad(&g[0]), grad(&g[1]), 1e-5, what);
}

#[test]
fn gelu_and_causal_softmax_match_burns_ops_in_value_and_gradient() {
    for device in [Device::flex(), Device::flex().autodiff()] {
        let x = random([2, 3, 257], 6.0, &device, 1);
        close(
            fused::gelu(x.clone()),
            activation::gelu(x.clone()),
            2e-6,
            "gelu",
        );
        // Views whose elements are not in order from the start of their buffer.
        for view in [
            x.clone().swap_dims(1, 2),
            x.clone().slice([1..2, 1..3, 7..250]),
        ] {
            close(
                fused::gelu(view.clone()),
                activation::gelu(view),
                2e-6,
                "gelu of a view",
            );
        }
        let s = random([2, 3, 9, 9], 4.0, &device, 2);
        let scale = 0.35;
        let fused_w = fused::causal_softmax(s.clone(), scale);
        close(
            fused_w.clone(),
            fused::causal_softmax_reference(s.clone(), scale),
            2e-6,
            "causal softmax",
        );
        // Row i of each matrix is zero after position i and sums to 1.
        let w = fused_w.into_data().try_to_vec::<f32>().unwrap();
        for (r, row) in w.chunks(9).enumerate() {
            let i = r % 9;
            assert!(row[i + 1..].iter().all(|&v| v == 0.0), "row {r}: {row:?}");
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        if !device.is_autodiff() {
            continue;
        }
        // Gradients of Σ w ⊙ op(x) through the fused and the reference op.
        let grad_of = |op: &dyn Fn(Tensor<3>) -> Tensor<3>| {
            let x = x.clone().detach().require_grad();
            let weights = random([2, 3, 257], 1.0, &device, 3);
            let grads = (op(x.clone()) * weights).sum().backward();
            x.grad(&grads).expect("x has a gradient")
        };
        close(
            grad_of(&fused::gelu),
            grad_of(&activation::gelu),
            2e-6,
            "gelu gradient",
        );
        let grad_of = |op: &dyn Fn(Tensor<4>) -> Tensor<4>| {
            let s = s.clone().detach().require_grad();
            let weights = random([2, 3, 9, 9], 1.0, &device, 4);
            let grads = (op(s.clone()) * weights).sum().backward();
            s.grad(&grads).expect("scores have a gradient")
        };
        close(
            grad_of(&|s| fused::causal_softmax(s, scale)),
            grad_of(&|s| fused::causal_softmax_reference(s, scale)),
            1e-5,
            "causal softmax gradient",
        );
    }
}

#[test]
fn tanh_matches_libm_and_burns_tanh_in_value_and_gradient() {
    for device in [Device::flex(), Device::flex().autodiff()] {
        let mut xs: Vec<f32> = (-400..=400).map(|i| i as f32 * 0.05).collect();
        xs.extend([-100.0, -50.0, 50.0, 100.0, 1e-4, -1e-4]);
        let n = xs.len();
        let t = Tensor::<1>::from_data(TensorData::new(xs.clone(), [n]), &device);
        let got = fused::tanh(t).into_data().try_to_vec::<f32>().unwrap();
        for (x, y) in xs.iter().zip(&got) {
            let want = x.tanh();
            assert!((y - want).abs() < 1e-6, "tanh({x}) = {want} but got {y}");
        }
        assert_eq!(got[400], 0.0, "tanh(0)");
        assert!(got.iter().all(|y| (-1.0..=1.0).contains(y)));
        let x = random([2, 3, 257], 6.0, &device, 5);
        close(fused::tanh(x.clone()), x.clone().tanh(), 1e-6, "tanh");
        let view = x.clone().swap_dims(1, 2);
        close(
            fused::tanh(view.clone()),
            view.tanh(),
            1e-6,
            "tanh of a view",
        );
        if device.is_autodiff() {
            gradients(&fused::tanh, &|x| x.tanh(), x, &device, 2e-6);
        }
    }
}

/// Ids with repeats inside a row and weights with zeros: `sums` weightings of
/// `[members, rows, seq]` cells over a table of `entries` rows.
fn bag_layout(members: usize, rows: usize, seq: usize, entries: usize, sums: usize) -> BagLayout {
    let cells = members * rows * seq;
    let weights = (0..sums)
        .map(|j| {
            (0..cells)
                .map(|c| match (c + j) % 4 {
                    3 => 0.0,
                    k => (k as f32 - 1.2) * (1.0 + j as f32),
                })
                .collect()
        })
        .collect();
    BagLayout {
        members,
        rows,
        seq,
        ids: (0..cells)
            .map(|c| ((c * 7 + c / 5) % entries) as u32)
            .collect(),
        weights,
    }
}

#[test]
fn weighted_bags_sum_weighted_table_rows_per_row_and_weighting() {
    // By hand: one member, a table of 3 rows of width 2; row 0 reads ids [2, 0, 2].
    let device = Device::flex();
    let table = Tensor::<3>::from_data(
        TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [1, 3, 2]),
        &device,
    );
    let layout = BagLayout {
        members: 1,
        rows: 1,
        seq: 3,
        ids: vec![2, 0, 2],
        weights: vec![vec![0.5, 1.0, 0.0], vec![0.0, -1.0, 2.0]],
    };
    let got = fused::weighted_bags(table, layout);
    assert_eq!(got.dims(), [1, 1, 4]);
    // 0.5·[5, 6] + [1, 2], then −[1, 2] + 2·[5, 6].
    assert_eq!(
        got.into_data().try_to_vec::<f32>().unwrap(),
        vec![3.5, 5.0, 9.0, 10.0]
    );
}

#[test]
fn weighted_bags_match_burns_gather_multiply_and_sum_in_value_and_gradient() {
    let (members, entries, d) = (3, 11, 5);
    for device in [Device::flex(), Device::flex().autodiff()] {
        // 40 rows per member: more than one parallel task.
        for (rows, seq, sums) in [(4, 6, 2), (40, 3, 1)] {
            let layout = bag_layout(members, rows, seq, entries, sums);
            let table = random([members, entries, d], 1.0, &device, 7);
            // A view whose elements are not in order: [members, d, entries] with its axes swapped.
            let view = random([members, d, entries], 1.0, &device, 8).swap_dims(1, 2);
            for (t, what) in [(table.clone(), "bags"), (view, "bags of a view")] {
                close(
                    fused::weighted_bags(t.clone(), layout.clone()),
                    bags::reference(t, &layout),
                    1e-6,
                    what,
                );
            }
            if device.is_autodiff() {
                gradients(
                    &|t| fused::weighted_bags(t, layout.clone()),
                    &|t| bags::reference(t, &layout),
                    table,
                    &device,
                    1e-6,
                );
            }
        }
    }
}

#[test]
fn the_fused_linear_layer_matches_burns_in_value_and_every_gradient() {
    for device in [Device::flex(), Device::flex().autodiff()] {
        let layer = init::seeded(9, &device, |d| LinearConfig::new(24, 40).init(d));
        let x = random([3, 7, 24], 2.0, &device, 10);
        close(
            fused::linear(&layer, x.clone()),
            layer.forward(x.clone()),
            1e-6,
            "linear",
        );
        let view = x.clone().slice([1..3, 2..5, 0..24]);
        close(
            fused::linear(&layer, view.clone()),
            layer.forward(view),
            1e-6,
            "linear of a view",
        );
        if !device.is_autodiff() {
            continue;
        }
        let g = gradients(
            &|x| fused::linear(&layer, x),
            &|x| layer.forward(x),
            x,
            &device,
            1e-5,
        );
        same_grad(layer.weight.val(), &g, "weight gradient");
        same_grad(
            layer.bias.as_ref().expect("a bias").val(),
            &g,
            "bias gradient",
        );
    }
}

#[test]
fn the_fused_layer_norm_matches_burns_in_value_and_every_gradient() {
    for device in [Device::flex(), Device::flex().autodiff()] {
        let eps = 1e-3;
        let norm = init::seeded(12, &device, |d| {
            let mut n = LayerNormConfig::new(40).with_epsilon(eps).init(d);
            // Non-trivial scale and shift, so their gradients and uses are checked.
            n.gamma = n.gamma.map(|g| g.mul_scalar(1.5).add_scalar(0.25));
            n.beta = n.beta.map(|b| b.map(|b| b.add_scalar(0.5)));
            n
        });
        let x = random([3, 7, 40], 3.0, &device, 13);
        close(
            fused::layer_norm(&norm, x.clone(), eps),
            norm.forward(x.clone()),
            1e-5,
            "layer norm",
        );
        if !device.is_autodiff() {
            continue;
        }
        let g = gradients(
            &|x| fused::layer_norm(&norm, x, eps),
            &|x| norm.forward(x),
            x,
            &device,
            1e-4,
        );
        same_grad(norm.gamma.val(), &g, "gamma gradient");
        same_grad(
            norm.beta.as_ref().expect("a beta").val(),
            &g,
            "beta gradient",
        );
    }
}

/// Causal self-attention from burn's ops: heads split, scores, the reference softmax, values.
fn attention_reference(
    q: Tensor<3>,
    k: Tensor<3>,
    v: Tensor<3>,
    heads: usize,
    scale: f32,
) -> Tensor<3> {
    let [batch, seq, width] = q.dims();
    let split = |t: Tensor<3>| {
        t.reshape([batch, seq, heads, width / heads])
            .swap_dims(1, 2)
    };
    let scores = split(q).matmul(split(k).transpose());
    fused::causal_softmax_reference(scores, scale)
        .matmul(split(v))
        .swap_dims(1, 2)
        .reshape([batch, seq, width])
}

#[test]
fn fused_causal_attention_matches_burns_ops_in_value_and_every_gradient() {
    let no_dropout = DropoutConfig::new(0.0).init();
    // 10 positions: one block of queries; 70: blocks of 32, 32 and 6.
    for (device, seq) in [
        (Device::flex(), 10),
        (Device::flex(), 70),
        (Device::flex().autodiff(), 10),
        (Device::flex().autodiff(), 70),
    ] {
        let [q, k, v] = [21, 22, 23].map(|seed| random([3, seq, 24], 1.5, &device, seed));
        let (heads, scale) = (4, 0.4);
        close(
            fused::causal_attention(q.clone(), k.clone(), v.clone(), heads, scale, &no_dropout),
            attention_reference(q.clone(), k.clone(), v.clone(), heads, scale),
            1e-5,
            "attention",
        );
        if !device.is_autodiff() {
            continue;
        }
        let [q, k, v] = [q, k, v].map(|t| t.detach().require_grad());
        let weights = random([3, seq, 24], 1.0, &device, 24);
        let g = [true, false].map(|ours| {
            let out = if ours {
                fused::causal_attention(q.clone(), k.clone(), v.clone(), heads, scale, &no_dropout)
            } else {
                attention_reference(q.clone(), k.clone(), v.clone(), heads, scale)
            };
            (out * weights.clone()).sum().backward()
        });
        for (name, t) in [("q", &q), ("k", &k), ("v", &v)] {
            let grad = |g| t.grad(g).expect("a gradient");
            close(grad(&g[0]), grad(&g[1]), 1e-5, name);
        }
    }
}

fn encoder(norm_first: bool, device: &Device) -> TransformerEncoder {
    init::seeded(7, device, |d| {
        TransformerEncoderConfig::new(32, 64, 4, 2)
            .with_dropout(0.0)
            .with_norm_first(norm_first)
            .init(d)
    })
}

#[test]
fn the_causal_encoder_matches_burns_encoder_with_an_autoregressive_mask() {
    for norm_first in [true, false] {
        let device = Device::flex().autodiff();
        let enc = encoder(norm_first, &device);
        let x = random([3, 11, 32], 1.0, &device, 5).require_grad();
        let weights = random([3, 11, 32], 1.0, &device, 6);
        let ours = block::causal_encoder(&enc, x.clone(), 1e-5);
        let mask = generate_autoregressive_mask(3, 11, &device);
        let burns = enc.forward(TransformerEncoderInput::new(x.clone()).mask_attn(mask));
        close(ours.clone(), burns.clone(), 1e-5, "encoder output");

        let g_ours = (ours * weights.clone()).sum().backward();
        let g_burn = (burns * weights).sum().backward();
        let grad = |g| x.grad(g).expect("x has a gradient");
        close(grad(&g_ours), grad(&g_burn), 1e-4, "input gradient");
        let layer = &enc.layers[0];
        for (name, p) in [
            ("query", &layer.mha.query.weight),
            ("ffn inner", &layer.pwff.linear_inner.weight),
        ] {
            let grad = |g| p.val().grad(g).expect("weight has a gradient");
            close(grad(&g_ours), grad(&g_burn), 1e-4, name);
        }
    }
}

#[test]
fn the_encoder_read_at_one_position_per_row_matches_the_whole_encoder_there() {
    for norm_first in [true, false] {
        for device in [Device::flex(), Device::flex().autodiff()] {
            let enc = encoder(norm_first, &device);
            let x = random([3, 11, 32], 1.0, &device, 8);
            let x = if device.is_autodiff() {
                x.require_grad()
            } else {
                x
            };
            // The last position, one in the middle and the first.
            let at = [10, 4, 0];
            let ours = block::causal_encoder_at(&enc, x.clone(), 1e-5, &at);
            let rows =
                Tensor::<1, Int>::from_data(TensorData::new(vec![10i64, 15, 22], [3]), &device);
            let whole = block::causal_encoder(&enc, x.clone(), 1e-5)
                .reshape([33, 32])
                .select(0, rows);
            close(
                ours.clone(),
                whole.clone(),
                1e-5,
                "output at the read positions",
            );
            if !device.is_autodiff() {
                continue;
            }
            let weights = random([3, 32], 1.0, &device, 9);
            let g_ours = (ours * weights.clone()).sum().backward();
            let g_whole = (whole * weights).sum().backward();
            let grad = |g| x.grad(g).expect("x has a gradient");
            close(grad(&g_ours), grad(&g_whole), 1e-4, "input gradient");
            let [first, last] = [&enc.layers[0], &enc.layers[1]];
            for (name, p) in [
                ("first query", &first.mha.query.weight),
                ("last query", &last.mha.query.weight),
                ("last key", &last.mha.key.weight),
                ("last value", &last.mha.value.weight),
                ("last output", &last.mha.output.weight),
                ("last ffn outer", &last.pwff.linear_outer.weight),
            ] {
                let grad = |g| p.val().grad(g).expect("weight has a gradient");
                close(grad(&g_ours), grad(&g_whole), 1e-4, name);
            }
            for (name, p) in [
                ("last norm 1", &last.norm_1.gamma),
                ("last norm 2", &last.norm_2.gamma),
            ] {
                let grad = |g| p.val().grad(g).expect("gamma has a gradient");
                close(grad(&g_ours), grad(&g_whole), 1e-4, name);
            }
        }
    }
}
