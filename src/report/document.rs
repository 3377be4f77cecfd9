//! The report as a typed document: the builder decides what is said, two small renderers
//! (Markdown, HTML) decide how it looks. Text in a block is plain text; each renderer escapes
//! it for its format.

use std::time::SystemTime;

use crate::model::Seen;

/// A whole report.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// The verdict in one line.
    pub title: String,
    /// Everything after it, in order.
    pub blocks: Vec<Block>,
}

/// One part of a report.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A section heading (2 or 3).
    Heading(u8, String),
    /// A paragraph.
    Text(String),
    /// Names and values, aligned: the block to paste into a ticket.
    Fields(Vec<(&'static str, String)>),
    /// A table.
    Table {
        /// Column headings.
        head: Vec<&'static str>,
        /// Rows of cells.
        rows: Vec<Vec<String>>,
    },
    /// A list.
    List(Vec<String>),
    /// Preformatted text (an HTTP answer, a message tail).
    Pre(String),
    /// A drawing; only the HTML page has it.
    Chart(Chart),
}

/// What the HTML page draws.
#[derive(Clone, Debug, PartialEq)]
pub enum Chart {
    /// Up, down and not probed over the window, with the drops marked.
    Availability {
        /// The window.
        from: SystemTime,
        /// Its end.
        to: SystemTime,
        /// Stretches and what they were, with words for a tooltip.
        spans: Vec<(SystemTime, SystemTime, Seen, String)>,
        /// Drops, with words for a tooltip.
        drops: Vec<(SystemTime, String)>,
    },
    /// Round-trip times over the window.
    Rtt {
        /// The window.
        from: SystemTime,
        /// Its end.
        to: SystemTime,
        /// Samples: when, and milliseconds.
        points: Vec<(SystemTime, f64)>,
    },
}
