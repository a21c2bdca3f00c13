//! Shared by the command line's integration tests: the command, run from the repository root
//! (where its default weights are).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root, read when the test runs (see the core's test support for why).
pub fn repo_root() -> PathBuf {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
    Path::new(&manifest_dir).join("../..")
}

/// `headstart ARGS`, to run from the repository root.
pub fn headstart_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_headstart"));
    command.current_dir(repo_root()).args(args);
    command
}
