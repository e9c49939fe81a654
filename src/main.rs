use std::process::ExitCode;

fn main() -> ExitCode {
    match appsync_local::cli::run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
