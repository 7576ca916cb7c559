//! Weighted bags of embedding rows, the bag-of-words model's input: for every member `k` of a
//! stack of tables and every row `r` of its batch, `Σ_s w[k, r, s] · table[k, ids[k, r, s], :]`,
//! for each of several weightings of the same ids. On burn-flex this reads each table row once
//! per position and writes only the sums (burn's ops gather a `[members, rows, seq, d]` copy, then
//! multiply and sum it once per weighting); its backward adds each position's weighted gradient
//! into that table row, without a gathered copy either.
use std::sync::Arc;

use burn::{
    backend::{
        Autodiff, Flex, TensorMetadata,
        autodiff::{
            checkpoint::{base::Checkpointer, strategy::NoCheckpointing},
            grads::Gradients,
            ops::{Backward, Ops, OpsKind, unary},
        },
        flex::FlexTensor,
        tensor::FloatTensor,
    },
    tensor::{Int, Tensor, TensorData},
};

use super::flex::{contiguous, from_vec, values};
use super::ops::{on_autodiff_flex, on_flex};

/// Which table rows a batch's positions read, and their weights: cell `c` of
/// `[members, rows, seq]` (row-major) reads row `ids[c]` of its member's table, with weight
/// `weights[j][c]` in the `j`-th sum.
#[derive(Debug, Clone, PartialEq)]
pub struct BagLayout {
    pub members: usize,
    pub rows: usize,
    pub seq: usize,
    pub ids: Vec<u32>,
    pub weights: Vec<Vec<f32>>,
}

impl BagLayout {
    fn cells(&self) -> usize {
        self.members * self.rows * self.seq
    }

    /// The sums of cell range `cells` (whole rows) into `out`, `[rows, sums, d]` for those rows.
    fn add_rows(&self, table: &[f32], entries: usize, d: usize, first_row: usize, out: &mut [f32]) {
        let sums = self.weights.len();
        for (i, o) in out.chunks_exact_mut(sums * d).enumerate() {
            let row = first_row + i;
            let member = &table[row / self.rows * entries * d..][..entries * d];
            for c in row * self.seq..(row + 1) * self.seq {
                let src = &member[self.ids[c] as usize * d..][..d];
                for (j, w) in self.weights.iter().enumerate() {
                    axpy(w[c], src, &mut o[j * d..(j + 1) * d]);
                }
            }
        }
    }

    /// The gradient of member `k`'s table (`[entries, d]`, into `g`) from the sums' `dy`.
    fn add_grads(&self, dy: &[f32], d: usize, k: usize, g: &mut [f32]) {
        let sums = self.weights.len();
        for row in k * self.rows..(k + 1) * self.rows {
            let dy_row = &dy[row * sums * d..][..sums * d];
            for c in row * self.seq..(row + 1) * self.seq {
                let dst = &mut g[self.ids[c] as usize * d..][..d];
                for (j, w) in self.weights.iter().enumerate() {
                    axpy(w[c], &dy_row[j * d..(j + 1) * d], dst);
                }
            }
        }
    }
}

/// `y += a · x`, skipped for `a = 0` (padding, and positions outside a weighting).
#[inline(always)]
fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    if a != 0.0 {
        for (o, &v) in y.iter_mut().zip(x) {
            *o += a * v;
        }
    }
}

/// The bags of `table` `[members, entries, d]` as laid out in `layout`: `[members, rows, J·d]`,
/// the `j`-th weighting's sums in columns `j·d..(j+1)·d`.
///
/// # Panics
/// If the layout's sizes disagree with each other or with the table, or an id is not a row of
/// the table: the layouts come from the model's own batches, so this is a bug, not bad input.
pub fn weighted_bags(table: Tensor<3>, layout: BagLayout) -> Tensor<3> {
    let [members, entries, _] = table.dims();
    let cells = layout.cells();
    assert!(
        layout.members == members
            && layout.ids.len() == cells
            && layout.weights.iter().all(|w| w.len() == cells)
            && layout.ids.iter().all(|&id| (id as usize) < entries),
        "weighted_bags: a layout for {} members of {}×{} cells against a table of {members}×{entries} rows",
        layout.members,
        layout.rows,
        layout.seq,
    );
    if let Some(t) = on_autodiff_flex(&table) {
        return Tensor::from_primitive::<Autodiff<Flex>>(autodiff(t, Arc::new(layout)));
    }
    if let Some(t) = on_flex(&table) {
        return Tensor::from_primitive::<Flex>(forward(&t, &layout));
    }
    reference(table, &layout)
}

