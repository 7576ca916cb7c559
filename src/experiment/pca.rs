//! 2-D maps of feature vectors: projection onto the top two principal components (power
//! iteration on the covariance, or on the Gram matrix when there are fewer rows than columns) — the held-out feature scatter of the reward-model tab (Fig 11
//! analogue) and iterative RLHF's map of where the policy's responses land — and the convex hull
//! of a set of points.

/// The top two principal axes of a set of rows, to project other rows with.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    mean: Vec<f64>,
    first: Vec<f64>,
    second: Vec<f64>,
}

impl Projection {
    /// The axes of `rows` (all of length d); `None` with fewer than two rows or no columns.
    pub fn fit(rows: &[Vec<f32>]) -> Option<Self> {
        let n = rows.len();
        let d = rows.first().map_or(0, Vec::len);
        if n < 2 || d == 0 {
            return None;
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
        let (first, second) = if n < d {
            // Fewer rows than columns: the axes from the n × n Gram matrix C Cᵀ (its
            // eigenvectors u give the covariance's as Cᵀ u), far cheaper than d × d.
            let gram: Vec<Vec<f64>> = centred
                .iter()
                .map(|a| centred.iter().map(|b| dot(a, b)).collect())
                .collect();
            let u1 = top_eigenvector(&gram, None);
            let u2 = top_eigenvector(&gram, Some(&u1));
            let axis = |u: &[f64]| {
                let mut v = vec![0.0f64; d];
                for (c, &w) in centred.iter().zip(u) {
                    for (x, y) in v.iter_mut().zip(c) {
                        *x += w * y;
                    }
                }
                let norm = dot(&v, &v).sqrt().max(1e-12);
                v.iter_mut().for_each(|x| *x /= norm);
                v
            };
            (axis(&u1), axis(&u2))
        } else {
            let mut cov = vec![vec![0.0f64; d]; d];
            for c in &centred {
                for (i, row) in cov.iter_mut().enumerate() {
                    if c[i] == 0.0 {
                        continue;
                    }
                    for (j, v) in row.iter_mut().enumerate() {
                        *v += c[i] * c[j];
                    }
                }
            }
            let first = top_eigenvector(&cov, None);
            let second = top_eigenvector(&cov, Some(&first));
            (first, second)
        };
        Some(Self {
            mean,
            first,
            second,
        })
    }

    /// Where `row` lands on the two axes.
    pub fn apply(&self, row: &[f32]) -> [f64; 2] {
        let c: Vec<f64> = (0..self.mean.len())
            .map(|k| f64::from(row.get(k).copied().unwrap_or(0.0)) - self.mean[k])
            .collect();
        [dot(&c, &self.first), dot(&c, &self.second)]
    }
}

/// The convex hull of `points`, counter-clockwise from the lowest-leftmost (Andrew's monotone
/// chain); fewer than three distinct points come back as they are, deduplicated.
pub fn convex_hull(points: &[[f64; 2]]) -> Vec<[f64; 2]> {
    let mut p: Vec<[f64; 2]> = points
        .iter()
        .copied()
        .filter(|q| q[0].is_finite() && q[1].is_finite())
        .collect();
    p.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    p.dedup();
    if p.len() < 3 {
        return p;
    }
    let cross = |o: [f64; 2], a: [f64; 2], b: [f64; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut hull: Vec<[f64; 2]> = Vec::with_capacity(2 * p.len());
    for pass in 0..2 {
        let start = hull.len();
        let points: Box<dyn Iterator<Item = &[f64; 2]>> = if pass == 0 {
            Box::new(p.iter())
        } else {
            Box::new(p.iter().rev())
        };
        for &q in points {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0
            {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

/// Project `rows` (all of length d) onto their top two principal components.
pub fn project_2d(rows: &[Vec<f32>]) -> Vec<[f64; 2]> {
    match Projection::fit(rows) {
        Some(p) => rows.iter().map(|r| p.apply(r)).collect(),
        None => rows.iter().map(|_| [0.0, 0.0]).collect(),
    }
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
        let next: Vec<f64> = next.into_iter().map(|x| x / norm).collect();
        let moved = next
            .iter()
            .zip(&v)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        v = next;
        if moved < 1e-10 {
            break;
        }
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
        // Fewer rows than columns (the Gram path) finds the covariance's axes, up to sign: three
        // rows of three columns, then the same rows with four zero columns more.
        let few: Vec<Vec<f32>> = rows.iter().skip(20).take(3).cloned().collect();
        let wide: Vec<Vec<f32>> = few
            .iter()
            .map(|r| r.iter().chain(&[0.0; 4]).copied().collect())
            .collect();
        let (a, b) = (project_2d(&few), project_2d(&wide));
        for (x, y) in a.iter().zip(&b) {
            assert!((x[0].abs() - y[0].abs()).abs() < 1e-9, "{a:?} vs {b:?}");
        }
        // Other rows land on the same axes: a point further along (1, 1, 0) lands further out.
        let fit = Projection::fit(&rows).unwrap();
        let far = fit.apply(&[100.0, 100.0, 0.0]);
        assert!(far[0].abs() > p[0][0].abs() * 3.0);
    }

    #[test]
    fn the_hull_keeps_the_corners_in_order() {
        let pts = [
            [0.0, 0.0],
            [2.0, 0.0],
            [1.0, 1.0],
            [2.0, 2.0],
            [0.0, 2.0],
            [1.0, 0.0],
            [0.0, 0.0],
        ];
        assert_eq!(
            convex_hull(&pts),
            vec![[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0]]
        );
        assert_eq!(convex_hull(&[[1.0, 1.0], [1.0, 1.0]]), vec![[1.0, 1.0]]);
    }
}
