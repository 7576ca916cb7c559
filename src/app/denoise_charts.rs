//! The charts of the denoising tab: each method's final accuracy (the mean over its seeds, with
//! earlier runs' means as dots), the validation curves of every run (Fig 8), and the tables.
use egui_plot::{Bar, BarChart, HLine, Line, PlotPoints, Points};

use super::compare::Compare;
use super::denoise_view::DenoiseView;
use super::plot_style::{self, BarTip, palette};
use crate::experiment::denoise::Method;

/// A stable colour per method.
pub fn method_color(m: Method) -> egui::Color32 {
    match m {
        Method::Baseline => palette::GREY,
        Method::Flip => palette::BLUE,
        Method::Smooth => palette::ORANGE,
        Method::Margin => palette::GREEN,
        Method::FlipMargin => palette::SKY,
        Method::SmoothMargin => palette::PURPLE,
        Method::Oracle => palette::YELLOW,
    }
}

fn method_of(label: &str) -> Option<Method> {
    let name = label.split(" · ").next()?;
    Method::ALL.into_iter().find(|m| m.name() == name)
}

/// Each method's mean validation accuracy over its seeds, in the order of [`Method::ALL`].
pub(super) fn means(view: &DenoiseView) -> Vec<(Method, f64)> {
    let mut out: Vec<(Method, f64)> = view
        .by_method()
        .into_iter()
        .map(|(m, accs)| {
            let mean = accs.iter().map(|&a| f64::from(a)).sum::<f64>() / accs.len().max(1) as f64;
            (m, mean)
        })
        .collect();
    out.sort_by_key(|(m, _)| Method::ALL.iter().position(|x| x == m));
    out
}

/// One bar per method (the mean over its seeds), earlier runs' means as dots beside them.
pub(super) fn methods_chart_ui(
    view: &DenoiseView,
    earlier: &Compare<Vec<(Method, f64)>>,
    ui: &mut egui::Ui,
    height: f32,
) {
    let by_method = view.by_method();
    let means = means(view);
    let shown = earlier.shown();
    // The methods on the axis: this run's and the earlier runs' shown.
    let methods: Vec<Method> = Method::ALL
        .into_iter()
        .filter(|m| {
            means.iter().any(|(x, _)| x == m)
                || shown
                    .iter()
                    .any(|(r, _)| r.data.iter().any(|(x, _)| x == m))
        })
        .collect();
    let x_of = |m: Method| methods.iter().position(|x| *x == m).unwrap_or(0) as f64;
    let target = view
        .report
        .as_ref()
        .map_or("validation", |r| r.validation_target.as_str());
    let csv = || {
        let mut out = String::from("run,method,seed,validation_accuracy\n");
        for (m, accs) in &by_method {
            for (seed, a) in accs.iter().enumerate() {
                out.push_str(&format!("this run,{},{seed},{a}\n", m.name()));
            }
        }
        for r in &earlier.runs {
            for (m, a) in &r.data {
                out.push_str(&format!(
                    "{},{},mean,{a}\n",
                    r.label.replace(',', ";"),
                    m.name()
                ));
            }
        }
        out
    };
    plot_style::chart_title_ui(
        ui,
        &format!("Final validation accuracy per method (against {target})"),
        "Each bar is one denoising method: the mean, over its seeds, of the validation accuracy of the reward model it trained. The axis is zoomed to the bars so small differences show; the grey line is the baseline (plain loss on the noisy labels). Dots: the same means in earlier runs, when ticked. Hover a bar for each seed.",
        &["dn_methods"],
        &csv,
    );
    let mut tips = Vec::new();
    let bars: Vec<Bar> = by_method
        .iter()
        .map(|(m, accs)| {
            let x = x_of(*m);
            let mean = accs.iter().sum::<f32>() / accs.len().max(1) as f32;
            let seeds: Vec<String> = accs.iter().map(|a| format!("{a:.4}")).collect();
            tips.push(BarTip {
                x,
                width: 0.7,
                text: format!(
                    "{}: mean {mean:.4} over {} seed(s): {}",
                    m.name(),
                    accs.len(),
                    seeds.join(", ")
                ),
            });
            Bar::new(x, f64::from(mean))
                .width(0.7)
                .fill(method_color(*m))
        })
        .collect();
    let baseline = means
        .iter()
        .find(|(m, _)| *m == Method::Baseline)
        .map(|(_, a)| *a);
    let names: Vec<&'static str> = methods.iter().map(|m| m.name()).collect();
    let values = bars.iter().map(|b| b.value).chain(
        shown
            .iter()
            .flat_map(|(r, _)| r.data.iter().map(|(_, a)| *a)),
    );
    let range = plot_style::fitted(values, 0.15, 0.02);
    let mut entries: Vec<(&str, egui::Color32)> = means
        .iter()
        .map(|(m, _)| (m.name(), method_color(*m)))
        .collect();
    if baseline.is_some() {
        entries.push(("baseline mean", palette::GREY));
    }
    entries.extend(shown.iter().map(|(r, c)| (r.label.as_str(), *c)));
    plot_style::legend_ui(ui, &entries);
    let chart = plot_style::plot("dn_methods", height, "method", "validation accuracy")
        .x_axis_formatter(move |mark, _| {
            let i = mark.value.round();
            if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                names
                    .get(i as usize)
                    .map_or(String::new(), |s| s.to_string())
            } else {
                String::new()
            }
        });
    let response = chart.show(ui, |p| {
        // The y axis zoomed to the bars (their bases at 0 would squash the differences).
        if let Some([lo, hi]) = range {
            p.set_plot_bounds_y(lo..=hi.min(1.0).max(lo + 0.01));
        }
        p.bar_chart(
            BarChart::new("methods", bars).element_formatter(Box::new(|_, _| String::new())),
        );
        if let Some(b) = baseline {
            p.hline(
                HLine::new("baseline mean", b)
                    .color(palette::GREY)
                    .width(1.5),
            );
        }
        let n = shown.len().max(1) as f64;
        for (k, (run, c)) in shown.iter().enumerate() {
            // Spread the runs' dots across the bar, oldest left.
            let offset = (k as f64 + 0.5) / n * 0.6 - 0.3;
            let pts: Vec<[f64; 2]> = run
                .data
                .iter()
                .filter(|(m, _)| methods.contains(m))
                .map(|(m, a)| [x_of(*m) + offset, *a])
                .collect();
            p.points(
                Points::new(run.label.clone(), PlotPoints::from(pts))
                    .radius(4.0)
                    .shape(egui_plot::MarkerShape::Diamond)
                    .color(*c),
            );
        }
        p.pointer_coordinate()
    });
    plot_style::bar_tooltip(&response.response, response.inner, &tips);
}

