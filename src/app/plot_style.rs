//! One chart style for every tab: the Okabe–Ito palette (colour-blind safe; chosen and rejected
//! are blue and orange, never red and green), titles with a "what am I looking at" button,
//! labelled axes, legends above the plot (never over the data, in a meaningful order), hover
//! text as tooltips above everything, the mouse wheel left to the page (Ctrl + wheel zooms,
//! double-click resets), placeholders instead of empty axes, and optional smoothing.
use egui::Color32;
use egui_plot::{Plot, PlotPoint};

/// Red for errors (readable on the dark and the light theme).
pub const ERROR: Color32 = Color32::from_rgb(240, 90, 80);

/// Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
/// deficiency.
pub mod palette {
    use egui::Color32;
    /// Orange.
    pub const ORANGE: Color32 = Color32::from_rgb(230, 159, 0);
    /// Sky blue.
    pub const SKY: Color32 = Color32::from_rgb(86, 180, 233);
    /// Bluish green.
    pub const GREEN: Color32 = Color32::from_rgb(0, 158, 115);
    /// Yellow.
    pub const YELLOW: Color32 = Color32::from_rgb(240, 228, 66);
    /// Blue.
    pub const BLUE: Color32 = Color32::from_rgb(0, 114, 178);
    /// Vermillion.
    pub const VERMILLION: Color32 = Color32::from_rgb(213, 94, 0);
    /// Reddish purple.
    pub const PURPLE: Color32 = Color32::from_rgb(204, 121, 167);
    /// Grey, for baselines and reference lines.
    pub const GREY: Color32 = Color32::from_rgb(150, 150, 150);

    /// Chosen responses.
    pub const CHOSEN: Color32 = SKY;
    /// Rejected responses.
    pub const REJECTED: Color32 = ORANGE;
    /// Reference lines ("chance", "μ = 0").
    pub const REFERENCE: Color32 = VERMILLION;

    /// `n` steps of a sequential scale (viridis' ends and middle: dark blue → green → yellow),
    /// readable in order by colour-blind viewers.
    pub fn sequential(i: usize, n: usize) -> Color32 {
        let stops = [
            (68.0, 1.0, 84.0),
            (33.0, 145.0, 140.0),
            (253.0, 231.0, 37.0),
        ];
        let t = if n <= 1 {
            0.0
        } else {
            i as f32 / (n - 1) as f32
        };
        let (a, b, u) = if t < 0.5 {
            (stops[0], stops[1], t * 2.0)
        } else {
            (stops[1], stops[2], (t - 0.5) * 2.0)
        };
        let mix = |x: f32, y: f32| (x + (y - x) * u).round() as u8;
        Color32::from_rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}

/// A plot in the shared style: axes labelled, the wheel left to the page (Ctrl + wheel zooms),
/// drag pans, double-click resets. Its id is `egui::Id::unique(id)` (ids are unique per chart).
pub fn plot(id: &str, height: f32, x: &str, y: &str) -> Plot<'static> {
    Plot::new(id)
        .id(egui::Id::unique(id))
        .height(height)
        .x_axis_label(x.to_string())
        .y_axis_label(y.to_string())
        .allow_scroll(false)
        .allow_zoom(true)
        .allow_double_click_reset(true)
        .y_axis_min_width(40.0)
        // Grid lines at 1, 2 and 5 times a power of ten, so that some lines are far enough
        // apart to carry a tick label on short and narrow charts too.
        .x_grid_spacer(egui_plot::uniform_grid_spacer(nice_steps))
        .y_grid_spacer(egui_plot::uniform_grid_spacer(nice_steps))
        .x_axis_formatter(|mark, _| tick_label(mark.value, mark.step_size))
        .y_axis_formatter(|mark, _| tick_label(mark.value, mark.step_size))
}

/// A tick's label with as many decimals as its step needs (0.5 steps show "0.5", not "0").
pub fn tick_label(value: f64, step: f64) -> String {
    let decimals = (-step.abs().max(1e-12).log10()).ceil().clamp(0.0, 12.0) as usize;
    let text = format!("{value:.decimals$}");
    // No "-0" for a value that rounds to zero.
    if text
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        text.trim_start_matches('-').to_string()
    } else {
        text.replace('-', "−")
    }
}

/// The mantissa of a positive number (1 ≤ m < 10).
fn mantissa(x: f64) -> f64 {
    x / 10f64.powf(x.log10().floor())
}

