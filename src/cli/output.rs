use super::CliError;
use std::io::Write;
use std::path::Path;

/// Write to `--out FILE` (atomically, through a temporary file) or stdout.
pub fn emit(text: &str, out: Option<&Path>) -> Result<(), CliError> {
    match out {
        Some(path) => {
            let tmp = path.with_extension("tmp-leoma");
            std::fs::write(&tmp, text)
                .and_then(|_| std::fs::rename(&tmp, path))
                .map_err(|e| {
                    CliError::Input(format!("{}: cannot write output: {e}", path.display()))
                })
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
                .map_err(|e| CliError::Internal(format!("writing to stdout: {e}")))
        }
    }
}

pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    let mut s =
        serde_json::to_string_pretty(value).map_err(|e| CliError::Internal(e.to_string()))?;
    s.push('\n');
    Ok(s)
}