/// Validation accuracy over training, one line per run of a method and seed (Fig 8).
pub(super) fn curves_chart_ui(view: &DenoiseView, ui: &mut egui::Ui, height: f32) {
    let csv = || {
        let series: Vec<(&str, &[[f64; 2]])> = view
            .live
            .iter()
            .map(|(l, p)| (l.as_str(), p.as_slice()))
            .collect();
        super::export::series_csv("step", "validation accuracy", &series)
    };
    plot_style::chart_title_ui(
        ui,
        "Validation accuracy over training steps, one line per run",
        "Each line is one reward model (one method, one seed) checked on the validation pairs as it trains. The paper's Fig 8: on noisy labels the baseline peaks and then declines as it learns the noise, while the denoised runs stay stable.",
        &["dn_curves"],
        &csv,
    );
    let methods_seen: Vec<Method> = Method::ALL
        .into_iter()
        .filter(|m| view.live.iter().any(|(l, _)| method_of(l) == Some(*m)))
        .collect();
    let entries: Vec<(&str, egui::Color32)> = methods_seen
        .iter()
        .map(|m| (m.name(), method_color(*m)))
        .collect();
    plot_style::legend_ui(ui, &entries);
    plot_style::plot("dn_curves", height, "training step", "validation accuracy")
        .include_y(0.5)
        .include_y(1.0)
        .show(ui, |p| {
            for (label, pts) in &view.live {
                let color = method_of(label).map_or(palette::GREY, method_color);
                p.line(Line::new(label.clone(), PlotPoints::from(pts.clone())).color(color));
            }
        });
}

/// The summary per method, and the means of this run beside the earlier runs'.
pub(super) fn tables_ui(
    view: &DenoiseView,
    earlier: &Compare<Vec<(Method, f64)>>,
    ui: &mut egui::Ui,
) {
    let Some(r) = &view.report else {
        return;
    };
    ui.label(format!(
        "{} training pairs per run · fraction with μ < 0: {}",
        r.train_pairs,
        r.frac_mu_negative
            .map_or("n/a".into(), |f| format!("{f:.3}"))
    ));
    ui.columns(2, |cols| {
        egui::Grid::new("dn_table")
            .striped(true)
            .show(&mut cols[0], |ui| {
                for h in [
                    "method",
                    "mean accuracy",
                    "std",
                    "seeds",
                    "final train loss",
                ] {
                    ui.strong(h);
                }
                ui.end_row();
                for s in &r.summary {
                    ui.colored_label(method_color(s.method), s.method.name());
                    ui.label(format!("{:.4}", s.mean_accuracy));
                    ui.label(format!("{:.4}", s.std_accuracy));
                    ui.label(s.seeds.to_string());
                    ui.label(
                        s.mean_train_loss
                            .map_or("n/a".into(), |l| format!("{l:.4}")),
                    );
                    ui.end_row();
                }
            });
        if earlier.runs.is_empty() {
            return;
        }
        let means = means(view);
        let methods: Vec<Method> = means.iter().map(|(m, _)| *m).collect();
        egui::Grid::new("dn_earlier")
            .striped(true)
            .show(&mut cols[1], |ui| {
                ui.strong("mean accuracy");
                for m in &methods {
                    ui.strong(m.name());
                }
                ui.end_row();
                let rows = earlier
                    .runs
                    .iter()
                    .map(|r| (r.label.as_str(), r.data.as_slice()))
                    .chain([(earlier.current.as_str(), means.as_slice())]);
                for (label, data) in rows {
                    ui.label(label);
                    for m in &methods {
                        let a = data.iter().find(|(x, _)| x == m).map(|(_, a)| *a);
                        ui.label(a.map_or("–".into(), |a| format!("{a:.4}")));
                    }
                    ui.end_row();
                }
            });
    });
}
