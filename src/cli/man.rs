//! `migraph man`: the manual page, in roff, generated from the same clap
//! definition as `--help` (so the two cannot disagree).

use clap::CommandFactory;

use super::{Cli, CliError, Result};

/// The man page of `migraph` and its subcommands, as roff text for
/// `man -l -` or a file under `man1/`.
pub fn man() -> Result<String> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| CliError::new(format!("cannot write the man page: {e}")))?;
    String::from_utf8(page).map_err(|e| CliError::new(format!("the man page is not UTF-8: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_man_page_names_every_subcommand() {
        let page = super::man().expect("man page");
        assert!(page.starts_with(".ie"), "roff text: {}", &page[..40.min(page.len())]);
        assert!(page.contains(".TH migraph 1"), "{page}");
        for verb in ["upgrade", "downgrade", "migrate", "stamp", "completions", "man"] {
            assert!(page.contains(&format!("migraph\\-{verb}")) || page.contains(verb), "{verb} missing");
        }
    }
}
