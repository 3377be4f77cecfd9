//! Owning the terminal: raw mode, the alternate screen, mouse and paste; and giving it back on
//! every way out (return, `?`, panic, a stop signal).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use ratatui::crossterm::execute;

use crate::error::UsageError;

/// Whether wsmon has the terminal in raw mode on the alternate screen right now.
static TERMINAL_OWNED: AtomicBool = AtomicBool::new(false);

/// Gives the terminal back, once: a second "leave the alternate screen" would restore the
/// cursor to where it was on entry and print over whatever came since (a panic message).
fn restore_terminal() {
    if TERMINAL_OWNED.swap(false, Ordering::SeqCst) {
        let _ = execute!(
            std::io::stdout(),
            DisableMouseCapture,
            DisableBracketedPaste
        );
        ratatui::restore();
    }
}

/// Turns the terminal's mouse reporting on (the wheel scrolls the log) or off (the terminal
/// selects text as usual).
pub(crate) fn set_mouse(on: bool) -> std::io::Result<()> {
    if on {
        execute!(std::io::stdout(), EnableMouseCapture)
    } else {
        execute!(std::io::stdout(), DisableMouseCapture)
    }
}

/// Restores the terminal when dropped, so every exit path (return, `?`, panic unwinding)
/// leaves a usable shell; a panic hook restores it before the panic message is printed.
pub(crate) struct TerminalGuard;

impl TerminalGuard {
    /// Takes the terminal: raw mode, the alternate screen, bracketed paste, and the mouse
    /// when `mouse` (off, the terminal keeps selecting text).
    pub(crate) fn enter(mouse: bool) -> anyhow::Result<(TerminalGuard, DefaultTerminal)> {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                // An engine's panic is its endpoint's alone: the dashboard goes on drawing
                // (the engine reports it as an event), so the terminal stays and nothing is
                // printed over the screen; the log has it.
                if crate::engine::in_engine() {
                    tracing::error!(panic = %info, "an engine panicked");
                    return;
                }
                restore_terminal();
                previous(info);
            }));
        });
        ratatui::crossterm::terminal::enable_raw_mode()?;
        TERMINAL_OWNED.store(true, Ordering::SeqCst);
        let guard = TerminalGuard;
        execute!(
            std::io::stdout(),
            ratatui::crossterm::terminal::EnterAlternateScreen,
            EnableBracketedPaste
        )?;
        if mouse {
            set_mouse(true)?;
        }
        let terminal =
            ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
        Ok((guard, terminal))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// The dashboard needs a terminal on both stdin and stdout.
pub fn check() -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "the dashboard needs a terminal, and stdin/stdout are redirected: use --headless for JSON lines (wsmon --headless URL | jq .)"
                .into(),
        )
        .into());
    }
    Ok(())
}
