//! Colors on a terminal, for decorations only: `error:`, `warning:`,
//! `hint:`, the `up`/`down` verbs of progress lines, head IDs, and the
//! `FAILED:`/`drift:` labels of `status`. JSON, `--sql` scripts and output
//! that is not a terminal are never colored (unless `--color always` or
//! `CLICOLOR_FORCE` asks for it, for the output that can be colored).

use std::ffi::OsString;
use std::io::IsTerminal;

use anstyle::{AnsiColor, Style as Look};
use clap::ValueEnum;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ColorWhen {
    // Color a stream when it is a terminal, unless NO_COLOR is set
    #[default]
    Auto,
    // Always color (decorations only; never JSON or SQL)
    Always,
    // Never color
    Never,
}

/// What a piece of text is, and so its color.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `error:`: bold red.
    Error,
    /// `warning:`: bold yellow.
    Warning,
    /// `hint:`: cyan.
    Hint,
    /// The `up` verb: green.
    Up,
    /// The `down` verb: yellow.
    Down,
    /// A head's ID: bold.
    Head,
    /// `FAILED:` and `drift:` in `status`: red.
    Alert,
}

impl Style {
    /// Its look, as `anstyle` (the crate clap colors its help with).
    fn look(self) -> Look {
        let fg = |color: AnsiColor| Look::new().fg_color(Some(color.into()));
        match self {
            Style::Error => fg(AnsiColor::Red).bold(),
            Style::Warning => fg(AnsiColor::Yellow).bold(),
            Style::Hint => fg(AnsiColor::Cyan),
            Style::Up => fg(AnsiColor::Green),
            Style::Down => fg(AnsiColor::Yellow),
            Style::Head => Look::new().bold(),
            Style::Alert => fg(AnsiColor::Red),
        }
    }

    /// The style of a plan step's direction.
    pub fn of(direction: migraph::Direction) -> Style {
        match direction {
            migraph::Direction::Up => Style::Up,
            migraph::Direction::Down => Style::Down,
        }
    }
}

/// Whether one output stream gets colors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Paint {
    pub on: bool,
}

impl Paint {
    /// For stdout.
    pub fn stdout(when: ColorWhen) -> Paint {
        Paint { on: decide(when, std::io::stdout().is_terminal(), |name| std::env::var_os(name)) }
    }

    /// For stderr.
    pub fn stderr(when: ColorWhen) -> Paint {
        Paint { on: decide(when, std::io::stderr().is_terminal(), |name| std::env::var_os(name)) }
    }

    /// `text` in `style`, or `text` itself when colors are off.
    pub fn paint(self, style: Style, text: &str) -> String {
        if self.on && !text.is_empty() {
            let look = style.look();
            format!("{look}{text}{look:#}")
        } else {
            text.to_string()
        }
    }
}

/// `--color always|never` decide alone; `auto` follows the environment
/// (NO_COLOR, then CLICOLOR_FORCE, then CLICOLOR=0 and TERM=dumb), then
/// whether the stream is a terminal.
fn decide(when: ColorWhen, terminal: bool, var: impl Fn(&str) -> Option<OsString>) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto if set("NO_COLOR") => false,
        ColorWhen::Auto if var("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") => true,
        ColorWhen::Auto if var("CLICOLOR").is_some_and(|v| v == "0") => false,
        ColorWhen::Auto if var("TERM").is_some_and(|v| v == "dumb") => false,
        ColorWhen::Auto => terminal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| OsString::from(v))
    }

    #[test]
    fn when_to_color() {
        assert!(decide(ColorWhen::Auto, true, env(&[])));
        assert!(!decide(ColorWhen::Auto, false, env(&[])));
        assert!(!decide(ColorWhen::Auto, true, env(&[("NO_COLOR", "1")])));
        assert!(decide(ColorWhen::Auto, true, env(&[("NO_COLOR", "")])), "an empty NO_COLOR is unset");
        assert!(decide(ColorWhen::Auto, false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!decide(ColorWhen::Auto, false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(!decide(ColorWhen::Auto, true, env(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")])));
        assert!(!decide(ColorWhen::Auto, true, env(&[("CLICOLOR", "0")])));
        assert!(!decide(ColorWhen::Auto, true, env(&[("TERM", "dumb")])));
        assert!(decide(ColorWhen::Always, false, env(&[("NO_COLOR", "1")])));
        assert!(!decide(ColorWhen::Never, true, env(&[("CLICOLOR_FORCE", "1")])));
    }

    #[test]
    fn painting() {
        assert_eq!(Paint { on: false }.paint(Style::Error, "error:"), "error:");
        assert_eq!(Paint { on: true }.paint(Style::Error, "error:"), "\x1b[1m\x1b[31merror:\x1b[0m");
        assert_eq!(Paint { on: true }.paint(Style::Up, "up"), "\x1b[32mup\x1b[0m");
        assert_eq!(Paint { on: true }.paint(Style::Head, ""), "");
    }
}
