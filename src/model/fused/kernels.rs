//! Slice kernels behind the fused CPU ops: GELU (exact, erf form), tanh and a causal, scaled
//! softmax, each with its backward. Branch-free bodies that the compiler vectorises; on x86-64
//! the same bodies are compiled a second time with AVX2 + FMA and picked at run time.
//!
//! `exp` is a range reduction to `2ⁿ·eʳ` (|r| ≤ ln2/2) with a degree-7 Taylor polynomial
//! (relative error below 2e-7 on the range used); `erf` is Abramowitz & Stegun 7.1.26 (absolute
//! error below 1.5e-7), which needs `exp(-z²)`: in GELU that is `exp(-x²/2)`, shared with the
//! derivative's Gaussian density.

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// 1.5 · 2²³: adding it rounds a float of magnitude below 2²² to an integer held in the low
/// mantissa bits.
const ROUND: f32 = 12_582_912.0;
const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// 1/√(2π).
const INV_SQRT_2PI: f32 = 0.398_942_3;
const ERF_P: f32 = 0.327_591_1;
const ERF_A: [f32; 5] = [
    0.254_829_6,
    -0.284_496_74,
    1.421_413_7,
    -1.453_152_1,
    1.061_405_4,
];

/// Multiply-add, fused where the caller's compile target has FMA.
#[inline(always)]
pub(super) fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// `eˣ` for `x ≤ 88.7`; inputs below −87.3 give `e^-87.3` (about 1.2e-38) rather than a
/// subnormal or zero.
#[inline(always)]
fn exp<const FMA: bool>(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.7);
    let k = madd::<FMA>(x, LOG2E, ROUND);
    let n = k - ROUND;
    let r = madd::<FMA>(-n, LN2_LO, madd::<FMA>(-n, LN2_HI, x));
    let mut p = 1.0 / 5040.0;
    p = madd::<FMA>(p, r, 1.0 / 720.0);
    p = madd::<FMA>(p, r, 1.0 / 120.0);
    p = madd::<FMA>(p, r, 1.0 / 24.0);
    p = madd::<FMA>(p, r, 1.0 / 6.0);
    p = madd::<FMA>(p, r, 0.5);
    p = madd::<FMA>(p, r, 1.0);
    p = madd::<FMA>(p, r, 1.0);
    // k's low mantissa bits hold n; shifted into the exponent field they make 2ⁿ.
    let two_n = f32::from_bits(k.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23);
    p * two_n
}

/// `erf(z)` given `e = exp(-z²)`.
#[inline(always)]
fn erf_with<const FMA: bool>(z: f32, e: f32) -> f32 {
    let t = 1.0 / madd::<FMA>(ERF_P, z.abs(), 1.0);
    let mut poly = ERF_A[4];
    poly = madd::<FMA>(poly, t, ERF_A[3]);
    poly = madd::<FMA>(poly, t, ERF_A[2]);
    poly = madd::<FMA>(poly, t, ERF_A[1]);
    poly = madd::<FMA>(poly, t, ERF_A[0]);
    let magnitude = 1.0 - poly * t * e;
    magnitude.copysign(z)
}

/// GELU at one point: `x · Φ(x)`, and `Φ(x)` with the density `φ(x)` for the backward.
#[inline(always)]
fn gelu_parts<const FMA: bool>(x: f32) -> (f32, f32) {
    let e = exp::<FMA>(-0.5 * x * x);
    let cdf = 0.5 * (1.0 + erf_with::<FMA>(x * FRAC_1_SQRT_2, e));
    (cdf, e * INV_SQRT_2PI)
}

#[inline(always)]
fn gelu_body<const FMA: bool>(x: &[f32], out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v * gelu_parts::<FMA>(v).0;
    }
}

#[inline(always)]
fn gelu_backward_body<const FMA: bool>(x: &[f32], grad: &[f32], out: &mut [f32]) {
    for ((o, &v), &g) in out.iter_mut().zip(x).zip(grad) {
        let (cdf, pdf) = gelu_parts::<FMA>(v);
        *o = g * madd::<FMA>(v, pdf, cdf);
    }
}

/// `tanh(x) = 1 − 2 / (e²ˣ + 1)`: ±1 where e²ˣ saturates, 0 at 0.
#[inline(always)]
fn tanh_body<const FMA: bool>(x: &[f32], out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = 1.0 - 2.0 / (exp::<FMA>(2.0 * v) + 1.0);
    }
}

/// The gradient of tanh from its output `y`: `grad · (1 − y²)`.
#[inline(always)]
fn tanh_backward_body<const FMA: bool>(y: &[f32], grad: &[f32], out: &mut [f32]) {
    for ((o, &v), &g) in out.iter_mut().zip(y).zip(grad) {
        *o = g * madd::<FMA>(-v, v, 1.0);
    }
}

