//! Key bindings: one table drives both what a key does and what the help says.