/// The smallest of 1, 2 or 5 times a power of ten that is at least `x`.
fn nice_at_least(x: f64) -> f64 {
    let magnitude = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= x * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// Three grid steps of 1, 2 or 5 times a power of ten, each dividing the next (so labels of two
/// steps never crowd each other). The largest is the smallest whose lines lie at least 64
/// points apart (egui_plot's grid starts at 8 points: `base_step_size` is 8 points' worth), far
/// enough for tick labels on both axes; the smaller two are finer, unlabelled lines.
pub fn nice_steps(input: egui_plot::GridInput) -> [f64; 3] {
    let base = input.base_step_size.abs().max(1e-12);
    let label = nice_at_least(base * 8.0);
    // 1 → 0.5, 2 → 1, 5 → 1 (times the power of ten): the next finer step that divides it.
    let finer = |s: f64| {
        if mantissa(s) > 4.0 { s / 5.0 } else { s / 2.0 }
    };
    let mid = finer(label);
    let first = finer(mid);
    match (mid >= base * (1.0 - 1e-9), first >= base * (1.0 - 1e-9)) {
        (true, true) => [first, mid, label],
        (true, false) => [mid, mid, label],
        _ => [label, label, label],
    }
}

/// A chart's title and its "what am I looking at" button (hover or click for the text).
pub fn title_ui(ui: &mut egui::Ui, title: &str, info: &str) {
    ui.horizontal_wrapped(|ui| {
        ui.strong(title);
        let id = ui.make_persistent_id(("info", title));
        let open = ui.data(|d| d.get_temp::<bool>(id).unwrap_or(false));
        let button = ui
            .small_button("?")
            .on_hover_text(format!("What am I looking at?\n\n{info}"));
        if button.clicked() {
            ui.data_mut(|d| d.insert_temp(id, !open));
        }
        if open {
            ui.label(egui::RichText::new(info).italics());
        }
    });
}

/// A chart's title, its "what am I looking at" button, and PNG and CSV buttons: the PNG is the
/// screen cut to the charts `ids` (with their axes) as last drawn; `csv` makes the data.
pub fn chart_title_ui(
    ui: &mut egui::Ui,
    title: &str,
    info: &str,
    ids: &[&str],
    csv: &dyn Fn() -> String,
) {
    ui.horizontal(|ui| {
        title_ui(ui, title, info);
        let stem = super::export::file_stem(title);
        if ui
            .small_button("PNG")
            .on_hover_text("Save this chart as a picture")
            .clicked()
        {
            let rect = ids
                .iter()
                .filter_map(|id| egui_plot::PlotMemory::load(ui.ctx(), egui::Id::unique(*id)))
                .map(|m| *m.transform().frame())
                .reduce(|a, b| a.union(b))
                // The axes and their labels lie outside the plot's frame.
                .map(|r| {
                    egui::Rect::from_min_max(
                        r.min - egui::vec2(60.0, 4.0),
                        r.max + egui::vec2(6.0, 44.0),
                    )
                });
            super::export::request(
                ui.ctx(),
                super::export::Export::Png {
                    name: format!("{stem}.png"),
                    rect,
                },
            );
        }
        if ui
            .small_button("CSV")
            .on_hover_text("Save the numbers behind this chart")
            .clicked()
        {
            super::export::request(
                ui.ctx(),
                super::export::Export::File {
                    name: format!("{stem}.csv"),
                    bytes: csv().into_bytes(),
                },
            );
        }
    });
}

/// A legend above a chart: a swatch and a name per series, in the order given.
pub fn legend_ui(ui: &mut egui::Ui, entries: &[(&str, Color32)]) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        for (name, color) in entries {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
            ui.painter().rect_filled(rect, 2.0, *color);
            ui.label(*name);
            ui.add_space(8.0);
        }
    });
}

/// [`legend_ui`] for names built at run time.
pub fn legend_owned_ui(ui: &mut egui::Ui, entries: &[(String, Color32)]) {
    let entries: Vec<(&str, Color32)> = entries.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    legend_ui(ui, &entries);
}

/// In place of an empty chart: a frame of the chart's size saying what will appear there.
pub fn placeholder_ui(ui: &mut egui::Ui, height: f32, text: &str) {
    let width = ui.available_width();
    let (rect, _) = ui.allocate_exact_size(egui::vec2(width, height), egui::Sense::hover());
    let weak = ui.visuals().weak_text_color();
    ui.painter().rect_stroke(
        rect,
        4.0,
        egui::Stroke::new(1.0, weak),
        egui::StrokeKind::Inside,
    );
    ui.put(
        rect.shrink(12.0),
        egui::Label::new(egui::RichText::new(text).color(weak)).wrap(),
    );
}

/// A bar's place and its hover text, for [`bar_tooltip`].
pub struct BarTip {
    /// Centre on the x axis.
    pub x: f64,
    /// Width on the x axis.
    pub width: f64,
    /// The text shown when the pointer is over it.
    pub text: String,
}