/// [`weighted_bags`] from burn's ops: gather, multiply, sum.
pub fn reference(table: Tensor<3>, layout: &BagLayout) -> Tensor<3> {
    let [members, entries, d] = table.dims();
    let (rows, seq, cells) = (layout.rows, layout.seq, layout.cells());
    let device = table.device();
    let per_member = rows * seq;
    let ids: Vec<i64> = (layout.ids.iter().enumerate())
        .map(|(c, &id)| (c / per_member.max(1) * entries) as i64 + i64::from(id))
        .collect();
    let ids = Tensor::<1, Int>::from_data(TensorData::new(ids, [cells]), &device);
    let tokens = table
        .reshape([members * entries, d])
        .select(0, ids)
        .reshape([members, rows, seq, d]);
    let sums = layout.weights.iter().map(|w| {
        let w =
            Tensor::<4>::from_data(TensorData::new(w.clone(), [members, rows, seq, 1]), &device);
        (tokens.clone() * w).sum_dim(2).reshape([members, rows, d])
    });
    Tensor::cat(sums.collect(), 2)
}

/// Rows of the output per parallel task.
#[cfg(not(target_arch = "wasm32"))]
const ROWS_PER_TASK: usize = 16;

fn forward(table: &FlexTensor, layout: &BagLayout) -> FlexTensor {
    let table = contiguous(table);
    let shape = table.shape();
    let (entries, d) = (shape[1], shape[2]);
    let width = layout.weights.len() * d;
    let all_rows = layout.members * layout.rows;
    let mut out = vec![0f32; all_rows * width];
    let table = values(&table);
    #[cfg(not(target_arch = "wasm32"))]
    if width > 0 {
        use rayon::prelude::*;
        out.par_chunks_mut(ROWS_PER_TASK * width)
            .enumerate()
            .for_each(|(i, o)| layout.add_rows(table, entries, d, i * ROWS_PER_TASK, o));
    }
    #[cfg(target_arch = "wasm32")]
    layout.add_rows(table, entries, d, 0, &mut out);
    from_vec(out, [layout.members, layout.rows, width].into())
}

fn backward(dy: &FlexTensor, layout: &BagLayout, entries: usize) -> FlexTensor {
    let dy = contiguous(dy);
    let d = dy.shape()[2] / layout.weights.len().max(1);
    let mut g = vec![0f32; layout.members * entries * d];
    let dy = values(&dy);
    #[cfg(not(target_arch = "wasm32"))]
    if entries * d > 0 {
        use rayon::prelude::*;
        g.par_chunks_mut(entries * d)
            .enumerate()
            .for_each(|(k, g)| layout.add_grads(dy, d, k, g));
    }
    #[cfg(target_arch = "wasm32")]
    for (k, g) in g.chunks_mut(entries * d).enumerate() {
        layout.add_grads(dy, d, k, g);
    }
    from_vec(g, [layout.members, entries, d].into())
}

#[derive(Debug)]
struct Bags;

impl Backward<Flex, 1> for Bags {
    /// The layout and the table's number of rows.
    type State = (Arc<BagLayout>, usize);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (layout, entries) = ops.state;
        unary::<Flex, _>(ops.parents, ops.node, grads, |dy| {
            backward(&dy, &layout, entries)
        });
    }
}

fn autodiff(
    table: FloatTensor<Autodiff<Flex>>,
    layout: Arc<BagLayout>,
) -> FloatTensor<Autodiff<Flex>> {
    let y = forward(table.primitive(), &layout);
    let entries = table.primitive().shape()[1];
    match Bags
        .prepare::<NoCheckpointing>([table.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish((layout, entries), y),
        OpsKind::UnTracked(prep) => prep.finish(y),
    }
}
