//! The `migraph` binary. All logic lives in the library and in `cli`.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
