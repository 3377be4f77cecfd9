//! The wsmon binary; everything lives in the library so tests drive the same code.

fn main() -> std::process::ExitCode {
    wsmon::app::keep_freed_memory();
    wsmon::app::main_entry()
}