/// Lanes of a reduction kept apart so the compiler can use vector registers (a single running
/// total is a chain of dependent adds).
const LANES: usize = 8;

/// `fold` over `v` in [`LANES`] interleaved partial results, then folded together.
#[inline(always)]
pub(super) fn lanes(
    v: &[f32],
    init: f32,
    step: impl Fn(f32, f32) -> f32,
    join: impl Fn(f32, f32) -> f32,
) -> f32 {
    let mut acc = [init; LANES];
    let mut chunks = v.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            acc[i] = step(acc[i], c[i]);
        }
    }
    let tail = chunks.remainder().iter().fold(init, |a, &x| step(a, x));
    acc.iter().fold(tail, |a, &x| join(a, x))
}

/// `Σ a ⊙ b` in [`LANES`] partial sums.
#[inline(always)]
pub(super) fn dot_lanes<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0; LANES];
    let (mut ca, mut cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..LANES {
            acc[i] = madd::<FMA>(x[i], y[i], acc[i]);
        }
    }
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

/// One row of the causal softmax: `y = softmax(scale · s)` over the row's first `valid` entries;
/// the rest are 0.
#[inline(always)]
fn softmax_row_body<const FMA: bool>(s: &[f32], scale: f32, valid: usize, y: &mut [f32]) {
    let (head, tail) = y.split_at_mut(valid);
    let s = &s[..valid];
    let max = lanes(s, f32::NEG_INFINITY, |m, v| m.max(v), |m, v| m.max(v)) * scale;
    for (o, &v) in head.iter_mut().zip(s) {
        *o = exp::<FMA>(madd::<FMA>(v, scale, -max));
    }
    let inv = 1.0 / lanes(head, 0.0, |a, v| a + v, |a, v| a + v);
    head.iter_mut().for_each(|o| *o *= inv);
    tail.fill(0.0);
}

/// One row of its backward: `dx = scale · y ⊙ (dy − Σ y ⊙ dy)` on the first `valid` entries.
#[inline(always)]
fn softmax_row_backward_body<const FMA: bool>(
    y: &[f32],
    dy: &[f32],
    scale: f32,
    valid: usize,
    dx: &mut [f32],
) {
    let (head, tail) = dx.split_at_mut(valid);
    let (y, dy) = (&y[..valid], &dy[..valid]);
    let dot = dot_lanes::<FMA>(y, dy);
    for ((o, &a), &b) in head.iter_mut().zip(y).zip(dy) {
        *o = scale * a * (b - dot);
    }
    tail.fill(0.0);
}

/// Rows `[rows, n]` of `seq × seq` score matrices: row `i` of each matrix may see `0..=i`.
fn causal_rows<F: FnMut(usize, usize)>(rows: usize, seq: usize, mut f: F) {
    for r in 0..rows {
        f(r, r % seq + 1);
    }
}

macro_rules! dispatch {
    ($name:ident, $body:ident, ($($arg:ident: $ty:ty),*)) => {
        /// Runs the body compiled for the best instruction set this CPU has.
        pub fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn wide($($arg: $ty),*) {
                    $body::<true>($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has the features `wide` is compiled for (checked above).
                    unsafe { wide($($arg),*) };
                    return;
                }
            }
            $body::<false>($($arg),*)
        }
    };
}

dispatch!(gelu, gelu_body, (x: &[f32], out: &mut [f32]));
dispatch!(gelu_backward, gelu_backward_body, (x: &[f32], grad: &[f32], out: &mut [f32]));
dispatch!(tanh, tanh_body, (x: &[f32], out: &mut [f32]));
dispatch!(tanh_backward, tanh_backward_body, (y: &[f32], grad: &[f32], out: &mut [f32]));

#[inline(always)]
fn causal_softmax_body<const FMA: bool>(s: &[f32], seq: usize, scale: f32, y: &mut [f32]) {
    causal_rows(s.len() / seq, seq, |r, valid| {
        let span = r * seq..(r + 1) * seq;
        softmax_row_body::<FMA>(&s[span.clone()], scale, valid, &mut y[span]);
    });
}

#[inline(always)]
fn causal_softmax_backward_body<const FMA: bool>(
    y: &[f32],
    dy: &[f32],
    seq: usize,
    scale: f32,
    dx: &mut [f32],
) {
    causal_rows(y.len() / seq, seq, |r, valid| {
        let span = r * seq..(r + 1) * seq;
        softmax_row_backward_body::<FMA>(
            &y[span.clone()],
            &dy[span.clone()],
            scale,
            valid,
            &mut dx[span],
        );
    });
}

dispatch!(causal_softmax, causal_softmax_body, (s: &[f32], seq: usize, scale: f32, y: &mut [f32]));
dispatch!(
    causal_softmax_backward,
    causal_softmax_backward_body,
    (y: &[f32], dy: &[f32], seq: usize, scale: f32, dx: &mut [f32])
);

