//! Adam on a flat parameter vector (the factorised policy's logits, the tabular critic), with
//! optional global-norm gradient clipping.

/// Adam state for `n` parameters.
#[derive(Clone, Debug)]
pub struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

impl Adam {
    /// Fresh state.
    pub fn new(n: usize) -> Self {
        Self {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }

    /// One step on `params` down the gradient `grad` (clipped to global norm `clip` when set);
    /// returns the gradient norm before clipping.
    pub fn step(&mut self, params: &mut [f64], grad: &[f64], lr: f64, clip: Option<f64>) -> f64 {
        let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        let scale = match clip {
            Some(c) if norm > c => c / norm,
            _ => 1.0,
        };
        self.t += 1;
        let (b1, b2) = (1.0 - BETA1.powi(self.t), 1.0 - BETA2.powi(self.t));
        for i in 0..params.len().min(grad.len()) {
            let g = grad[i] * scale;
            self.m[i] = BETA1 * self.m[i] + (1.0 - BETA1) * g;
            self.v[i] = BETA2 * self.v[i] + (1.0 - BETA2) * g * g;
            params[i] -= lr * (self.m[i] / b1) / ((self.v[i] / b2).sqrt() + EPS);
        }
        norm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_walks_down_a_quadratic_and_clipping_bounds_the_step() {
        let mut p = vec![3.0, -2.0];
        let mut a = Adam::new(2);
        for _ in 0..500 {
            let g: Vec<f64> = p.iter().map(|x| 2.0 * x).collect();
            a.step(&mut p, &g, 0.05, None);
        }
        assert!(p.iter().all(|x| x.abs() < 1e-2), "{p:?}");
        // The first Adam step moves each coordinate by about lr whatever the scale.
        let mut q = vec![0.0];
        let norm = Adam::new(1).step(&mut q, &[1e6], 0.1, Some(1.0));
        assert_eq!(norm, 1e6);
        assert!((q[0] + 0.1).abs() < 1e-6);
    }
}
