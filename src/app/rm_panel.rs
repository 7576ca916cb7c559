//! The reward-model panel: settings, run controls, progress and live charts.
use super::{RlhfApp, Tab, charts, panel_common};

fn status(app: &RlhfApp) -> String {
    let total = match app.history.total_steps {
        0 if app.config.steps > 0 => app.config.steps.to_string(),
        0 => "…".to_string(),
        n => n.to_string(),
    };
    let mut s = format!("step {} / {total}", app.history.step);
    if let Some(acc) = app.history.latest_validation_accuracy() {
        s.push_str(&format!(" · validation accuracy {acc:.3}"));
    }
    s
}

/// The central panel of the reward-model tab.
pub fn rm_panel_ui(app: &mut RlhfApp, ui: &mut egui::Ui) {
    {
        ui.heading("Reward model training");
        let (fraction, status) = if app.run_tab == Tab::Rm {
            (app.history.progress(), status(app))
        } else {
            (0.0, String::new())
        };
        panel_common::banners_ui(app, ui);
        panel_common::controls_ui(app, ui, fraction, &status);
        super::model_io::model_io_ui(app, ui);
        ui.separator();
        let h = ((ui.available_height() - 40.0) / 3.0).max(80.0);
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.label("Training loss");
            charts::loss_chart_ui(&app.history, ui, h);
            ui.label("Accuracy");
            charts::accuracy_chart_ui(&app.history, ui, h);
            ui.label("Validation rewards: chosen vs rejected");
            charts::reward_histogram_ui(&app.history, ui, h);
            ui.label(
                "Held-out features, first two principal components: chosen vs rejected (previous run | this run)",
            );
            ui.columns(2, |cols| {
                charts::feature_scatter_ui(app.previous_features.as_ref(), &mut cols[0], "prev", h);
                charts::feature_scatter_ui(app.history.features.as_ref(), &mut cols[1], "this", h);
            });
        });
    }
}
