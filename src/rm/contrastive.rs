//! Contrastive auxiliary losses on reward-model features ([P2] §3.1, Eqs. 7–9): SimCSE (InfoNCE
//! with cosine similarity over in-batch negatives) and SwAV (swapped prediction of
//! Sinkhorn–Knopp codes over learnable prototypes). Instances are either every response
//! ("pairs") or both signed chosen−rejected differences ("difference").
use burn::tensor::{Tensor, activation::log_softmax};
use serde::{Deserialize, Serialize};

/// Which contrastive loss, if any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContrastiveMethod {
    /// Plain reward modelling.
    #[default]
    None,
    /// SimCSE over instances (pairs by default).
    Simcse,
    /// SwAV over response instances (paper: K = 50, β = 0.1).
    Swav,
    /// SwAV over difference instances (paper: K = 20, β = 0.5).
    SwavDiff,
}

/// What counts as one instance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instances {
    /// Each chosen and each rejected response (2N per batch of N pairs).
    #[default]
    Pairs,
    /// `f(c) − f(r)` and `f(r) − f(c)` of every pair.
    Difference,
}

/// The contrastive settings of a reward-model run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ContrastiveConfig {
    /// The loss.
    pub method: ContrastiveMethod,
    /// Instances of SimCSE (SwAV's follow its method: pairs, or difference for SwAV-diff).
    pub instances: Instances,
    /// Weight β of the contrastive loss.
    pub beta: f64,
    /// Temperature τ.
    pub tau: f64,
    /// Prototypes K (SwAV).
    pub prototypes: usize,
    /// Sinkhorn–Knopp ε (SwAV).
    pub sinkhorn_epsilon: f64,
    /// Sinkhorn–Knopp iterations (SwAV).
    pub sinkhorn_iterations: usize,
}

impl Default for ContrastiveConfig {
    fn default() -> Self {
        Self::preset(ContrastiveMethod::None)
    }
}

impl ContrastiveConfig {
    /// The paper's settings of a method (App. B.2; τ from the source methods).
    pub fn preset(method: ContrastiveMethod) -> Self {
        let (beta, tau, prototypes, instances) = match method {
            ContrastiveMethod::None => (0.0, 0.05, 0, Instances::Pairs),
            ContrastiveMethod::Simcse => (1.0, 0.05, 0, Instances::Pairs),
            ContrastiveMethod::Swav => (0.1, 0.1, 50, Instances::Pairs),
            ContrastiveMethod::SwavDiff => (0.5, 0.1, 20, Instances::Difference),
        };
        Self {
            method,
            instances,
            beta,
            tau,
            prototypes,
            sinkhorn_epsilon: 0.05,
            sinkhorn_iterations: 3,
        }
    }

    /// Parse a CLI value (`none`, `simcse`, `swav`, `swav-diff`) into its preset.
    pub fn from_arg(arg: &str) -> Result<Self, String> {
        let method = match arg {
            "none" => ContrastiveMethod::None,
            "simcse" => ContrastiveMethod::Simcse,
            "swav" => ContrastiveMethod::Swav,
            "swav-diff" => ContrastiveMethod::SwavDiff,
            other => {
                return Err(format!(
                    "unknown contrastive method '{other}': use none, simcse, swav or swav-diff"
                ));
            }
        };
        Ok(Self::preset(method))
    }

    /// True when the run adds a contrastive term (β = 0 is plain reward modelling).
    pub fn active(&self) -> bool {
        self.method != ContrastiveMethod::None && self.beta != 0.0
    }

    /// The instances this method uses.
    pub fn instances(&self) -> Instances {
        match self.method {
            ContrastiveMethod::Swav => Instances::Pairs,
            ContrastiveMethod::SwavDiff => Instances::Difference,
            _ => self.instances,
        }
    }

    /// Prototypes the model needs (0 unless an active SwAV run, so β = 0 builds exactly the
    /// baseline model).
    pub fn model_prototypes(&self) -> usize {
        match self.method {
            ContrastiveMethod::Swav | ContrastiveMethod::SwavDiff if self.active() => {
                self.prototypes
            }
            _ => 0,
        }
    }

