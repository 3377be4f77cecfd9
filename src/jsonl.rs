//! JSON lines: the headless output and the recording format. `schema` is the one definition
//! of a line (serde types, used to decode); `encode` writes the same lines fast; `read` is the
//! one reader of recordings.

pub mod encode;
mod fields;
#[cfg(test)]
mod from_event;
mod header;
pub mod read;
pub mod schema;

pub use encode::{Encoder, push_str};
pub use read::{Item, NotRecording, Reader, check_recording};
pub use schema::{Line, RecordHeader, decode};

#[cfg(test)]
mod tests;
