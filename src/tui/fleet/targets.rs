//! A fleet whose endpoints come from a targets file: dashboards added for new targets, rows
//! dropped for removed ones, and a notice of each reading.

use super::FleetApp;
use crate::session::{SessionOptions, TargetsChange, TargetsStatus};
use crate::tui::app::{App, UiOptions};
use crate::tui::log::Level;

/// What a fleet fed by a targets file keeps of it.
#[derive(Clone, Debug)]
pub struct Watched {
    /// How a new endpoint's dashboard is set up.
    pub template: SessionOptions,
    /// How the file stands.
    pub status: TargetsStatus,
}

impl FleetApp {
    /// A reading of the targets file: dashboards for the new endpoints (in id order, as the
    /// session numbered them), the removed ones dropped, labels brought up to date, and a
    /// notice saying what changed or why the file was refused.
    pub(crate) fn targets_changed(&mut self, change: &TargetsChange) {
        let Some(watched) = self.targets.as_mut() else {
            return;
        };
        watched.status = change.status.clone();
        let template = watched.template.clone();
        let live = self.watched().count() + change.added.len();
        for (id, e) in &change.added {
            debug_assert_eq!(*id, self.apps.len());
            // As a fleet's dashboard, whatever the count: it has a name and shares the log.
            let mut app = App::new(UiOptions::live(&template, e, live.max(2), false));
            app.now = self.now;
            self.apps.push(app);
            self.p50.push(None);
            self.gone.push(false);
        }
        for id in &change.removed {
            let Some(gone) = self.gone.get_mut(*id) else {
                continue;
            };
            *gone = true;
            if self.drilled == Some(*id) {
                self.drilled = None;
            }
            // What it kept goes: a small dashboard stands in its slot.
            let mut opts = self.apps[*id].opts.clone();
            opts.log_capacity = 1;
            opts.log_max_bytes = 1;
            self.apps[*id] = App::new(opts);
        }
        for (id, labels) in &change.relabelled {
            if let Some(app) = self.apps.get_mut(*id) {
                app.opts.labels = crate::tui::app::labels_text(labels);
            }
        }
        if self.gone.get(self.selected).copied().unwrap_or(true) {
            self.placed = false;
        }
        let said = crate::describe::targets_read(
            &change.status,
            change.added.len(),
            change.removed.len(),
            change.relabelled.len(),
        );
        let level = if change.status.ok {
            Level::Info
        } else {
            Level::Warn
        };
        self.say(level, said);
    }
}
