//! `$util.http`: request-header forwarding and response headers.

use super::{Call, CallError, void};
use crate::vtl::runtime::{RenderState, TemplateError};
use crate::vtl::value::{Map, Value};

/// Headers `copyHeaders` drops: hop-by-hop headers (RFC 9110) and those the
/// HTTP data source sets itself. The DG names only "the restricted set".
const RESTRICTED_REQUEST_HEADERS: &[&str] = &[
    "connection",
    "content-length",
    "expect",
    "host",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// AppSync's limit on the total size of the headers a response adds.
const RESPONSE_HEADERS_LIMIT: usize = 4096;

pub(super) fn call(host: &mut RenderState<'_>, c: &Call) -> Result<Value, CallError> {
    match c.method {
        "copyHeaders" => {
            let sig = "copyHeaders(Map)";
            c.arity(1, 1, sig)?;
            let headers = c.map(0, sig)?;
            let kept: Map = headers
                .into_iter()
                .filter(|(k, _)| {
                    !RESTRICTED_REQUEST_HEADERS.contains(&k.to_ascii_lowercase().as_str())
                })
                .collect();
            Ok(Value::map(kept))
        }
        "addResponseHeader" => {
            let sig = "addResponseHeader(String, Object)";
            c.arity(2, 2, sig)?;
            let name = c.str(0, sig)?;
            check_response_header(host, name, &c.arg(1).to_string());
            void()
        }
        "addResponseHeaders" => {
            let sig = "addResponseHeaders(Map)";
            c.arity(1, 1, sig)?;
            for (name, value) in c.map(0, sig)? {
                check_response_header(host, &name, &value.to_string());
            }
            void()
        }
        _ => Err(CallError::NoSuchMethod),
    }
}

/// Validates a response header as AppSync does: a forbidden name or an
/// oversized header adds a `ResponseHeaderError` and does not stop the render.
/// Valid headers are accepted but not yet delivered: the render's `Host` has
/// no slot for response headers.
fn check_response_header(host: &mut RenderState<'_>, name: &str, value: &str) {
    let lower = name.to_ascii_lowercase();
    let forbidden = lower.starts_with("access-control-")
        || lower.starts_with("x-amz-")
        || lower.starts_with("x-amzn-")
        || matches!(lower.as_str(), "vary" | "content-type")
        || RESTRICTED_REQUEST_HEADERS.contains(&lower.as_str());
    let message = if name.is_empty() {
        Some("Response header name must not be empty.".to_owned())
    } else if forbidden {
        Some(format!("Response header '{name}' is not allowed."))
    } else if name.len() + value.len() > RESPONSE_HEADERS_LIMIT {
        Some(format!(
            "Response header '{name}' exceeds the {RESPONSE_HEADERS_LIMIT} bytes limit."
        ))
    } else {
        None
    };
    if let Some(message) = message {
        host.appended_errors
            .push(TemplateError::new(message, Some("ResponseHeaderError")));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{NOW, check, run, show};
    use crate::vtl::runtime::{Host, RenderState};

    #[test]
    fn copy_headers_drops_restricted_ones() {
        check(
            "util.http",
            "copyHeaders",
            r#"[{"Host":"x","authorization":"t","Content-Length":"3","x-custom":["a","b"],"Connection":"close"}]"#,
            r#"{"authorization":"t","x-custom":["a","b"]}"#,
        );
        check(
            "util.http",
            "copyHeaders",
            "[1]",
            "!Invalid: Invalid arguments for $util.http.copyHeaders(Number): expected copyHeaders(Map)",
        );
    }

    #[test]
    fn response_headers_are_validated() {
        let mut host = Host::seeded(NOW, 0);
        let mut host = RenderState::new(&mut host);
        let long = "v".repeat(5000);
        let calls = [
            ("addResponseHeader", r#"["X-Request-Id", "abc"]"#.to_owned()),
            (
                "addResponseHeader",
                r#"["Content-Type", "text/plain"]"#.to_owned(),
            ),
            ("addResponseHeader", format!(r#"["X-Big", "{long}"]"#)),
            (
                "addResponseHeaders",
                r#"[{"x-ok":1,"Access-Control-Allow-Origin":"*","X-Amz-Date":"d"}]"#.to_owned(),
            ),
        ];
        for (method, args) in &calls {
            assert_eq!(show(&run(&mut host, "util.http", method, args)), r#""""#);
        }
        let errors: Vec<String> = host
            .appended_errors
            .iter()
            .map(|e| format!("{} {}", e.error_type.as_deref().unwrap_or("-"), e.message))
            .collect();
        assert_eq!(
            errors,
            [
                "ResponseHeaderError Response header 'Content-Type' is not allowed.",
                "ResponseHeaderError Response header 'X-Big' exceeds the 4096 bytes limit.",
                "ResponseHeaderError Response header 'Access-Control-Allow-Origin' is not allowed.",
                "ResponseHeaderError Response header 'X-Amz-Date' is not allowed.",
            ]
        );
    }
}
