//! A 2-D projection of feature vectors by principal components (power iteration on the
//! covariance), computed in the app for the held-out feature scatter (Fig 11 analogue).

/// Project `rows` (all of length d) onto their top two principal components.
pub fn project_2d(rows: &[Vec<f32>]) -> Vec<[f64; 2]> {
    let n = rows.len();
    let d = rows.first().map_or(0, Vec::len);
    if n < 2 || d == 0 {
        return rows.iter().map(|_| [0.0, 0.0]).collect();
    }
    let mut mean = vec![0.0f64; d];
    for r in rows {
        for (k, &x) in r.iter().enumerate().take(d) {
            mean[k] += f64::from(x) / n as f64;
        }
    }
    let centred: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            (0..d)
                .map(|k| f64::from(r.get(k).copied().unwrap_or(0.0)) - mean[k])
                .collect()
        })
        .collect();
    let mut cov = vec![vec![0.0f64; d]; d];
    for r in &centred {
        for (i, row) in cov.iter_mut().enumerate() {
            for (j, c) in row.iter_mut().enumerate() {
                *c += r[i] * r[j];
            }
        }
    }
    let first = top_eigenvector(&cov, None);
    let second = top_eigenvector(&cov, Some(&first));
    centred
        .iter()
        .map(|r| [dot(r, &first), dot(r, &second)])
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Power iteration for the leading eigenvector of a symmetric matrix, orthogonal to `skip`.
fn top_eigenvector(m: &[Vec<f64>], skip: Option<&[f64]>) -> Vec<f64> {
    let d = m.len();
    let mut v: Vec<f64> = (0..d).map(|k| 1.0 + k as f64 * 0.01).collect();
    for _ in 0..200 {
        if let Some(u) = skip {
            let p = dot(&v, u);
            for k in 0..d {
                v[k] -= p * u[k];
            }
        }
        let next: Vec<f64> = m.iter().map(|row| dot(row, &v)).collect();
        let norm = dot(&next, &next).sqrt();
        if norm < 1e-12 {
            break;
        }
        v = next.into_iter().map(|x| x / norm).collect();
    }
    if let Some(u) = skip {
        let p = dot(&v, u);
        for k in 0..d {
            v[k] -= p * u[k];
        }
        let norm = dot(&v, &v).sqrt().max(1e-12);
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_finds_the_spread_directions() {
        // Points spread along (1, 1, 0) a lot and along (0, 0, 1) a little.
        let rows: Vec<Vec<f32>> = (0..50)
            .map(|i| {
                let a = i as f32 - 25.0;
                let b = if i % 2 == 0 { 1.0 } else { -1.0 };
                vec![a, a, b]
            })
            .collect();
        let p = project_2d(&rows);
        let var = |k: usize| p.iter().map(|x| x[k] * x[k]).sum::<f64>() / p.len() as f64;
        assert!(var(0) > 100.0 * var(1), "{} vs {}", var(0), var(1));
        assert!(
            (var(1) - 1.0).abs() < 0.05,
            "second component is the ±1 axis: {}",
            var(1)
        );
        // The first coordinate is ±√2·(a − mean a), and a − mean a = −24.5 for the first point.
        assert!(
            (p[0][0].abs() - 24.5 * 2f64.sqrt()).abs() < 1e-2,
            "{}",
            p[0][0]
        );
    }
}
