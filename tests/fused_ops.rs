//! The fused CPU ops (linear layer, layer norm, GELU, causal softmax) and the encoder forward built on them agree with
//! burn's own ops and burn's `TransformerEncoder` under an autoregressive mask: values and
//! gradients, on burn-flex with and without autodiff.
use burn::{
    nn::{
        LayerNormConfig, LinearConfig,
        attention::generate_autoregressive_mask,
        transformer::{TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput},
    },
    tensor::{Device, Distribution, Tensor, activation},
};
use rlhf_lab::model::{block, fused, init};

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
        if !device.is_autodiff() {
            continue;
        }
        let x = x.detach().require_grad();
        let weights = random([3, 7, 40], 1.0, &device, 11);
        let ours = (fused::linear(&layer, x.clone()) * weights.clone())
            .sum()
            .backward();
        let burns = (layer.forward(x.clone()) * weights).sum().backward();
        close(
            x.grad(&ours).expect("x"),
            x.grad(&burns).expect("x"),
            1e-5,
            "input gradient",
        );
        let w = layer.weight.val();
        close(
            w.grad(&ours).expect("w"),
            w.grad(&burns).expect("w"),
            1e-5,
            "weight gradient",
        );
        let b = layer.bias.as_ref().expect("a bias").val();
        close(
            b.grad(&ours).expect("b"),
            b.grad(&burns).expect("b"),
            1e-5,
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
        let x = x.detach().require_grad();
        let weights = random([3, 7, 40], 1.0, &device, 14);
        let ours = (fused::layer_norm(&norm, x.clone(), eps) * weights.clone())
            .sum()
            .backward();
        let burns = (norm.forward(x.clone()) * weights).sum().backward();
        close(
            x.grad(&ours).expect("x"),
            x.grad(&burns).expect("x"),
            1e-4,
            "input gradient",
        );
        let g = norm.gamma.val();
        close(
            g.grad(&ours).expect("gamma"),
            g.grad(&burns).expect("gamma"),
            1e-5,
            "gamma gradient",
        );
        let b = norm.beta.as_ref().expect("a beta").val();
        close(
            b.grad(&ours).expect("beta"),
            b.grad(&burns).expect("beta"),
            1e-5,
            "beta gradient",
        );
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