/// Show the hover text of the bar under the pointer as a tooltip above everything (a plot's own
/// hover text is clipped to the plot). `pointer` is the plot coordinate under the pointer.
pub fn bar_tooltip(response: &egui::Response, pointer: Option<PlotPoint>, bars: &[BarTip]) {
    let Some(p) = pointer else { return };
    if !response.hovered() {
        return;
    }
    if let Some(bar) = bars.iter().find(|b| (p.x - b.x).abs() <= b.width / 2.0) {
        response.clone().on_hover_ui_at_pointer(|ui| {
            ui.label(&bar.text);
        });
    }
}

/// An exponential moving average of a curve (`weight` 0 = as it is, 0.99 = very smooth), like
/// TensorBoard's smoothing: each point is the weighted mean of the points before it.
pub fn smooth(points: &[[f64; 2]], weight: f64) -> Vec<[f64; 2]> {
    let weight = weight.clamp(0.0, 0.999);
    let mut last = None;
    let mut debias = 0.0;
    points
        .iter()
        .map(|&[x, y]| {
            let s = match last {
                None => y * (1.0 - weight),
                Some(l) => l * weight + y * (1.0 - weight),
            };
            last = Some(s);
            debias = debias * weight + (1.0 - weight);
            [x, s / debias]
        })
        .collect()
}

/// The range `[lo, hi]` of values with a margin of `pad` of the span (at least `min_span`), for
/// y-ranges fitted to the data.
pub fn fitted(values: impl IntoIterator<Item = f64>, pad: f64, min_span: f64) -> Option<[f64; 2]> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return None;
    }
    let span = (hi - lo).max(min_span);
    let mid = (hi + lo) / 2.0;
    Some([mid - span / 2.0 - pad * span, mid + span / 2.0 + pad * span])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_is_a_debiased_moving_average() {
        let pts = [[0.0, 1.0], [1.0, 3.0], [2.0, 3.0]];
        assert_eq!(smooth(&pts, 0.0), pts.to_vec(), "weight 0 keeps the curve");
        let s = smooth(&pts, 0.5);
        // Raw averages 0.5, 1.75, 2.375, divided by 1 − 0.5ⁿ: 0.5, 0.75, 0.875.
        assert!((s[0][1] - 1.0).abs() < 1e-12);
        assert!((s[1][1] - 7.0 / 3.0).abs() < 1e-12, "{s:?}");
        assert!((s[2][1] - 2.375 / 0.875).abs() < 1e-12, "{s:?}");
        assert_eq!(s[2][0], 2.0);
    }

    #[test]
    fn fitted_ranges_hold_the_data_with_a_margin() {
        // Span 0.028 around 0.85, plus 10 % of it on each side.
        let r = fitted([0.836, 0.864], 0.1, 0.01).unwrap();
        assert!(
            (r[0] - 0.8332).abs() < 1e-9 && (r[1] - 0.8668).abs() < 1e-9,
            "{r:?}"
        );
        let r = fitted([0.5, 0.5], 0.0, 0.02).unwrap();
        assert!((r[0] - 0.49).abs() < 1e-12 && (r[1] - 0.51).abs() < 1e-12);
        assert_eq!(fitted([f64::NAN], 0.1, 0.1), None);
    }

    #[test]
    fn grid_steps_are_one_two_five_each_dividing_the_next() {
        let input = |base| egui_plot::GridInput {
            bounds: (0.0, 1.0),
            base_step_size: base,
        };
        let close =
            |a: [f64; 3], b: [f64; 3]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9 * y.abs());
        // Labelled steps of at least 8 × the suggested size: 2.4 → 5, 1.2 → 2, 0.08 → 0.1.
        assert!(close(nice_steps(input(0.3)), [0.5, 1.0, 5.0]));
        assert!(close(nice_steps(input(0.15)), [0.5, 1.0, 2.0]));
        assert!(close(nice_steps(input(0.01)), [0.01, 0.05, 0.1]));
        assert!(close(nice_steps(input(7.0)), [10.0, 50.0, 100.0]));
        // A finer step below the suggested size is not drawn.
        assert!(close(nice_steps(input(0.6)), [1.0, 1.0, 5.0]));
    }

    #[test]
    fn tick_labels_have_the_decimals_their_step_needs() {
        assert_eq!(tick_label(0.5, 0.5), "0.5");
        assert_eq!(tick_label(1.0, 0.5), "1.0");
        assert_eq!(tick_label(20.0, 10.0), "20");
        assert_eq!(tick_label(-0.25, 0.05), "−0.25");
        assert_eq!(tick_label(-1e-17, 0.2), "0.0");
    }

    #[test]
    fn the_sequential_scale_runs_from_dark_blue_to_yellow() {
        assert_eq!(palette::sequential(0, 10), Color32::from_rgb(68, 1, 84));
        assert_eq!(palette::sequential(9, 10), Color32::from_rgb(253, 231, 37));
        assert_eq!(palette::sequential(0, 1), Color32::from_rgb(68, 1, 84));
    }
}
