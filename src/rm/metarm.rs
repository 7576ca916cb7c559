//! MetaRM (Part II §5, spec §5): the difference loss — for k responses `s_1..s_k` to one prompt,
//! sampled from the current policy, `J = (2/k²) Σ_{i<j} σ(|r(x, s_i) − r(x, s_j)|)` — and the
//! two pieces of Algorithm 1's meta step that act on weights: a copy of the model with its
//! dropout off (J is measured on it) and the plain gradient-ascent step θ' = θ + η ∇J on a copy.
//! The vanilla loss's gradient at θ' is then applied to θ by the optimizer (first order, as in
//! the paper; see `experiment::rm::step::train_step`).
use burn::module::{Flag, Module, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData, activation::sigmoid};

/// Mean J over groups: `rewards` is `[groups, k]` (one row per prompt). Returns `[1]`.
pub fn difference_loss(rewards: Tensor<2>) -> Tensor<1> {
    let [groups, k] = rewards.dims();
    let device = rewards.device();
    let mut upper = vec![0.0f32; k * k];
    for i in 0..k {
        for j in i + 1..k {
            upper[i * k + j] = 1.0;
        }
    }
    let upper = Tensor::<3>::from_data(TensorData::new(upper, [1, k, k]), &device);
    let gaps = rewards.clone().unsqueeze_dim::<3>(2) - rewards.unsqueeze_dim::<3>(1);
    let per_group = (sigmoid(gaps.abs()) * upper)
        .sum_dim(2)
        .sum_dim(1)
        .reshape([groups]);
    per_group.mean() * (2.0 / (k * k).max(1) as f64)
}

/// J of one group on plain numbers (reference for tests and reports).
pub fn difference_loss_value(rewards: &[f32]) -> f64 {
    let k = rewards.len();
    let mut total = 0.0;
    for i in 0..k {
        for j in i + 1..k {
            let d = f64::from((rewards[i] - rewards[j]).abs());
            total += 1.0 / (1.0 + (-d).exp());
        }
    }
    total * 2.0 / (k * k).max(1) as f64
}

/// Clears every training flag (dropout off), keeps every weight and its gradient tracking.
struct DropoutOff;

impl ModuleMapper for DropoutOff {
    fn map_flag(&mut self, flag: Param<Flag>) -> Param<Flag> {
        flag.with_value(false)
    }
}

/// The same weights (the same parameter ids, still recording gradients) with dropout off: the
/// meta step measures J on it, so it draws no dropout masks and leaves the run's random
/// generators where they were.
pub fn without_dropout<M: Module>(model: M) -> M {
    model.map(&mut DropoutOff)
}

/// Adds `eta` times each parameter's gradient to it (a plain step, no optimizer state).
struct Ascent<'a> {
    grads: &'a mut GradientsParams,
    eta: f64,
}

impl ModuleMapper for Ascent<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let tracked = tensor.is_require_grad();
        let autodiff = tensor.is_autodiff();
        let inner = tensor.inner();
        let grad = if grad.device() == inner.device() {
            grad
        } else {
            grad.to_device(&inner.device())
        };
        let moved = inner + grad.mul_scalar(self.eta);
        let mut moved = if autodiff {
            Tensor::from_inner(moved)
        } else {
            moved
        };
        if tracked {
            moved = moved.require_grad();
        }
        Param::from_mapped_value(id, moved, mapper)
    }
}

/// θ' = θ + η·g: Algorithm 1's meta step, a plain ascent step on a copy of `model` along the
/// gradients `grads` of J (parameters without a gradient stay). θ' keeps θ's parameter ids, so
/// gradients taken at θ' apply to θ through the optimizer; `model` itself is not changed.
pub fn ascent_step<M: Module>(model: &M, grads: &mut GradientsParams, eta: f64) -> M {
    model.clone().map(&mut Ascent { grads, eta })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn j_matches_the_formula_by_hand_and_on_tensors() {
        // k = 2, equal rewards: (2/4) σ(0) = 0.25.
        assert!((difference_loss_value(&[1.0, 1.0]) - 0.25).abs() < 1e-12);
        // k = 3, rewards 0, 1, 3: (2/9) (σ(1) + σ(3) + σ(2)).
        let s = |x: f64| 1.0 / (1.0 + (-x).exp());
        let want = 2.0 / 9.0 * (s(1.0) + s(3.0) + s(2.0));
        assert!((difference_loss_value(&[0.0, 1.0, 3.0]) - want).abs() < 1e-12);
        // k = 5, rewards 0, 0.5, 1, 2, 4: ten pairs, gaps 0.5 1 2 4 0.5 1.5 3.5 1 3 2.
        let gaps = [0.5, 1.0, 2.0, 4.0, 0.5, 1.5, 3.5, 1.0, 3.0, 2.0];
        let want = 2.0 / 25.0 * gaps.iter().map(|&g| s(g)).sum::<f64>();
        assert!((difference_loss_value(&[0.0, 0.5, 1.0, 2.0, 4.0]) - want).abs() < 1e-12);
        // J grows with the spread: identical responses give the floor (k − 1)/(2k).
        let floor = difference_loss_value(&[0.5; 5]);
        assert!((floor - 0.4).abs() < 1e-12);
        assert!(difference_loss_value(&[0.0, 1.0, 2.0, 3.0, 4.0]) > floor);
        let device = Device::flex();
        let rows = [[0.0f32, 1.0, 3.0], [2.0, 2.0, -1.0]];
        let t = Tensor::<2>::from_data(TensorData::new(rows.concat(), [2, 3]), &device);
        let got = difference_loss(t).into_data().try_to_vec::<f32>().unwrap()[0];
        let mean = (difference_loss_value(&rows[0]) + difference_loss_value(&rows[1])) / 2.0;
        assert!((f64::from(got) - mean).abs() < 1e-6, "{got} vs {mean}");
    }
}
