//! `wsmon report FILE`: the report of a recording, written next to it (or to `-o FILE`, or
//! to stdout with `-o -`); lines that cannot be read are named on stderr and skipped.

use std::process::ExitCode;

use crate::error::UsageError;
use crate::jsonl::Item;
use crate::report::{ReportBuilder, Source};

/// Skipped lines named one by one on stderr; the rest are counted.
const NAMED_SKIPS: u64 = 20;

/// Runs `wsmon report`.
pub(super) fn command(args: &crate::cli::ReportArgs) -> anyhow::Result<ExitCode> {
    crate::jsonl::check_recording(&args.file).map_err(|e| UsageError(e.to_string()))?;
    let reader = crate::jsonl::Reader::open(&args.file).map_err(|e| {
        UsageError(format!(
            "cannot open recording `{}`: {e}",
            args.file.display()
        ))
    })?;
    let mut builder = ReportBuilder::new(Default::default());
    let mut last = None;
    let mut skipped = 0;
    for item in reader {
        match item {
            Item::Header { header, .. } => builder.header = header,
            Item::Event { event, .. } => {
                last = Some(event.at);
                builder.apply(&event);
            }
            Item::Skipped { line, reason } => {
                skipped += 1;
                if skipped > NAMED_SKIPS {
                    continue;
                }
                eprintln!(
                    "wsmon: {}",
                    crate::text::sanitize(&format!(
                        "{}: {}",
                        args.file.display(),
                        crate::describe::warning(&crate::engine::Warning::SkippedLine {
                            line,
                            reason
                        })
                    ))
                );
            }
        }
    }
    if skipped > NAMED_SKIPS {
        eprintln!(
            "wsmon: {}: {} more lines skipped",
            crate::text::sanitize(&args.file.display().to_string()),
            skipped - NAMED_SKIPS
        );
    }
    let Some(end) = last else {
        return Err(UsageError(format!(
            "`{}` holds no events: it is not a wsmon recording (make one with --record FILE, or F6 in the dashboard)",
            args.file.display()
        ))
        .into());
    };
    let html = args.html
        || args
            .output
            .as_ref()
            .and_then(|o| o.extension())
            .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
    let tail = builder.kept_tail();
    let doc = builder.document(
        end,
        Source::Recording(&args.file, skipped),
        args.payloads.then_some(&tail[..]),
    );
    let text = if html {
        crate::report::html(&doc)
    } else {
        crate::report::markdown(&doc)
    };
    let out = args.output.clone().unwrap_or_else(|| {
        let mut p = args.file.clone().into_os_string();
        p.push(if html { ".report.html" } else { ".report.md" });
        p.into()
    });
    if out.as_os_str() == "-" {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        // A reader that went away (`| head`) is not an error.
        let _ = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush());
    } else {
        crate::paths::write_private(&out, text.as_bytes()).map_err(|e| {
            let said = format!("cannot write {}: {e}", out.display());
            // A path the user can fix (a link, a missing directory, no permission) is theirs
            // to change: exit 2 like any bad argument; a full disk is not.
            match e.kind() {
                std::io::ErrorKind::InvalidInput
                | std::io::ErrorKind::NotFound
                | std::io::ErrorKind::PermissionDenied
                | std::io::ErrorKind::IsADirectory => anyhow::Error::from(UsageError(said)),
                _ => anyhow::anyhow!(said),
            }
        })?;
        println!("{}", crate::text::sanitize(&out.display().to_string()));
    }
    Ok(ExitCode::SUCCESS)
}
