//! The top of every tab: errors that stay until dismissed, then the lesson box — the preset
//! picker, what the experiment shows in plain words, what to look for, and the link and config
//! buttons.
use super::{Request, Shell};
use crate::experiment::presets;
use crate::recipe::Target;

/// Saves the whole window as a PNG, as the "PNG of this tab" button does.
pub const PNG_SHORTCUT: egui::KeyboardShortcut = egui::KeyboardShortcut::new(
    egui::Modifiers::COMMAND.plus(egui::Modifiers::SHIFT),
    egui::Key::S,
);

/// Ask for a PNG of the whole window, named after the tab shown.
pub fn request_tab_png(ctx: &egui::Context, shell: &Shell) {
    super::export::request(
        ctx,
        super::export::Export::Png {
            name: format!("rlhf-lab-{}.png", shell.tab),
            rect: None,
        },
    );
}

use super::plot_style::ERROR;

/// Each line of `lines` (prefixed, in `color`) with a button that dismisses it.
pub fn dismissable_ui(
    lines: &mut Vec<String>,
    prefix: &str,
    color: egui::Color32,
    ui: &mut egui::Ui,
) {
    let mut dismissed = None;
    for (i, line) in lines.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            if ui.small_button("×").on_hover_text("Dismiss").clicked() {
                dismissed = Some(i);
            }
            ui.colored_label(color, format!("{prefix}: {line}"));
        });
    }
    if let Some(i) = dismissed {
        lines.remove(i);
    }
}

/// The errors banner: each error with a button that dismisses it.
pub fn errors_ui(shell: &mut Shell, ui: &mut egui::Ui) {
    dismissable_ui(&mut shell.errors, "error", ERROR, ui);
}

/// The lesson box of tab `tab` (hidden with `hide=lesson`), after the errors banner.
pub fn lesson_ui(shell: &mut Shell, tab: &'static str, ui: &mut egui::Ui) {
    errors_ui(shell, ui);
    if shell.hides("lesson") {
        return;
    }
    let lessons = presets::of_tab(tab);
    let chosen = shell.presets.get(tab).cloned().unwrap_or(tab.to_string());
    let Some(lesson) = lessons
        .iter()
        .find(|p| p.name == chosen)
        .or(lessons.first())
    else {
        return;
    };
    ui.horizontal_wrapped(|ui| {
        ui.label("Lesson:");
        let editable = shell.settings_editable();
        ui.add_enabled_ui(editable, |ui| {
            egui::ComboBox::new(("lesson", tab), "")
                .selected_text(format!("{} ({})", lesson.title, lesson.figure))
                .show_ui(ui, |ui| {
                    for p in &lessons {
                        let text = format!("{} ({})", p.title, p.figure);
                        if ui.selectable_label(p.name == lesson.name, text).clicked() {
                            shell.request(Request::Preset(p.name.clone()));
                        }
                    }
                })
                .response
                .on_hover_text("Each lesson sets the data and the knobs for one idea (one figure of the paper); its paragraph says what to look for")
                .on_disabled_hover_text("Pause or reset the run to change the lesson");
        });
        link_buttons_ui(shell, ui);
    });
    // Open on a first visit; folded when a run starts, to make room for its charts.
    let id = ui.make_persistent_id(("about", tab));
    let mut about =
        egui::collapsing_header::CollapsingState::load_with_default_open(ui.ctx(), id, true);
    if std::mem::take(&mut shell.fold_lesson) {
        about.set_open(false);
    }
    about
        .show_header(ui, |ui| ui.label("What is this?"))
        .body(|ui| {
            ui.label(&lesson.about);
            ui.horizontal_wrapped(|ui| {
                ui.strong("Look for:");
                ui.label(&lesson.look_for);
            });
        });
    if !shell.hides("data") {
        let mut view = std::mem::take(&mut shell.data_view);
        super::data_view::data_ui(&mut view, shell, ui);
        shell.data_view = view;
    }
}

/// Copy link (browser), Open config (native) and Save config.
fn link_buttons_ui(shell: &mut Shell, ui: &mut egui::Ui) {
    if let Some(page) = &shell.page {
        let url = format!("{page}#{}", shell.last_link);
        if ui
            .button("Copy link")
            .on_hover_text("A link to this lesson with the settings as they are now")
            .clicked()
        {
            ui.ctx().copy_text(url);
            shell.notes.push("link copied".into());
        }
    } else if ui
        .button("Open config…")
        .on_hover_text("Load a run config (JSON, as saved here or by the command line); what it leaves out comes from its tab's lesson")
        .clicked()
    {
        shell.request(Request::OpenConfig);
    }
    if ui
        .button("PNG of this tab")
        .on_hover_text("Save the whole window as a picture (Ctrl+Shift+S)")
        .clicked()
    {
        request_tab_png(ui.ctx(), shell);
    }
    let report = shell.report.clone();
    if ui
        .add_enabled(report.is_some(), egui::Button::new("Save report…"))
        .on_hover_text(
            "The finished run's report (JSON), as the command line's report.json holds it",
        )
        .on_disabled_hover_text("A run's report is ready when it finishes")
        .clicked()
        && let Some(r) = report
    {
        super::export::request(
            ui.ctx(),
            super::export::Export::File {
                name: format!("{}-report.json", shell.tab),
                bytes: r.into_bytes(),
            },
        );
    }
    if ui
        .button("Save config…")
        .on_hover_text("The settings of this tab as a run config: `rlhf-lab gui --config FILE` and the command line's --config read it")
        .clicked()
    {
        shell.request(Request::SaveConfig);
    }
    take_further_ui(shell, ui);
}

/// "Take this run further": the finished run as a TRL or OpenRLHF recipe, as `rlhf-lab recipe`
/// writes it.
fn take_further_ui(shell: &mut Shell, ui: &mut egui::Ui) {
    let how = if shell.page.is_some() {
        "downloads a zip"
    } else {
        "writes a folder"
    };
    // One line: where the row has no room left, the button starts the next row rather than
    // folding its words (about 170 points wide in the default font).
    if ui.max_rect().right() - ui.cursor().left() < 180.0 {
        ui.end_row();
    }
    ui.add_enabled_ui(shell.report.is_some(), |ui| {
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        ui.menu_button("Take this run further…", |ui| {
            for (label, target, hint) in [
                (
                    "as a TRL recipe",
                    Target::Trl,
                    "The pairs (with their margins), reward-model and PPO scripts for TRL, MetaRM as a RewardTrainer subclass, and MAPPING.md: where every setting of this run went",
                ),
                (
                    "as an OpenRLHF recipe",
                    Target::Openrlhf,
                    "The pairs and the train_rm / train_ppo_ray command lines with every PPO-max switch OpenRLHF has, and MAPPING.md: where every setting of this run went",
                ),
            ] {
                if ui.button(label).on_hover_text(hint).clicked() {
                    shell.request(Request::Recipe(target));
                    ui.close();
                }
            }
        })
        .response
        .on_hover_text(format!(
            "For a GPU machine: this run as ready-to-run scripts and data ({how}; the command line's `rlhf-lab recipe` does the same)"
        ))
        .on_disabled_hover_text("A run can be taken further when it finishes");
    });
}
