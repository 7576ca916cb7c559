//! A linear layer `y = x·W + b` on f32 slices, and its gradients, as direct matrix products
//! (the `gemm` crate, which burn-flex also uses) into buffers of our own: the bias is written
//! first and the product added onto it, and no output is zeroed and then copied again (burn-flex
//! allocates each result as bytes, zeroed, and copies it once more to align it).
//!
//! Row-major throughout: `x` `[rows, d_in]`, `w` `[d_in, d_out]`, `y` `[rows, d_out]`.

/// Which threads a product may use.
fn parallelism(rows: usize) -> gemm::Parallelism {
    #[cfg(not(target_arch = "wasm32"))]
    if rows >= 64 {
        return gemm::Parallelism::Rayon(0);
    }
    let _ = rows;
    gemm::Parallelism::None
}

/// `dst = [dst +] a · b`, where `a` is `m × k` and `b` is `k × n`, each given by its element
/// strides (row, column), and `dst` is `m × n` with rows `dst_rs` apart. One thread when
/// `threads` is false (the caller runs several at once).
#[allow(clippy::too_many_arguments)]
pub(super) fn product_strided(
    (m, k, n): (usize, usize, usize),
    (dst, dst_rs): (&mut [f32], usize),
    accumulate: bool,
    a: &[f32],
    (a_rs, a_cs): (usize, usize),
    b: &[f32],
    (b_rs, b_cs): (usize, usize),
    threads: bool,
) {
    let last = |rows: usize, rs: usize, cols: usize, cs: usize| {
        if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * rs + (cols - 1) * cs + 1
        }
    };
    assert!(
        dst.len() >= last(m, dst_rs, n, 1)
            && a.len() >= last(m, a_rs, k, a_cs)
            && b.len() >= last(k, b_rs, n, b_cs),
        "matrix product: a buffer is shorter than its shape"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for row in 0..m {
                dst[row * dst_rs..row * dst_rs + n].fill(0.0);
            }
        }
        return;
    }
    let parallelism = if threads {
        parallelism(m)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: every element the strides reach lies inside its slice (asserted above), and `dst`
    // does not overlap `a` or `b` (a `&mut` and two `&` slices).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// [`product_strided`] into a contiguous `dst`, on all threads.
fn product(
    (m, k, n): (usize, usize, usize),
    dst: &mut [f32],
    accumulate: bool,
    a: &[f32],
    a_strides: (usize, usize),
    b: &[f32],
    b_strides: (usize, usize),
) {
    product_strided(
        (m, k, n),
        (dst, n),
        accumulate,
        a,
        a_strides,
        b,
        b_strides,
        true,
    );
}

/// `y = x·W + b`.
pub fn forward(x: &[f32], w: &[f32], b: Option<&[f32]>, d_in: usize, d_out: usize) -> Vec<f32> {
    let rows = x.len() / d_in.max(1);
    let mut y = match b {
        Some(b) => b.repeat(rows),
        None => vec![0.0; rows * d_out],
    };
    product(
        (rows, d_in, d_out),
        &mut y,
        b.is_some(),
        x,
        (d_in, 1),
        w,
        (d_out, 1),
    );
    y
}

/// `dx = dy·Wᵀ`.
pub fn grad_input(dy: &[f32], w: &[f32], d_in: usize, d_out: usize) -> Vec<f32> {
    let rows = dy.len() / d_out.max(1);
    let mut dx = vec![0.0; rows * d_in];
    product(
        (rows, d_out, d_in),
        &mut dx,
        false,
        dy,
        (d_out, 1),
        w,
        (1, d_out),
    );
    dx
}

/// `dW = xᵀ·dy`.
pub fn grad_weight(x: &[f32], dy: &[f32], d_in: usize, d_out: usize) -> Vec<f32> {
    let rows = x.len() / d_in.max(1);
    let mut dw = vec![0.0; d_in * d_out];
    product(
        (d_in, rows, d_out),
        &mut dw,
        false,
        x,
        (1, d_in),
        dy,
        (d_out, 1),
    );
    dw
}

/// `db = Σ_rows dy`.
pub fn grad_bias(dy: &[f32], d_out: usize) -> Vec<f32> {
    let mut db = vec![0.0; d_out];
    for row in dy.chunks_exact(d_out.max(1)) {
        db.iter_mut().zip(row).for_each(|(s, v)| *s += v);
    }
    db
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_gradients_by_hand() {
        // x [2, 3], w [3, 2], b [2].
        let x = [1.0, 2.0, 3.0, -1.0, 0.0, 2.0];
        let w = [1.0, 0.5, -1.0, 2.0, 0.0, 1.0];
        let b = [0.25, -0.5];
        assert_eq!(forward(&x, &w, None, 3, 2), [-1.0, 7.5, -1.0, 1.5]);
        assert_eq!(forward(&x, &w, Some(&b), 3, 2), [-0.75, 7.0, -0.75, 1.0]);
        let dy = [1.0, 2.0, -1.0, 0.5];
        // dx = dy·Wᵀ: row 0 = [1·1+2·0.5, 1·(−1)+2·2, 0+2·1].
        assert_eq!(grad_input(&dy, &w, 3, 2), [2.0, 3.0, 2.0, -0.75, 2.0, 0.5]);
        // dW = xᵀ·dy: dW[i][j] = Σ_r x[r][i]·dy[r][j].
        assert_eq!(grad_weight(&x, &dy, 3, 2), [2.0, 1.5, 2.0, 4.0, 1.0, 7.0]);
        assert_eq!(grad_bias(&dy, 2), [0.0, 2.5]);
    }
}