#[cfg(test)]
mod tests {
    use super::*;

    fn erf_reference(x: f64) -> f64 {
        // Taylor series: accurate to ~1e-9 in f64 for |x| ≤ 4 (terms grow like e^(x²)).
        let mut term = x;
        let mut sum = x;
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    fn grid() -> Vec<f32> {
        (-800..=800).map(|i| i as f32 / 100.0).collect()
    }

    #[test]
    fn exp_is_within_a_few_ulps_on_the_range_used_and_clamps_below() {
        for fma in [false, true] {
            for &x in &grid() {
                let x = x * 10.0;
                let got = if fma { exp::<true>(x) } else { exp::<false>(x) };
                let want = (x as f64).exp();
                assert!(
                    ((got as f64 - want) / want).abs() < 4e-7,
                    "exp({x}) = {got}, want {want}"
                );
            }
            let low = if fma {
                exp::<true>(-200.0)
            } else {
                exp::<false>(-200.0)
            };
            assert!(low > 0.0 && low < 2e-38, "{low}");
        }
    }

    #[test]
    fn gelu_and_its_derivative_match_the_erf_formula() {
        let x = grid();
        let (mut y, mut d) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        gelu(&x, &mut y);
        gelu_backward(&x, &vec![1.0; x.len()], &mut d);
        for i in 0..x.len() {
            let v = x[i] as f64;
            if v.abs() > 5.5 {
                // Beyond the series' range (cancellation): GELU is x or 0 there to f32 precision.
                let (want, slope) = if v > 0.0 { (v, 1.0) } else { (0.0, 0.0) };
                assert!((y[i] as f64 - want).abs() < 1e-6, "gelu({v}) = {}", y[i]);
                assert!((d[i] as f64 - slope).abs() < 1e-6, "gelu'({v}) = {}", d[i]);
                continue;
            }
            let cdf = 0.5 * (1.0 + erf_reference(v / 2f64.sqrt()));
            let pdf = (-v * v / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
            assert!((y[i] as f64 - v * cdf).abs() < 2e-6, "gelu({v}) = {}", y[i]);
            assert!(
                (d[i] as f64 - (cdf + v * pdf)).abs() < 2e-6,
                "gelu'({v}) = {}",
                d[i]
            );
        }
        // The scalar path gives the same values within rounding.
        let mut scalar = vec![0.0; x.len()];
        gelu_body::<false>(&x, &mut scalar);
        for (a, b) in scalar.iter().zip(&y) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    #[test]
    fn causal_softmax_by_hand_and_its_backward_against_differences() {
        // Two 3 × 3 matrices (seq 3): row i sees entries 0..=i.
        let s = [
            0.5, 9.0, 9.0, 1.0, 2.0, 9.0, -1.0, 0.0, 3.0, //
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0,
        ];
        let scale = 0.5;
        let mut y = [0.0; 18];
        causal_softmax(&s, 3, scale, &mut y);
        let row1 = [(0.5f64).exp(), (1.0f64).exp()];
        let z = row1[0] + row1[1];
        let want = [
            1.0,
            0.0,
            0.0,
            row1[0] / z,
            row1[1] / z,
            0.0,
            (-0.5f64).exp(),
            1.0,
            (1.5f64).exp(),
        ];
        let z2 = want[6] + want[7] + want[8];
        for (i, w) in want.iter().enumerate() {
            let w = if i >= 6 { w / z2 } else { *w };
            assert!(
                (y[i] as f64 - w).abs() < 1e-6,
                "y[{i}] = {}, want {w}",
                y[i]
            );
        }
        assert_eq!(&y[9..12], &[1.0, 0.0, 0.0]);
        assert!((y[15] - 1.0 / 3.0).abs() < 1e-6);

        // Backward against central differences of L = Σ w ⊙ y.
        let w: Vec<f32> = (0..18).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut dx = [0.0; 18];
        causal_softmax_backward(&y, &w, 3, scale, &mut dx);
        let loss = |s: &[f32]| {
            let mut y = [0.0; 18];
            causal_softmax(s, 3, scale, &mut y);
            y.iter().zip(&w).map(|(a, b)| (a * b) as f64).sum::<f64>()
        };
        for i in 0..18 {
            let (mut up, mut down) = (s, s);
            up[i] += 1e-2;
            down[i] -= 1e-2;
            let numeric = (loss(&up) - loss(&down)) / 2e-2;
            assert!(
                (dx[i] as f64 - numeric).abs() < 1e-3,
                "dx[{i}] = {}, numeric {numeric}",
                dx[i]
            );
        }
        // Masked entries get no gradient.
        assert_eq!(dx[1], 0.0);
        assert_eq!(dx[5], 0.0);
    }
}
