//! The clipped PPO surrogate and the clipped value loss of one token (spec §6.1), with their
//! gradients: a policy learns from `dL/dlog π` per token and a critic from `dL/dV`, so the same
//! formulas serve every policy (the factorised toy applies them by hand, a network through its
//! own backward pass).

/// One token's policy loss `max(−A ρ, −A clip(ρ, 1−ε, 1+ε))`, `ρ = exp(log π − log π_old)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolicyTerm {
    /// The loss.
    pub loss: f32,
    /// `dL / d log π` (0 where the clipped branch is taken).
    pub grad: f32,
    /// The clipped branch was taken (no gradient).
    pub clipped: bool,
    /// `ρ`.
    pub ratio: f32,
}

/// The policy term of one token; `clip: None` is the plain (unclipped) policy gradient `−A ρ`.
pub fn policy_term(logp: f32, logp_old: f32, advantage: f32, clip: Option<f32>) -> PolicyTerm {
    let ratio = (logp - logp_old).exp();
    let plain = -advantage * ratio;
    let Some(eps) = clip else {
        return PolicyTerm {
            loss: plain,
            grad: plain,
            clipped: false,
            ratio,
        };
    };
    let clipped = -advantage * ratio.clamp(1.0 - eps, 1.0 + eps);
    if plain >= clipped {
        PolicyTerm {
            loss: plain,
            grad: plain, // d(−A e^{lp − lp_old}) / d lp
            clipped: false,
            ratio,
        }
    } else {
        PolicyTerm {
            loss: clipped,
            grad: 0.0,
            clipped: true,
            ratio,
        }
    }
}

/// One token's value loss `½ max((V − R)², (clip(V, V_old ± c) − R)²)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValueTerm {
    /// The loss.
    pub loss: f32,
    /// `dL / dV`.
    pub grad: f32,
    /// The clipped branch was taken.
    pub clipped: bool,
}

/// The value term of one token; `clip: None` is the plain squared error.
pub fn value_term(value: f32, value_old: f32, ret: f32, clip: Option<f32>) -> ValueTerm {
    let plain = 0.5 * (value - ret).powi(2);
    let Some(c) = clip else {
        return ValueTerm {
            loss: plain,
            grad: value - ret,
            clipped: false,
        };
    };
    let v_clipped = value.clamp(value_old - c, value_old + c);
    let clipped = 0.5 * (v_clipped - ret).powi(2);
    if plain >= clipped {
        ValueTerm {
            loss: plain,
            grad: value - ret,
            clipped: false,
        }
    } else {
        // clip(V) is flat in V outside the band, so the clipped branch has no gradient.
        ValueTerm {
            loss: clipped,
            grad: 0.0,
            clipped: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(f: impl Fn(f32) -> f32, x: f32) -> f32 {
        let h = 1e-3;
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    #[test]
    fn policy_clipping_matches_the_formula_and_its_gradient() {
        for (lp, lp_old, a) in [
            (-1.0, -1.1, 2.0),
            (-0.5, -1.0, 2.0),
            (-1.5, -1.0, -1.0),
            (-1.0, -1.0, 0.7),
        ] {
            let t = policy_term(lp, lp_old, a, Some(0.2));
            let r: f32 = (lp - lp_old).exp();
            let expect = (-a * r).max(-a * r.clamp(0.8, 1.2));
            assert!((t.loss - expect).abs() < 1e-6, "{lp} {lp_old} {a}");
            let g = numeric(|x| policy_term(x, lp_old, a, Some(0.2)).loss, lp);
            assert!((t.grad - g).abs() < 1e-2, "grad {} vs numeric {g}", t.grad);
        }
        // A ratio far above 1 + ε with a positive advantage is clipped: no push further.
        let t = policy_term(0.0, -1.0, 1.0, Some(0.2));
        assert!(t.clipped && t.grad == 0.0 && (t.loss + 1.2).abs() < 1e-6);
        let t = policy_term(0.0, -1.0, 1.0, None);
        assert!(!t.clipped && (t.loss + std::f32::consts::E).abs() < 1e-5);
    }

    #[test]
    fn value_clipping_matches_the_formula_and_its_gradient() {
        for (v, v_old, r) in [
            (1.0, 0.9, 2.0),
            (1.5, 1.0, 0.0),
            (0.2, 1.0, 0.1),
            (1.0, 1.0, 1.0),
        ] {
            let t = value_term(v, v_old, r, Some(0.2));
            let vc = v.clamp(v_old - 0.2, v_old + 0.2);
            let expect = 0.5 * (v - r).powi(2).max((vc - r).powi(2));
            assert!((t.loss - expect).abs() < 1e-6);
            let g = numeric(|x| value_term(x, v_old, r, Some(0.2)).loss, v);
            assert!((t.grad - g).abs() < 1e-2, "grad {} vs numeric {g}", t.grad);
        }
        // V moved past the band towards the return: the clipped (larger) loss counts, flat in V.
        let t = value_term(1.5, 1.0, 2.0, Some(0.2));
        assert!(t.clipped && t.grad == 0.0 && (t.loss - 0.32).abs() < 1e-6);
        assert_eq!(value_term(1.5, 1.0, 2.0, None).grad, 1.5 - 2.0);
    }
}
