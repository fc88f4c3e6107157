//! The files a package installs beside the binary, made from the command line's own clap
//! definitions so they can never disagree with `--help`: manual pages (`clap_mangen`: one for
//! `tomskype`, one per visible sub-command, as `git` has) and shell completions
//! (`clap_complete`: bash, zsh, fish, PowerShell). Written by the hidden
//! `tomskype generate --out DIR`, which `ci/deb.sh` and the release workflow call; nothing else
//! here runs at analysis time.

use std::fs;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Writes the manual pages and completions into `dir` and returns the paths written.
pub fn write_all(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    clap_mangen::generate_to(Cli::command(), dir)?;
    let mut written = man_pages(dir)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
        let mut cmd = visible(Cli::command());
        written.push(clap_complete::generate_to(
            shell, &mut cmd, "tomskype", dir,
        )?);
    }
    Ok(written)
}

/// `cli` with its visible sub-commands only, for the completions: `clap_complete` (4.6) writes
/// hidden sub-commands into the bash, zsh and fish scripts too, and `generate` is for packagers,
/// not for a person pressing Tab. The top level has nothing else to complete but its own flags.
fn visible(cli: clap::Command) -> clap::Command {
    let shown: Vec<clap::Command> = cli
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .cloned()
        .collect();
    let flags: Vec<clap::Arg> = cli.get_arguments().cloned().collect();
    clap::Command::new("tomskype")
        .version(env!("CARGO_PKG_VERSION"))
        .args(flags)
        .subcommands(shown)
}

/// The `*.1` files in `dir`, sorted (those just written, in a fresh folder).
fn man_pages(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut pages: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "1"))
        .collect();
    pages.sort();
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_man_pages_and_completions_from_the_cli() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_all(dir.path()).unwrap();
        let names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for want in [
            "tomskype.1",
            "tomskype-analyze.1",
            "tomskype-live.1",
            "tomskype.bash",
            "_tomskype",
            "tomskype.fish",
            "_tomskype.ps1",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
        // Hidden sub-commands get no page.
        assert!(!names
            .iter()
            .any(|n| n.contains("generate") || n.contains("samples")));
        let man = fs::read_to_string(dir.path().join("tomskype-live.1")).unwrap();
        assert!(
            man.contains(".TH tomskype-live 1") && man.contains("duration"),
            "{man}"
        );
        let bash = fs::read_to_string(dir.path().join("tomskype.bash")).unwrap();
        assert!(bash.contains("analyze") && bash.contains("--geoip-db"));
        let fish = fs::read_to_string(dir.path().join("tomskype.fish")).unwrap();
        assert!(fish.contains("complete -c tomskype") && fish.contains("\"live\""));
        // No shell is offered the hidden sub-command.
        for script in [
            "tomskype.bash",
            "_tomskype",
            "tomskype.fish",
            "_tomskype.ps1",
        ] {
            let text = fs::read_to_string(dir.path().join(script)).unwrap();
            assert!(text.contains("lookup"), "{script}");
            assert!(!text.contains("generate"), "{script} offers `generate`");
        }
    }
}