    /// Check the numbers, naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            return Err(format!("contrastive.beta = {}: must be ≥ 0", self.beta));
        }
        if !(self.tau.is_finite() && self.tau > 0.0) {
            return Err(format!("contrastive.tau = {}: must be > 0", self.tau));
        }
        if matches!(
            self.method,
            ContrastiveMethod::Swav | ContrastiveMethod::SwavDiff
        ) {
            if !(2..=1024).contains(&self.prototypes) {
                return Err(format!(
                    "contrastive.prototypes = {}: SwAV needs 2 to 1024",
                    self.prototypes
                ));
            }
            // Cosines span 2, so exp(−2/ε) must stay inside f32 (ε ≥ 0.025).
            let epsilon_ok = (0.025..=10.0).contains(&self.sinkhorn_epsilon);
            let iterations_ok = (1..=100).contains(&self.sinkhorn_iterations);
            if !(epsilon_ok && iterations_ok) {
                return Err(format!(
                    "contrastive.sinkhorn_epsilon = {} / sinkhorn_iterations = {}: use ε in [0.025, 10] and 1 to 100 iterations",
                    self.sinkhorn_epsilon, self.sinkhorn_iterations
                ));
            }
        }
        Ok(())
    }
}

/// Rows scaled to unit length, `[n, d]`.
pub fn normalize_rows(x: Tensor<2>) -> Tensor<2> {
    // Clamp before the square root: a zero row must not give a NaN gradient.
    let norm = x.clone().powi_scalar(2).sum_dim(1).clamp_min(1e-16).sqrt();
    x / norm
}

/// Instances of a batch from the pooled features `[2N, d]` (chosen block, then rejected).
pub fn instances(features: Tensor<2>, pairs: usize, kind: Instances) -> Tensor<2> {
    match kind {
        Instances::Pairs => features,
        Instances::Difference => {
            let chosen = features.clone().slice(0..pairs);
            let rejected = features.slice(pairs..2 * pairs);
            let d = chosen - rejected;
            Tensor::cat(vec![d.clone(), d.neg()], 0)
        }
    }
}

/// SimCSE (Eq. 9): mean over i of `−log softmax_j(cos(h_s^i, h_t^j)/τ)[i]`.
pub fn simcse_loss(view_s: Tensor<2>, view_t: Tensor<2>, tau: f64) -> Tensor<1> {
    let s = normalize_rows(view_s);
    let t = normalize_rows(view_t);
    let logits = s.matmul(t.transpose()) / tau;
    let n = logits.dims()[0];
    let log_p = log_softmax(logits, 1);
    let eye = Tensor::<2>::eye(n, &log_p.device());
    (log_p * eye).sum().neg() / n as f64
}

/// Sinkhorn–Knopp equal-partition codes `[n, K]` from prototype scores `[n, K]` (no gradient):
/// every row sums to 1 and every prototype gets about n/K of the mass.
pub fn sinkhorn(scores: Tensor<2>, epsilon: f64, iterations: usize) -> Tensor<2> {
    let [n, k] = scores.dims();
    let scores = scores.detach();
    // Subtract the max before exp for stability (cancels in the normalisations).
    let max = scores.clone().max();
    let mut q = ((scores - max.unsqueeze()) / epsilon).exp().transpose(); // [K, n]
    q = q.clone() / q.clone().sum().unsqueeze();
    for _ in 0..iterations {
        q = q.clone() / q.clone().sum_dim(1) / k as f64; // each prototype: total 1/K
        q = q.clone() / q.clone().sum_dim(0) / n as f64; // each sample: total 1/n
    }
    (q * n as f64).transpose()
}

