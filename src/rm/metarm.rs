//! MetaRM's difference loss (Part II §5): for k responses `s_1..s_k` to one prompt, sampled from
//! the current policy, `J = (2/k²) Σ_{i<j} σ(|r(x, s_i) − r(x, s_j)|)`. The meta step ascends J
//! so the reward model keeps telling the policy's own responses apart.
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