/// SwAV swapped prediction (Eqs. 7–8): `l(h_t, q_s) + l(h_s, q_t)`, with
/// `l(h, q) = −Σ_k q_k log softmax_k(h·c_k/τ)`, averaged over instances. `prototypes` is
/// `[K, d]` (normalised here).
pub fn swav_loss(
    view_s: Tensor<2>,
    view_t: Tensor<2>,
    prototypes: Tensor<2>,
    tau: f64,
    epsilon: f64,
    iterations: usize,
) -> Tensor<1> {
    let c = normalize_rows(prototypes).transpose(); // [d, K]
    let score_s = normalize_rows(view_s).matmul(c.clone());
    let score_t = normalize_rows(view_t).matmul(c);
    let n = score_s.dims()[0] as f64;
    let q_s = sinkhorn(score_s.clone(), epsilon, iterations);
    let q_t = sinkhorn(score_t.clone(), epsilon, iterations);
    let log_p_s = log_softmax(score_s / tau, 1);
    let log_p_t = log_softmax(score_t / tau, 1);
    ((q_s * log_p_t).sum() + (q_t * log_p_s).sum()).neg() / n
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t2(rows: &[&[f32]], device: &Device) -> Tensor<2> {
        let d = rows[0].len();
        let flat: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Tensor::from_data(TensorData::new(flat, [rows.len(), d]), device)
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_data().try_to_vec::<f32>().unwrap()[0]
    }

    #[test]
    fn simcse_matches_its_limits_with_identical_views_and_orthogonal_negatives() {
        let device = Device::flex();
        let e: &[&[f32]] = &[&[1.0, 0.0, 0.0], &[0.0, 2.0, 0.0], &[0.0, 0.0, 0.5]];
        let views = t2(e, &device);
        // Positives have cosine 1, negatives 0: loss = log(1 + (N'−1)·e^{−1/τ}).
        for tau in [0.05f64, 1.0, 1e6] {
            let got = scalar(simcse_loss(views.clone(), views.clone(), tau));
            let want = (1.0 + 2.0 * (-1.0 / tau).exp()).ln() as f32;
            assert!((got - want).abs() < 1e-5, "τ = {tau}: {got} vs {want}");
        }
        // τ → ∞: every similarity looks alike and the loss is log N'.
        let got = scalar(simcse_loss(views.clone(), views, 1e9));
        assert!((got - 3f32.ln()).abs() < 1e-5, "{got}");
    }

    #[test]
    fn sinkhorn_codes_are_distributions_with_equal_prototype_mass() {
        let device = Device::flex();
        let rows: [&[f32]; 6] = [
            &[0.9, 0.1, 0.0],
            &[0.8, 0.2, 0.1],
            &[0.7, 0.0, 0.3],
            &[0.1, 0.9, 0.2],
            &[0.0, 0.2, 0.8],
            &[0.6, 0.5, 0.4],
        ];
        let scores = t2(&rows, &device);
        // Prototype 0's share under a plain per-row softmax of score/ε (no balancing).
        let softmax_mass0 = rows
            .iter()
            .map(|r| {
                let e: Vec<f32> = r.iter().map(|x| (x / 0.05).exp()).collect();
                e[0] / e.iter().sum::<f32>()
            })
            .sum::<f32>()
            / 6.0;
        let codes = |iterations| {
            sinkhorn(scores.clone(), 0.05, iterations)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let mass = |v: &[f32], k: usize| v.iter().skip(k).step_by(3).sum::<f32>() / 6.0;
        // SwAV's 3 iterations: every code is a distribution, and the dominant prototype's
        // share moves from the raw softmax's towards 1/K.
        let v = codes(3);
        for r in v.chunks(3) {
            assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-4, "row {r:?}");
        }
        assert!(
            mass(&v, 0) < softmax_mass0 - 0.05,
            "{} vs {softmax_mass0}",
            mass(&v, 0)
        );
        // Iterated to convergence, every prototype gets 1/K of the mass.
        let v = codes(200);
        for k in 0..3 {
            assert!(
                (mass(&v, k) - 1.0 / 3.0).abs() < 0.01,
                "prototype {k}: {}",
                mass(&v, k)
            );
        }
        for r in v.chunks(3) {
            assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-4, "row {r:?}");
        }
    }

    #[test]
    fn simcse_uses_view_t_as_the_candidates_of_each_view_s_row() {
        let device = Device::flex();
        // s rows: e1, e2; t rows: e1, (e1 + e2)/√2. Cosines: s1·t = [1, 1/√2], s2·t = [0, 1/√2].
        let s = t2(&[&[1.0, 0.0], &[0.0, 1.0]], &device);
        let t = t2(&[&[1.0, 0.0], &[1.0, 1.0]], &device);
        let tau = 0.5f64;
        let r = std::f64::consts::FRAC_1_SQRT_2;
        let l1 = -(1.0 / tau) + ((1.0 / tau).exp() + (r / tau).exp()).ln();
        let l2 = -(r / tau) + ((0.0f64).exp() + (r / tau).exp()).ln();
        let got = scalar(simcse_loss(s, t, tau));
        assert!(
            (f64::from(got) - (l1 + l2) / 2.0).abs() < 1e-5,
            "{got} vs {}",
            (l1 + l2) / 2.0
        );
    }

    #[test]
    fn difference_instances_are_both_signed_differences() {
        let device = Device::flex();
        let f = t2(
            &[&[1.0, 2.0], &[3.0, 5.0], &[0.0, 1.0], &[1.0, 1.0]],
            &device,
        );
        let d = instances(f, 2, Instances::Difference);
        assert_eq!(
            d.into_data().try_to_vec::<f32>().unwrap(),
            vec![1.0, 1.0, 2.0, 4.0, -1.0, -1.0, -2.0, -4.0]
        );
    }
}
